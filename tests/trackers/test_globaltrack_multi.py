"""GlobalTrack on several targets at once: one backbone pass per frame whatever the number of
targets, one query-modulated search per target, and each target's answer the one single-target
tracking gives for it."""
import numpy as np
import pytest
import torch

import longtrack
from longtrack.checkpoint import save_weights
from longtrack.errors import LongtrackError
from longtrack.models.globaltrack import GlobalTrack, GlobalTrackConfig
from longtrack.models.globaltrack.config import ProposalConfig
from longtrack.multi_target import SeparateTrackers, create_multi
from longtrack.synth import make_sequence
from longtrack.trackers.globaltrack import GlobalTrackTracker

TINY = GlobalTrackConfig(base_channels=4, fpn_channels=8, fc_channels=16, max_size=(128, 96),
                         test_rpn=ProposalConfig(nms_pre=100, nms_post=100, max_num=50))
BOXES = [(10.0, 20.0, 30.0, 15.0), (40.0, 5.0, 12.0, 12.0), (2.0, 40.0, 20.0, 18.0)]
# Batched query encoding (Q boxes in one call) and one box at a time agree to float precision.
BOX_TOLERANCE_PX = 1e-3
SCORE_TOLERANCE = 1e-5


@pytest.fixture
def tiny_path(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "globaltrack-tiny.pt"
    save_weights(path, method="globaltrack", config={"model": TINY.to_dict(), "tracker": {"presence_threshold": 0.3}},
                 state_dict=GlobalTrack(TINY).state_dict())
    return str(path)


def frames(count, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (60, 80, 3), dtype=np.uint8) for _ in range(count)]


def count_calls(module, name, counter):
    """Wrap ``module.<name>`` so that each call adds one to ``counter[0]``."""
    original = getattr(module, name)

    def counted(*args, **kwargs):
        counter[0] += 1
        return original(*args, **kwargs)

    setattr(module, name, counted)


def test_n_targets_cost_one_backbone_pass_per_frame_and_one_search_each(tiny_path):
    tracker = GlobalTrackTracker(weights=tiny_path)
    backbone, searches = [0], [0]
    count_calls(tracker.model.backbone, "forward", backbone)
    count_calls(tracker.model, "detect", searches)
    clip = frames(4)
    tracker.initialize_many(clip[0], BOXES)
    assert backbone[0] == 1 and searches[0] == 0  # every query encoded from one pass
    for frame in clip[1:]:
        preds = tracker.track_many(frame)
        assert len(preds) == len(BOXES) and all(isinstance(p, longtrack.Prediction) for p in preds)
    assert backbone[0] == 1 + 3  # one per frame, not one per target
    assert searches[0] == 3 * len(BOXES)

    # The generic fallback runs one tracker per target: N passes per frame.
    separate = SeparateTrackers(lambda: GlobalTrackTracker(weights=tiny_path))
    separate.initialize_many(clip[0], BOXES)
    passes = [0]
    for single in separate.trackers:
        count_calls(single.model.backbone, "forward", passes)
    separate.track_many(clip[1])
    assert passes[0] == len(BOXES)


def test_each_target_follows_as_if_tracked_alone():
    """Shipped weights on a synthetic clip: every target of ``track_many`` gets the box and score
    that ``initialize`` + ``track`` give for its box alone, frame after frame."""
    seq = make_sequence("mini", "val", 1, num_frames=60, size=(192, 144))
    boxes = [tuple(seq.boxes[0]), (10.0, 10.0, 30.0, 40.0), (100.0, 60.0, 40.0, 30.0)]
    multi = longtrack.create("globaltrack")
    multi.initialize_many(seq.render(0), boxes)
    singles = [longtrack.create("globaltrack") for _ in boxes]
    for single, box in zip(singles, boxes):
        single.initialize(seq.render(0), box)
    present = 0
    for index in range(1, 5):
        frame = seq.render(index)
        together = multi.track_many(frame)
        alone = [single.track(frame) for single in singles]
        for a, b in zip(together, alone):
            np.testing.assert_allclose(a.box, b.box, atol=BOX_TOLERANCE_PX)
            assert a.score == pytest.approx(b.score, abs=SCORE_TOLERANCE) and a.present == b.present
            present += a.present
        assert together[0].box != together[1].box  # each target keeps its own query
    assert present > 0  # the comparison covers real detections, not only "nothing found"


def test_one_target_either_way(tiny_path):
    """``track_many`` after ``initialize`` and ``track`` after a one-box ``initialize_many`` are
    exactly single-target tracking."""
    clip = frames(3, seed=1)
    reference = GlobalTrackTracker(weights=tiny_path)
    reference.initialize(clip[0], BOXES[0])
    expected = [reference.track(f) for f in clip[1:]]
    one = GlobalTrackTracker(weights=tiny_path)
    one.initialize(clip[0], BOXES[0])
    assert [one.track_many(f)[0] for f in clip[1:]] == expected
    many = GlobalTrackTracker(weights=tiny_path)
    many.initialize_many(clip[0], BOXES[:1])
    assert [many.track(f) for f in clip[1:]] == expected


def test_misuse_is_one_clear_error(tiny_path):
    tracker = GlobalTrackTracker(weights=tiny_path)
    frame = frames(1)[0]
    with pytest.raises(LongtrackError, match="before initialize_many"):
        tracker.track_many(frame)
    with pytest.raises(LongtrackError, match="at least one box"):
        tracker.initialize_many(frame, [])
    with pytest.raises(LongtrackError, match="outside the first frame"):
        tracker.initialize_many(frame, [BOXES[0], (500.0, 10.0, 20.0, 20.0)])
    tracker.initialize_many(frame, BOXES)
    with pytest.raises(LongtrackError, match="use track_many"):
        tracker.track(frame)
    tracker.initialize(frame, BOXES[1])  # back to one target: track works again
    assert isinstance(tracker.track(frame), longtrack.Prediction)


def test_create_multi_uses_the_native_method(tiny_path):
    assert isinstance(create_multi("globaltrack", weights=tiny_path), GlobalTrackTracker)
