"""DMTrack online: the association of all candidates keeps the target's identity through a same-class
distractor that out-scores it and through the target leaving and re-entering elsewhere (scripted
candidates from a synthetic clip's ground truth), the ablation's simpler selections fail where
they should, and the real network runs end to end with weights saved and loaded."""
import warnings

import numpy as np
import pytest
import torch

import longtrack
from longtrack.checkpoint import save_weights
from longtrack.errors import LongtrackError
from longtrack.models.dmtrack import DMTrack, DMTrackConfig
from longtrack.synth import make_sequence
from longtrack.trackers.association import iou_matrix
from longtrack.trackers.dmtrack import DMTrackTracker

torch.set_num_threads(1)
SCORES = {"target": 0.6, "distractor": 0.8, "other": 0.3}  # the distractor out-scores the target


@pytest.fixture(scope="module")
def clip():
    """mini test sequence 0: the target leaves at the top (absent 123-147) and re-enters at the bottom."""
    seq = make_sequence(preset="mini", split="test", index=0)
    assert seq.absent[123:148].all() and not seq.absent[:120].any()
    return seq


class ScriptedDMTrack(DMTrackTracker):
    """The online logic of DMTrackTracker with the network's candidates replaced by ground truth:
    every visible object is a candidate with a fixed score and a noisy identity embedding."""

    def __init__(self, seq, **options):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            super().__init__(**options)
        self.seq = seq
        rng = np.random.default_rng(0)
        self.identity = {o.identity: _unit(rng.normal(size=16)) for o in seq.objects}
        self.rng = rng
        self.frame_number = 0

    def _role(self, obj) -> str:
        return "target" if obj.is_target else ("distractor" if obj.role == "distractor" else "other")

    def _embedding(self, obj) -> np.ndarray:
        return _unit(self.identity[obj.identity] + 0.15 * self.rng.normal(size=16))

    def _initialize(self, frame, box):
        super()._initialize(frame, box)
        target = next(o for o in self.seq.objects if o.is_target)
        self.state.template_embedding = self._embedding(target)
        self.associator.tracklets[0].embedding = self.state.template_embedding.copy()

    def detect(self, frame):
        self.frame_number += 1
        f = self.frame_number
        boxes, scores, embeddings = [], [], []
        for obj in self.seq.objects:
            visible = obj.visible[f] and not (obj.is_target and self.seq.absent[f])
            if visible:
                x, y, w, h = obj.boxes[f]
                boxes.append([x, y, x + w, y + h])
                scores.append(SCORES[self._role(obj)])
                embeddings.append(self._embedding(obj))
        order = np.argsort(scores)[::-1]
        return (np.array(boxes, dtype=np.float64).reshape(-1, 4)[order], np.array(scores)[order],
                np.array(embeddings).reshape(-1, 16)[order])


def _unit(v):
    return v / np.linalg.norm(v)


def run(seq, **options):
    tracker = ScriptedDMTrack(seq, **options)
    frame = np.zeros((240, 320, 3), dtype=np.uint8)
    tracker.initialize(frame, seq.boxes[0])
    preds = [tracker.track(frame) for _ in range(1, len(seq.boxes))]
    gt = np.asarray(seq.boxes[1:], dtype=np.float64)
    boxes = np.array([p.box for p in preds])
    to_xyxy = lambda b: np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)  # noqa: E731
    ious = np.diag(iou_matrix(to_xyxy(boxes), to_xyxy(np.nan_to_num(gt))))
    present = np.array([p.present for p in preds])
    return ious, present, ~np.asarray(seq.absent[1:], dtype=bool)


def test_clip_has_a_distractor_that_outscores_the_target(clip):
    roles = [o.role for o in clip.objects if not o.is_target]
    assert "distractor" in roles


def test_reid_association_keeps_the_target_and_recovers_it_after_re_entry(clip):
    ious, present, visible = run(clip, association="reid")
    assert ious[:120].min() > 0.99  # never switches to the higher-scoring distractor
    assert not present[~visible].any()  # absent while out of view
    back = np.flatnonzero(visible[125:]) + 125  # frames after re-entry
    assert (ious[back[3:]] > 0.99).all()  # re-identified within 3 frames of re-entering
    assert present[visible].mean() > 0.95


def test_detector_top1_follows_the_distractor(clip):
    ious, present, visible = run(clip, association="top1")
    assert np.median(ious[:120]) < 0.1  # the top-scoring candidate is the distractor
    assert present[~visible].all()  # and it never reports absence


def test_position_constraint_holds_until_the_target_leaves(clip):
    ious, _, visible = run(clip, association="position")
    reid_ious, _, _ = run(clip, association="reid")
    assert np.median(ious[:60]) > 0.99  # near the last position the target wins
    assert ious[visible].mean() <= reid_ious[visible].mean()


def test_real_network_end_to_end_and_weights_round_trip(tmp_path, clip):
    torch.manual_seed(0)
    config = DMTrackConfig.small()
    model = DMTrack(config)
    path = tmp_path / "dmtrack.pt"
    save_weights(path, method="dmtrack", config={"model": config.to_dict()}, state_dict=model.state_dict())
    tracker = longtrack.create("dmtrack", weights=str(path), min_score=0.0)
    torch.testing.assert_close(tracker.model.state_dict(), model.state_dict())
    tracker.initialize(clip.render(0), clip.boxes[0])
    for f in range(1, 4):
        pred = tracker.track(clip.render(f))
        assert len(pred.box) == 4 and all(np.isfinite(pred.box)) and 0.0 <= pred.score <= 1.0
    boxes, scores, embeddings = tracker.detect(clip.render(4))
    assert 1 <= len(boxes) <= tracker.top_k and (np.diff(scores) <= 0).all()
    assert embeddings.shape == (len(boxes), config.reid_dim)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)


def test_weights_without_a_model_config_fit_or_fail_clearly(tmp_path):
    path = tmp_path / "other.pt"
    small = DMTrack(DMTrackConfig.small().replace(reid_dim=0))
    save_weights(path, method="dmtrack", config={"model": DMTrackConfig.small().to_dict()},
                 state_dict=small.state_dict())
    with pytest.raises(LongtrackError, match="do not fit"):
        DMTrackTracker(weights=str(path))
    with pytest.raises(LongtrackError, match="association"):
        DMTrackTracker(weights=None, association="nearest")


def test_training_weights_hold_the_network_only_and_load_strictly(tmp_path):
    """A run's ``weights.pt`` leaves out the identity classifier and uncertainty weights
    (``inference_state``); the tracker loads it with strict keys, and refuses a file that still
    holds them (a training ``checkpoint.pt``) naming the keys."""
    from longtrack.checkpoint import load_weights
    from longtrack.train.methods.dmtrack import DMTrackForTraining, inference_state

    torch.manual_seed(0)
    config = DMTrackConfig.small()
    trained = DMTrackForTraining(config, num_identities=7)
    full = trained.state_dict()
    assert any(k.startswith("reid_classifier.") for k in full) and "log_vars" in full
    path = tmp_path / "weights.pt"
    save_weights(path, method="dmtrack", config={"model": config.to_dict()}, state_dict=inference_state(trained))
    tracker = DMTrackTracker(weights=str(path))
    assert not hasattr(tracker.model, "reid_classifier")
    torch.testing.assert_close(tracker.model.state_dict(), inference_state(trained))
    assert set(load_weights(path, method="dmtrack").state_dict) == set(tracker.model.state_dict())
    whole = tmp_path / "whole.pt"
    save_weights(whole, method="dmtrack", config={"model": config.to_dict()}, state_dict=full)
    with pytest.raises(LongtrackError, match=r"do not fit .*3 unexpected key\(s\): log_vars, reid_classifier.bias"):
        DMTrackTracker(weights=str(whole))


def test_thresholds_come_from_the_call_then_the_weights_calibration_then_the_defaults(tmp_path):
    from longtrack.trackers.dmtrack import DEFAULTS

    config = DMTrackConfig.small()
    path = tmp_path / "calibrated.pt"
    calibration = {"presence_threshold": 0.12, "recover_score": 0.1, "gallery_score": 0.1, "calibrated_on": "val"}
    save_weights(path, method="dmtrack", config={"model": config.to_dict(), "tracker": calibration},
                 state_dict=DMTrack(config).state_dict())
    tracker = DMTrackTracker(weights=str(path), recover_score=0.3)
    assert tracker.presence_threshold == 0.12 and tracker.gallery_score == 0.1
    assert tracker.recover_score == 0.3  # an explicit option wins
    assert tracker.reid_threshold == DEFAULTS["reid_threshold"]  # not calibrated: the default
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        untrained = DMTrackTracker(weights=None)
    assert all(getattr(untrained, k) == v for k, v in DEFAULTS.items())
