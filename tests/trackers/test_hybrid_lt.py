"""hybrid-lt: the composed long-term tracker follows a real clip, says absent when the target's
video is replaced by another one, comes back when the target returns, and its parts switch off."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import longtrack
from longtrack.boxes import iou
from longtrack.datasets import load_dataset
from longtrack.errors import LongtrackError
from longtrack.trackers.hybrid_lt import HybridLongTermTracker

VISIBLE, GONE, BACK = 25, 20, 25  # frames of each stretch


@pytest.fixture(scope="module")
def spliced(shared_dir):
    """real-train bike-2's first 25 frames, 20 frames of boat-1 (no bike), then bike-2 again."""
    cv2.setNumThreads(1)
    root = shared_dir / "data" / "real-train"
    (bike,) = load_dataset("lasot", root, sequences="bike-2", progress=False)
    (boat,) = load_dataset("lasot", root, sequences="boat-1", progress=False)
    h, w = bike.frame(0).shape[:2]
    frames = [bike.frame(i) for i in range(VISIBLE)]
    frames += [cv2.resize(boat.frame(i), (w, h)) for i in range(GONE)]
    frames += [bike.frame(i) for i in range(VISIBLE, VISIBLE + BACK)]
    truth = [bike.boxes[i] for i in range(VISIBLE)] + [None] * GONE + \
            [bike.boxes[i] for i in range(VISIBLE, VISIBLE + BACK)]
    return frames, truth


def _run(tracker, frames, truth):
    tracker.initialize(frames[0], truth[0])
    return [tracker.track(f) for f in frames[1:]]


def test_create_defaults_to_csrt_with_globaltrack_weights():
    tracker = longtrack.create("hybrid-lt")
    assert isinstance(tracker, HybridLongTermTracker)
    assert tracker.name == "hybrid-lt:csrt"
    # thresholds on GlobalTrack's score come from its weights (tuned on real-train)
    assert tracker.accept_threshold == pytest.approx(longtrack.create("globaltrack").presence_threshold)


def test_follows_leaves_and_comes_back(spliced):
    frames, truth = spliced
    # CSRT only says "ok": it is lost after `patience` failed checks (every 5 frames); 2 makes
    # the 20 gone frames enough to see it (the default, 8, needs 40)
    tracker = longtrack.create("hybrid-lt", patience=2)
    preds = _run(tracker, frames, truth)
    visible = [iou(p.box, t) for p, t in zip(preds[:VISIBLE - 1], truth[1:VISIBLE])]
    gone = preds[VISIBLE - 1:VISIBLE - 1 + GONE]
    back = [(p, t) for p, t in zip(preds[VISIBLE - 1 + GONE:], truth[VISIBLE + GONE:])]
    assert np.mean(visible) > 0.5
    assert np.mean([not p.present for p in gone[5:]]) >= 0.8  # absent once the check has run
    late = back[5:]  # a check (every 5 frames) to find it again
    assert np.mean([p.present for p, _ in late]) >= 0.8
    assert np.mean([iou(p.box, t) for p, t in late]) > 0.3  # GlobalTrack's box: coarse, but on it
    assert all(0.0 <= p.score <= 1.0 for p in preds)
    assert tracker.state.checks >= (len(frames) - 1) // tracker.check_interval


def test_one_backbone_pass_per_check(spliced, monkeypatch):
    frames, truth = spliced
    tracker = longtrack.create("hybrid-lt")
    calls = []
    original = tracker.model.extract_features
    monkeypatch.setattr(tracker.model, "extract_features", lambda x: calls.append(1) or original(x))
    _run(tracker, frames[:VISIBLE], truth[:VISIBLE])
    assert len(calls) == 1 + tracker.state.checks  # the first frame's query + one per check


def test_without_global_search_it_never_switches(spliced):
    frames, truth = spliced
    tracker = longtrack.create("hybrid-lt", global_search=False)
    _run(tracker, frames, truth)
    assert tracker.state.switches == 0


def test_without_dynamic_templates_none_is_added(spliced):
    frames, truth = spliced
    tracker = longtrack.create("hybrid-lt", dynamic_templates=False, update_interval=1)
    _run(tracker, frames[:VISIBLE], truth[:VISIBLE])
    assert tracker.state.templates_added == 0 and tracker.state.dynamic == []


def test_bad_options_are_one_line_errors():
    with pytest.raises(LongtrackError, match="local tracker"):
        longtrack.create("hybrid-lt:tanet:kcf")
    with pytest.raises(LongtrackError, match="check_interval"):
        longtrack.create("hybrid-lt", check_interval=0)
    with pytest.raises(LongtrackError, match="presence_threshold must be in"):
        longtrack.create("hybrid-lt", presence_threshold=0.0)


def test_nanotrack_local_tracker_is_scored_and_needs_its_files(shared_dir, spliced):
    frames, truth = spliced
    tracker = longtrack.create("hybrid-lt:nanotrack", local_weights=str(shared_dir / "models" / "nanotrack-v2"))
    assert tracker.local_scored and not longtrack.create("hybrid-lt").local_scored
    preds = _run(tracker, frames[:VISIBLE], truth[:VISIBLE])
    assert np.mean([iou(p.box, t) for p, t in zip(preds, truth[1:VISIBLE])]) > 0.5
    with pytest.raises(LongtrackError, match="nanotrack ships no weights"):
        longtrack.create("hybrid-lt:nanotrack")
