"""The weights-free baselines: OpenCV CSRT/KCF/TLD and classic-lt, on a short synthetic clip,
and the parts of classic-lt (correlation filter, NCC re-detector, distractor memory)."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

import longtrack
from longtrack.contract import Prediction
from longtrack.boxes import iou
from longtrack.errors import LongtrackError
from longtrack.synth import make_sequence
from longtrack.trackers.classic_lt import ClassicLongTermTracker
from longtrack.trackers.correlation_filter import CorrelationFilter
from longtrack.trackers.distractors import DistractorMemory, DistractorTrack
from longtrack.trackers.redetector import TemplateBank

BASELINES = ["csrt", "kcf", "tld", "classic-lt"]
# mini test sequence 1: the target is visible in frames 0..76, out of view in 77..111, back from 112.
CLIP_INDEX, LAST_VISIBLE, FIRST_BACK = 1, 76, 112


@pytest.fixture(scope="module")
def clip():
    cv2.setNumThreads(1)
    seq = make_sequence(preset="mini", split="test", index=CLIP_INDEX)
    absent = np.asarray(seq.absent)
    assert not absent[: LAST_VISIBLE + 1].any() and absent[LAST_VISIBLE + 1:FIRST_BACK].all()
    assert not absent[FIRST_BACK]
    return seq, [seq.render(i) for i in range(len(seq))]


def run(tracker, frames, box) -> list[Prediction]:
    tracker.initialize(frames[0], box)
    return [Prediction(box, 1.0, True)] + [tracker.track(f) for f in frames[1:]]


def ious(preds, gt) -> np.ndarray:
    return iou(np.array([p.box for p in preds]), np.asarray(gt))


@pytest.mark.parametrize("name", BASELINES)
def test_follows_the_visible_target_and_survives_its_exit(clip, name):
    seq, frames = clip
    end = FIRST_BACK - 5  # through the whole exit, before the re-entry
    preds = run(longtrack.create(name), frames[:end], tuple(seq.boxes[0]))
    overlap = ious(preds[:60], seq.boxes[:60])
    assert np.mean(overlap[1:] > 0.5) >= 0.9, f"{name} lost the visible target: {np.round(overlap, 2)}"
    for pred in preds:  # out of view: no crash, and still well-formed answers
        assert all(math.isfinite(v) for v in pred.box) and 0.0 <= pred.score <= 1.0


def test_classic_lt_says_absent_while_out_of_view_and_redetects(clip):
    seq, frames = clip
    preds = run(ClassicLongTermTracker(), frames, tuple(seq.boxes[0]))
    absent = np.asarray(seq.absent)
    present = np.array([p.present for p in preds])
    assert np.mean(~present[absent]) >= 0.8, "classic-lt claims the target while it is out of view"
    overlap = ious(preds, seq.boxes)
    back = np.flatnonzero(~absent[FIRST_BACK:])[:60] + FIRST_BACK
    found = back[(overlap[back] >= 0.5) & present[back]]
    assert len(found) and found[0] - FIRST_BACK <= 30, "classic-lt did not re-detect the target after it re-entered"
    assert np.mean(overlap[found[0]:back[-1] + 1] >= 0.5) >= 0.7  # and keeps it


def test_opencv_tracker_reports_absent_when_the_target_leaves():
    frames = []
    for x in range(40, 200, 8):  # a textured square slides out through the right border
        frame = np.full((90, 120, 3), 40, np.uint8)
        patch = np.indices((20, 20)).sum(axis=0) % 4 * 60
        x0, x1 = min(x, 120), min(x + 20, 120)
        if x1 > x0:
            frame[30:50, x0:x1] = patch[:, : x1 - x0, None]
        frames.append(frame)
    for name in ("csrt", "kcf", "tld"):
        preds = run(longtrack.create(name), frames, (40, 30, 20, 20))
        assert all(isinstance(p, Prediction) for p in preds)
        assert not preds[-1].present or preds[-1].box[0] < 120, f"{name} claims a box outside the image"


@pytest.mark.parametrize("name", BASELINES)
def test_weights_are_refused(name):
    with pytest.raises(LongtrackError, match="no weights"):
        longtrack.create(name, weights="model.pt")


def test_classic_lt_rejects_unknown_options():
    with pytest.raises(LongtrackError, match="unknown option"):
        ClassicLongTermTracker(beta_one=0.3)
    assert ClassicLongTermTracker(beta2=8).params.beta2 == 8


def textured_frame(seed=0, size=(160, 120)):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (size[1] // 4, size[0] // 4, 3), dtype=np.uint8)
    return cv2.resize(small, size, interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize("dx, dy", [(0, 0), (4, 0), (5, -3), (-6, 4)])
def test_correlation_filter_finds_a_translation(dx, dy):
    frame = textured_frame()
    cf = CorrelationFilter()
    cf.initialize(frame, (80.0, 60.0), (30.0, 24.0))
    moved = np.roll(frame, (dy, dx), axis=(0, 1))
    det = cf.detect(moved, (80.0, 60.0), (30.0, 24.0))
    assert det.center == pytest.approx((80 + dx, 60 + dy), abs=1.0)
    assert det.peak > 0.5 and det.psr > 5


def test_redetector_finds_the_template_anywhere_at_another_scale():
    frame = textured_frame(1, (200, 150))
    bank = TemplateBank()
    bank.reset(frame, (20, 30, 40, 30))
    target = cv2.resize(frame[30:60, 20:60], (48, 36), interpolation=cv2.INTER_LINEAR)
    scene = textured_frame(2, (200, 150))
    scene[90:126, 130:178] = target  # 1.2 x larger, elsewhere, on another background
    best = bank.search(scene, (40, 30))[0]
    assert iou(best.box, (130, 90, 48, 36)) > 0.6 and best.score > 0.8
    assert bank.similarity(scene, (130, 90, 48, 36)) > 0.8
    assert bank.similarity(scene, (10, 10, 48, 36)) < 0.5


def test_distractor_memory_lets_the_target_through_beside_a_distractor():
    memory = DistractorMemory()
    memory.observe([(100, 100, 20, 20)], frame_index=10)  # a look-alike seen while tracking
    # 3 frames later: the distractor moved a little, the target re-appears close to it
    explained = memory.observe([(104, 100, 20, 20), (118, 104, 20, 20)], frame_index=13, add_new=False)
    assert explained == [True, False]
    # a target slot claims the detection nearest to where the target was last seen
    target = DistractorTrack(np.array([124.0, 112.0]), 20.0, 12)
    assert memory.observe([(104, 100, 20, 20), (116, 102, 20, 20)], 14, add_new=False,
                          target=target) == [True, False]
