"""Greedy NMS against a literal float32 transcription of the mmdetection kernels."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from longtrack.ops import batched_nms, box_iou, nms

torch.set_num_threads(1)


def reference_nms(boxes: np.ndarray, scores: np.ndarray, thr: float, plus_one: bool) -> list[int]:
    """Visit in descending score (ties by index); keep, then suppress later boxes with IoU > thr."""
    boxes = boxes.astype(np.float32)
    e = np.float32(1.0 if plus_one else 0.0)
    order = sorted(range(len(boxes)), key=lambda i: (-float(scores[i]), i))
    suppressed = [False] * len(boxes)
    keep = []
    for pos, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        ix1, iy1, ix2, iy2 = boxes[i]
        iarea = (ix2 - ix1 + e) * (iy2 - iy1 + e)
        for j in order[pos + 1:]:
            if suppressed[j]:
                continue
            jx1, jy1, jx2, jy2 = boxes[j]
            w = max(np.float32(0.0), min(ix2, jx2) - max(ix1, jx1) + e)
            h = max(np.float32(0.0), min(iy2, jy2) - max(iy1, jy1) + e)
            inter = w * h
            jarea = (jx2 - jx1 + e) * (jy2 - jy1 + e)
            with np.errstate(invalid="ignore", divide="ignore"):
                iou = inter / (iarea + jarea - inter)
            if iou > thr:
                suppressed[j] = True
    return keep


def random_boxes(rng: np.random.Generator, n: int, integer: bool) -> np.ndarray:
    xy = rng.uniform(0, 60, size=(n, 2))
    wh = rng.uniform(1, 30, size=(n, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    return np.round(boxes) if integer else boxes


@pytest.mark.parametrize("plus_one", [False, True])
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_matches_reference_on_random_sets(plus_one, thr):
    rng = np.random.default_rng(int(thr * 10) + plus_one)
    for trial in range(20):
        integer = trial % 2 == 0
        boxes = random_boxes(rng, int(rng.integers(1, 80)), integer).astype(np.float32)
        scores = rng.uniform(size=len(boxes)).astype(np.float32)
        if integer:
            scores = np.round(scores * 5) / 5  # many equal scores: tie order matters
        keep = nms(torch.from_numpy(boxes), torch.from_numpy(scores), thr, plus_one)
        assert keep.tolist() == reference_nms(boxes, scores, thr, plus_one)


def test_iou_equal_to_threshold_is_not_suppressed():
    boxes = torch.tensor([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0]])  # IoU exactly 0.5
    scores = torch.tensor([0.9, 0.8])
    assert nms(boxes, scores, 0.5).tolist() == [0, 1]
    assert nms(boxes, scores, 0.49).tolist() == [0]
    # With +1: inter 2*2, union 3*2 + 2*2 - 4 -> IoU 2/3.
    assert nms(boxes, scores, 0.6, plus_one=True).tolist() == [0]
    assert nms(boxes, scores, 0.7, plus_one=True).tolist() == [0, 1]


def test_order_is_descending_score_and_empty_boxes_never_suppress():
    boxes = torch.tensor([[0.0, 0, 10, 10], [100, 100, 110, 110], [5, 5, 5, 5], [5, 5, 5, 5]])
    scores = torch.tensor([0.1, 0.9, 0.5, 0.4])
    assert nms(boxes, scores, 0.5).tolist() == [1, 2, 3, 0]
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).tolist() == []


@pytest.mark.parametrize("plus_one", [False, True])
def test_batched_equals_per_class_reference(plus_one):
    rng = np.random.default_rng(7)
    for _ in range(10):
        n = int(rng.integers(1, 70))
        boxes = random_boxes(rng, n, integer=True).astype(np.float32)
        scores = rng.permutation(n).astype(np.float32) / n  # distinct scores
        labels = rng.integers(0, 3, size=n)
        expected = []
        for c in np.unique(labels):
            members = np.nonzero(labels == c)[0]
            expected += [int(members[k]) for k in reference_nms(boxes[members], scores[members], 0.5, plus_one)]
        expected.sort(key=lambda i: -scores[i])
        keep = batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(labels), 0.5,
                           plus_one)
        assert keep.tolist() == expected


def test_batched_never_mixes_classes_even_for_identical_boxes():
    boxes = torch.tensor([[0.0, 0, 10, 10]] * 4)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    labels = torch.tensor([0, 1, 0, 1])
    assert batched_nms(boxes, scores, labels, 0.5).tolist() == [0, 1]
    assert batched_nms(boxes, scores, labels, 0.5, plus_one=True).tolist() == [0, 1]


def test_many_boxes_run_in_blocks():
    # More boxes than one IoU block: the block boundaries must not change the result.
    rng = np.random.default_rng(11)
    boxes = random_boxes(rng, 2500, integer=False).astype(np.float32) * 4
    scores = rng.uniform(size=2500).astype(np.float32)
    keep = nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.5)
    # Invariants: kept boxes pairwise below threshold, every dropped box overlaps a better kept one.
    kept_boxes = torch.from_numpy(boxes)[keep]
    iou = box_iou(kept_boxes, kept_boxes).fill_diagonal_(0)
    assert float(iou.max()) <= 0.5
    dropped = np.setdiff1d(np.arange(2500), keep.numpy())
    iou_dropped = box_iou(torch.from_numpy(boxes[dropped]), kept_boxes)
    better = torch.from_numpy(scores[dropped])[:, None] <= torch.from_numpy(scores)[keep][None, :]
    assert bool(((iou_dropped > 0.5) & better).any(1).all())


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        nms(torch.zeros(3, 5), torch.zeros(3), 0.5)
    with pytest.raises(ValueError, match="scores"):
        nms(torch.zeros(3, 4), torch.zeros(2), 0.5)
