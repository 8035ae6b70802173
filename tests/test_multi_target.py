"""The multi-target fallback: one single-target tracker per box, in box order."""
import numpy as np
import pytest

import longtrack
from longtrack.errors import LongtrackError
from longtrack.multi_target import SeparateTrackers, create_multi

BOXES = [(20.0, 30.0, 24.0, 24.0), (70.0, 50.0, 20.0, 16.0)]


def moving_squares(count=6):
    """128x96 frames: two textured squares, one moving right, one moving down."""
    rng = np.random.default_rng(0)
    background = rng.integers(0, 80, (96, 128, 3), dtype=np.uint8)
    a, b = (rng.integers(120, 255, (24, 24, 3), dtype=np.uint8), rng.integers(120, 255, (16, 20, 3), dtype=np.uint8))
    out = []
    for i in range(count):
        frame = background.copy()
        frame[30:54, 20 + 2 * i:44 + 2 * i] = a
        frame[50 + i:66 + i, 70:90] = b
        out.append(frame)
    return out


def test_fallback_equals_separate_trackers_in_box_order():
    clip = moving_squares()
    multi = create_multi("csrt")
    assert isinstance(multi, SeparateTrackers)
    multi.initialize_many(clip[0], BOXES)
    alone = [longtrack.create("csrt") for _ in BOXES]
    for tracker, box in zip(alone, BOXES):
        tracker.initialize(clip[0], box)
    for frame in clip[1:]:
        assert multi.track_many(frame) == [tracker.track(frame) for tracker in alone]
    last = multi.track_many(clip[-1])
    assert abs(last[0].box[0] - (20 + 2 * 5)) <= 3 and abs(last[1].box[1] - (50 + 5)) <= 3


def test_fallback_reuses_instances_and_refuses_misuse():
    built = []

    def build():
        built.append(longtrack.create("kcf"))
        return built[-1]

    multi = SeparateTrackers(build)
    with pytest.raises(LongtrackError, match="before initialize_many"):
        multi.track_many(moving_squares(1)[0])
    with pytest.raises(LongtrackError, match="at least one box"):
        multi.initialize_many(moving_squares(1)[0], [])
    multi.initialize_many(moving_squares(1)[0], BOXES)
    multi.initialize_many(moving_squares(1)[0], BOXES[:1])  # a restart builds nothing new
    assert len(built) == 2 and len(multi.track_many(moving_squares(2)[1])) == 1
