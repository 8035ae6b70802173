"""Box formats, IoU and clipping: vectorised numpy functions.

Formats (always x before y):

* ``xywh``   -- top-left corner and size, the library's public format;
* ``xyxy``   -- top-left and bottom-right corners (continuous coordinates, x2 = x + w);
* ``cxcywh`` -- centre and size;
* inclusive ``xyxy`` -- the corners of mmdetection v1 (GlobalTrack's code): pixels ``x1 .. x2``
  both counted, so ``x2 = x + w - 1`` (``xywh_to_inclusive_xyxy``, ``inclusive_xyxy_to_xywh``).

Every function accepts an array of shape ``(..., 4)`` (a single box is ``(4,)``) and
returns float64 arrays of the matching shape. Torch versions for models live in
``longtrack.ops.box_ops``.
"""
from __future__ import annotations

from enum import Enum

import numpy as np

__all__ = [
    "BoxFormat",
    "convert",
    "xywh_to_xyxy",
    "xyxy_to_xywh",
    "xywh_to_cxcywh",
    "cxcywh_to_xywh",
    "xywh_to_inclusive_xyxy",
    "inclusive_xyxy_to_xywh",
    "with_min_side",
    "area",
    "iou",
    "pairwise_iou",
    "clip_xywh",
    "center",
    "is_valid",
]


class BoxFormat(str, Enum):
    XYWH = "xywh"
    XYXY = "xyxy"
    CXCYWH = "cxcywh"


def _as_boxes(boxes) -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.shape[-1:] != (4,):
        raise ValueError(f"boxes must have a last dimension of 4, got shape {arr.shape}")
    return arr


def xywh_to_xyxy(boxes) -> np.ndarray:
    b = _as_boxes(boxes)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)


def xyxy_to_xywh(boxes) -> np.ndarray:
    b = _as_boxes(boxes)
    return np.concatenate([b[..., :2], b[..., 2:] - b[..., :2]], axis=-1)


def xywh_to_cxcywh(boxes) -> np.ndarray:
    b = _as_boxes(boxes)
    return np.concatenate([b[..., :2] + b[..., 2:] / 2.0, b[..., 2:]], axis=-1)


def cxcywh_to_xywh(boxes) -> np.ndarray:
    b = _as_boxes(boxes)
    return np.concatenate([b[..., :2] - b[..., 2:] / 2.0, b[..., 2:]], axis=-1)


def xywh_to_inclusive_xyxy(boxes) -> np.ndarray:
    """xywh -> inclusive-pixel corners ``(x, y, x + w - 1, y + h - 1)`` (a box of width w spans
    x2 - x1 + 1 = w pixels), the convention of the authors' mmdetection v1 in GlobalTrack."""
    b = _as_boxes(boxes)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:] - 1], axis=-1)


def inclusive_xyxy_to_xywh(boxes) -> np.ndarray:
    """The inverse of ``xywh_to_inclusive_xyxy``: ``(x1, y1, x2 - x1 + 1, y2 - y1 + 1)``."""
    b = _as_boxes(boxes)
    return np.concatenate([b[..., :2], b[..., 2:] - b[..., :2] + 1], axis=-1)


_TO_XYWH = {
    BoxFormat.XYWH: lambda b: _as_boxes(b).copy(),
    BoxFormat.XYXY: xyxy_to_xywh,
    BoxFormat.CXCYWH: cxcywh_to_xywh,
}
_FROM_XYWH = {
    BoxFormat.XYWH: lambda b: b,
    BoxFormat.XYXY: xywh_to_xyxy,
    BoxFormat.CXCYWH: xywh_to_cxcywh,
}


def convert(boxes, src: BoxFormat | str, dst: BoxFormat | str) -> np.ndarray:
    """Convert boxes between any two formats (through xywh)."""
    return _FROM_XYWH[BoxFormat(dst)](_TO_XYWH[BoxFormat(src)](boxes))


def area(boxes_xywh) -> np.ndarray:
    """Area of xywh boxes; negative sizes count as zero."""
    b = _as_boxes(boxes_xywh)
    return np.clip(b[..., 2], 0, None) * np.clip(b[..., 3], 0, None)


def center(boxes_xywh) -> np.ndarray:
    b = _as_boxes(boxes_xywh)
    return b[..., :2] + b[..., 2:] / 2.0


def iou(a_xywh, b_xywh) -> np.ndarray:
    """Element-wise IoU of two broadcastable arrays of xywh boxes (continuous coordinates).

    Boxes with zero or negative area have IoU 0 with everything (no division by zero).
    """
    a = _as_boxes(a_xywh)
    b = _as_boxes(b_xywh)
    ax2, ay2 = a[..., 0] + a[..., 2], a[..., 1] + a[..., 3]
    bx2, by2 = b[..., 0] + b[..., 2], b[..., 1] + b[..., 3]
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    union = area(a) + area(b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return out


def pairwise_iou(a_xywh, b_xywh) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4): shape (N, M)."""
    a = _as_boxes(a_xywh).reshape(-1, 4)
    b = _as_boxes(b_xywh).reshape(-1, 4)
    return iou(a[:, None, :], b[None, :, :])


def clip_xywh(boxes_xywh, width: float, height: float) -> np.ndarray:
    """Clip xywh boxes to the image ``[0, width] x [0, height]``; a box fully outside gets size 0."""
    xyxy = xywh_to_xyxy(boxes_xywh)
    xyxy[..., 0::2] = np.clip(xyxy[..., 0::2], 0.0, float(width))
    xyxy[..., 1::2] = np.clip(xyxy[..., 1::2], 0.0, float(height))
    return xyxy_to_xywh(xyxy)


def is_valid(boxes_xywh) -> np.ndarray:
    """True where a box is finite with positive width and height."""
    b = _as_boxes(boxes_xywh)
    return np.all(np.isfinite(b), axis=-1) & (b[..., 2] > 0) & (b[..., 3] > 0)


def with_min_side(boxes_xywh, min_side: float) -> np.ndarray:
    """xywh boxes with width and height raised to at least ``min_side``, top-left corner kept."""
    b = _as_boxes(boxes_xywh)
    return np.concatenate([b[..., :2], np.maximum(b[..., 2:], min_side)], axis=-1)
