"""Greedy non-maximum suppression and its class-aware (batched) form.

Semantics of the mmdetection / torchvision kernels: boxes are visited in descending score
order; a visited, not yet suppressed box is kept and suppresses every later box whose IoU
with it is **greater than** ``iou_threshold``. IoU is ``inter / (area_a + area_b - inter)``
computed in the boxes' dtype; a pair with an empty union (two empty boxes) has NaN IoU and
never suppresses. ``plus_one=True`` is the mmdetection v1 convention (GlobalTrack): widths,
heights and overlaps of inclusive pixel boxes get ``+1``. Kept indices come back in
descending score order (mmdetection v1 returned them sorted by index; sort if you need that).
Equal scores are visited in index order (stable sort).

The IoU test is vectorised into a boolean matrix, built in row blocks; only the greedy
pass (one cheap numpy step per kept box) is a Python loop.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["nms", "batched_nms"]

_BLOCK_ROWS = 256  # IoU rows per block: keeps the float temporaries small (256 x N)


def _check(boxes: Tensor, scores: Tensor) -> None:
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) xyxy, got shape {tuple(boxes.shape)}")
    if scores.shape != boxes.shape[:1]:
        raise ValueError(f"scores must be (N,) = ({boxes.shape[0]},), got {tuple(scores.shape)}")


def _overlap_matrix(boxes: Tensor, iou_threshold: float, plus_one: bool) -> np.ndarray:
    """(N, N) bool, for boxes already sorted by score: IoU(i, j) > threshold where j >= i.

    Only the upper triangle (in blocks of rows) is computed: the greedy pass never looks
    below the diagonal. Same float operations as the kernels, in the boxes' dtype.
    """
    extra = 1.0 if plus_one else 0.0
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1 + extra) * (y2 - y1 + extra)
    n = boxes.shape[0]
    over = np.zeros((n, n), dtype=bool)
    for start in range(0, n, _BLOCK_ROWS):
        rows, cols = slice(start, min(start + _BLOCK_ROWS, n)), slice(start, n)
        w = torch.minimum(x2[rows, None], x2[cols]).sub_(torch.maximum(x1[rows, None], x1[cols]))
        h = torch.minimum(y2[rows, None], y2[cols]).sub_(torch.maximum(y1[rows, None], y1[cols]))
        inter = w.add_(extra).clamp_(min=0).mul_(h.add_(extra).clamp_(min=0))
        union = (areas[rows, None] + areas[cols]).sub_(inter)
        over[rows, cols] = (inter.div_(union) > iou_threshold).cpu().numpy()
    return over


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float, plus_one: bool = False) -> Tensor:
    """Greedy NMS. boxes: (N, 4) xyxy; scores: (N,). Returns kept indices (M,) int64, best first."""
    _check(boxes, scores)
    if boxes.shape[0] == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = torch.sort(scores.detach(), descending=True, stable=True).indices
    sorted_boxes = boxes.detach()[order]
    if not sorted_boxes.is_floating_point():
        sorted_boxes = sorted_boxes.float()
    over = _overlap_matrix(sorted_boxes, float(iou_threshold), plus_one)
    suppressed = np.zeros(over.shape[0], dtype=bool)
    kept = []
    for i in range(over.shape[0]):
        if suppressed[i]:
            continue
        kept.append(i)
        suppressed[i + 1:] |= over[i, i + 1:]
    return order[torch.as_tensor(kept, dtype=torch.long, device=boxes.device)]


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float,
                plus_one: bool = False) -> Tensor:
    """NMS within each category: boxes of different ``idxs`` never suppress each other.

    boxes: (N, 4) xyxy; scores: (N,); idxs: (N,) int category per box. Returns kept indices
    (M,) int64 in descending score order. As in torchvision / mmdetection 2.0, each category is
    shifted by ``idx * (max_coordinate + 1)`` (``+ 2`` with ``plus_one``, whose overlaps reach
    one pixel further) so one NMS call separates them; coordinates must be >= 0.
    """
    _check(boxes, scores)
    if idxs.shape != scores.shape:
        raise ValueError(f"idxs must be (N,) like scores, got {tuple(idxs.shape)}")
    if boxes.shape[0] == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    boxes = boxes.detach()
    gap = 2.0 if plus_one else 1.0
    offsets = idxs.to(boxes) * (boxes.max() + gap)
    return nms(boxes + offsets[:, None], scores, iou_threshold, plus_one)
