import numpy as np
import pytest

import longtrack
from longtrack.contract import BaseTracker, Prediction, as_rgb, validate_box
from longtrack.errors import LongtrackError


def test_prediction_normalises_types():
    p = Prediction(np.array([1, 2, 3, 4]), np.float32(0.5), np.bool_(True))
    assert p.box == (1.0, 2.0, 3.0, 4.0) and isinstance(p.score, float) and p.present is True


@pytest.mark.parametrize("frame", [np.zeros((5, 6), np.uint8), np.zeros((5, 6, 1), np.uint8),
                                   np.zeros((5, 6, 4), np.uint8), np.zeros((5, 6, 3), np.float32)])
def test_as_rgb_converts_gray_and_rgba(frame):
    out = as_rgb(frame)
    assert out.shape == (5, 6, 3) and out.dtype == np.uint8


def test_as_rgb_rejects_nonsense():
    with pytest.raises(LongtrackError):
        as_rgb(np.zeros((5, 6, 2), np.uint8))


@pytest.mark.parametrize("box", [(0, 0, 0, 5), (0, 0, 5, -1), (np.nan, 0, 5, 5), (0, 0, 5), "abc",
                                 (200, 10, 5, 5), (-20, -20, 5, 5)])
def test_validate_box_rejects_bad_boxes(box):
    with pytest.raises(LongtrackError):
        validate_box(box, (100, 100, 3))


def test_validate_box_accepts_partly_outside():
    assert validate_box((-5, -5, 10, 10), (100, 100, 3)) == (-5.0, -5.0, 10.0, 10.0)


class _Still(BaseTracker):
    def _initialize(self, frame, box):
        self.box = box

    def _track(self, frame):
        return Prediction(self.box, 1.0, True)


def test_base_tracker_protocol_and_order():
    t = _Still()
    assert isinstance(t, longtrack.Tracker)
    with pytest.raises(LongtrackError):
        t.track(np.zeros((10, 10, 3), np.uint8))
    t.initialize(np.zeros((10, 10), np.uint8), (1, 1, 3, 3))
    assert t.image_size == (10, 10)
    assert t.track(np.zeros((10, 10, 3), np.uint8)).box == (1.0, 1.0, 3.0, 3.0)


def test_track_video_over_frame_iterable():
    frames = [np.zeros((10, 10, 3), np.uint8)] * 4
    preds = list(longtrack.track_video(frames, (1, 1, 3, 3), tracker=_Still()))
    assert len(preds) == 4 and preds[0].score == 1.0


def test_unknown_tracker_is_a_clear_error():
    with pytest.raises(LongtrackError, match="unknown tracker"):
        longtrack.create("no-such-tracker")


def test_registry_lists_baselines():
    names = longtrack.tracker_names()
    for n in ("csrt", "kcf", "tld", "classic-lt"):
        assert n in names
