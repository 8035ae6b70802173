"""GlobalTrack's online logic: whole-frame search with a fixed query, top-1 box, presence by
threshold; weights round trip; and the shipped weights re-finding a target that left the view."""
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch

import longtrack
from longtrack.datasets import load_dataset
from longtrack.boxes import iou as box_iou
from longtrack.checkpoint import save_weights
from longtrack.errors import LongtrackError
from longtrack.models.globaltrack import GlobalTrack, GlobalTrackConfig
from longtrack.models.globaltrack.config import ProposalConfig
from longtrack.synth import make_sequence
from longtrack.trackers.globaltrack import DEFAULT_PRESENCE_THRESHOLD, GlobalTrackTracker

TINY = GlobalTrackConfig(base_channels=4, fpn_channels=8, fc_channels=16, max_size=(128, 96),
                         test_rpn=ProposalConfig(nms_pre=100, nms_post=100, max_num=50))


@pytest.fixture
def tiny_weights(tmp_path):
    torch.manual_seed(0)
    model = GlobalTrack(TINY)
    path = tmp_path / "globaltrack-tiny.pt"
    save_weights(path, method="globaltrack", config={"model": TINY.to_dict(), "tracker": {"presence_threshold": 0.37}},
                 state_dict=model.state_dict())
    return path, model


def test_weights_round_trip_and_tuned_threshold(tiny_weights):
    path, model = tiny_weights
    tracker = GlobalTrackTracker(weights=str(path))
    assert tracker.config == TINY and tracker.presence_threshold == pytest.approx(0.37)
    loaded = tracker.model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())
    assert GlobalTrackTracker(weights=str(path), presence_threshold=0.9).presence_threshold == 0.9
    other = path.with_name("other.pt")
    save_weights(other, method="procontext", config={"model": {}}, state_dict={})
    with pytest.raises(LongtrackError, match="procontext"):
        GlobalTrackTracker(weights=str(other))


def test_without_weights_a_small_random_network_and_a_warning():
    with pytest.warns(UserWarning, match="randomly initialised"):
        tracker = GlobalTrackTracker(weights=None)
    assert tracker.config == GlobalTrackConfig.small()
    assert tracker.presence_threshold == DEFAULT_PRESENCE_THRESHOLD
    with pytest.raises(LongtrackError, match="size"):
        GlobalTrackTracker(size="huge")


class ScriptedDetections:
    """Stands in for ``GlobalTrack.detect``: per call, the next (box corners in frame pixels, score)
    or None for "no proposal"; records the query it was given."""

    def __init__(self, script):
        self.script = list(script)
        self.queries = []

    def __call__(self, feats, query, img_shape, scale_factor, with_nms=True):
        self.queries.append(query)
        item = self.script.pop(0)
        if item is None:
            return {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0)}
        corners, score = item
        boxes = torch.tensor([[0.0, 0.0, 5.0, 5.0], corners, [1.0, 1.0, 3.0, 3.0]])
        return {"boxes": boxes, "scores": torch.tensor([score / 2, score, score / 3])}


def test_online_logic_fixed_query_top1_presence_and_lost_frames(tiny_weights):
    path, _ = tiny_weights
    tracker = GlobalTrackTracker(weights=str(path), presence_threshold=0.5)
    frame = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    spy = []
    encode = tracker.model.encode_query
    tracker.model.encode_query = lambda feats, rois: spy.append(rois) or encode(feats, rois)
    tracker.initialize(frame, (10.0, 20.0, 30.0, 15.0))
    # max_size (128, 96) rescales the 80x60 frame by 1.6; corners are inclusive pixels
    # (x, y, x + w - 1, y + h - 1) * 1.6 = (10, 20, 39, 34) * 1.6
    torch.testing.assert_close(spy[0], torch.tensor([[0.0, 16.0, 32.0, 62.4, 54.4]]))
    script = ScriptedDetections([([50.0, 5.0, 69.0, 24.0], 0.9),   # far from the first box: global search
                                 ([2.0, 30.0, 11.0, 39.0], 0.2),   # low score: reported, not present
                                 None,                             # nothing found: keep the last box
                                 ([40.0, 40.0, 49.0, 59.0], 0.6)])
    tracker.model.detect = script
    preds = [tracker.track(frame) for _ in range(4)]
    assert preds[0].box == (50.0, 5.0, 20.0, 20.0) and preds[0].present
    assert preds[0].score == pytest.approx(0.9)
    assert preds[1].box == (2.0, 30.0, 10.0, 10.0) and not preds[1].present
    assert preds[2] == longtrack.Prediction((2.0, 30.0, 10.0, 10.0), 0.0, False)
    assert preds[3].box == (40.0, 40.0, 10.0, 20.0) and preds[3].present
    assert all(q is tracker.state.query for q in script.queries)  # the first frame's query, never updated
    assert tracker.state.frame_index == 4


def test_track_before_initialize_is_an_error(tiny_weights):
    with pytest.raises(LongtrackError, match="before initialize"):
        GlobalTrackTracker(weights=str(tiny_weights[0])).track(np.zeros((40, 40, 3), dtype=np.uint8))


# Three 60-frame val clips (192x144) in which the target leaves the view for 7-8 frames and
# re-enters elsewhere; the shipped weights never saw the val split.
REENTRY_CLIPS = (1, 6, 7)
# Measured with globaltrack-synth.pt: 0.74 of the frames from the 6th after the last absent one
# have IoU >= 0.5; the bound leaves room for float noise.
REENTRY_MIN_FOUND = 0.6
SYNTH_WEIGHTS = str(resources.files("longtrack.weights").joinpath("globaltrack-synth.pt"))
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def test_synthetic_weights_find_the_target_again_after_it_left_the_view():
    """GlobalTrack keeps no state but the first frame's query (no motion model, no window), so
    each frame's answer does not depend on the frames before it: only the frames from just before
    the exit to the end are tracked (a test-time budget)."""
    tracker = longtrack.create("globaltrack", weights=SYNTH_WEIGHTS)
    assert tracker.presence_threshold != DEFAULT_PRESENCE_THRESHOLD  # tuned value read from the file
    after, present_scores, absent_scores = [], [], []
    for index in REENTRY_CLIPS:
        seq = make_sequence("mini", "val", index, num_frames=60, size=(192, 144))
        absent = np.flatnonzero(seq.absent)
        assert len(absent) >= 5 and absent[0] > 10 and absent[-1] < 50
        tracker.initialize(seq.render(0), seq.boxes[0])
        frames = np.arange(absent[0] - 3, len(seq))
        preds = [tracker.track(seq.render(int(i))) for i in frames]
        ious = np.array([box_iou(p.box, seq.boxes[i]) for p, i in zip(preds, frames)])
        scores = np.array([p.score for p in preds])
        visible = ~seq.absent[frames]
        after.append(ious[frames > absent[-1] + 5])  # from the 6th frame after the last absent one
        present_scores.append(scores[visible])
        absent_scores.append(scores[~visible])
    after = np.concatenate(after)
    print(f"\nIoU >= 0.5 after re-entry: {np.mean(after >= 0.5):.2f}; mean score present "
          f"{np.concatenate(present_scores).mean():.3f}, absent {np.concatenate(absent_scores).mean():.3f}")
    assert np.mean(after >= 0.5) >= REENTRY_MIN_FOUND
    assert np.concatenate(absent_scores).mean() < np.concatenate(present_scores).mean()


def test_the_shipped_real_video_weights_follow_real_objects_the_synthetic_ones_miss():
    """Frames 1-40 of OTB Crossing and Skiing (evaluation clips, never trained on). Measured:
    IoU >= 0.5 in 65 % and 45 % of the frames with globaltrack-real.pt, 0 % with
    globaltrack-synth.pt."""
    if not REAL.is_dir():
        pytest.skip("../shared/data/real not present")
    sequences = {s.name: s for s in load_dataset("otb", REAL, progress=False)}
    for weights, low, high in ((None, 0.35, 1.0), (SYNTH_WEIGHTS, 0.0, 0.1)):
        tracker = longtrack.create("globaltrack", weights=weights)
        hits = []
        for name in ("Crossing", "Skiing"):
            seq = sequences[name]
            tracker.initialize(seq.frame(0), seq.boxes[0])
            hits += [box_iou(tracker.track(seq.frame(i)).box, seq.boxes[i]) >= 0.5 for i in range(1, 41)]
        assert low <= np.mean(hits) <= high, (weights, np.mean(hits))
