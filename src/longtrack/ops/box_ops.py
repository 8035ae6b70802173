"""Torch box conversions and IoU / GIoU, the differentiable twins of ``longtrack.boxes``.

Formats (always x before y), continuous coordinates: ``xywh`` (top-left + size),
``xyxy`` (corners, x2 = x + w), ``cxcywh`` (centre + size); ``box_xywh_to_inclusive_xyxy``
gives mmdetection v1's inclusive corners (x2 = x + w - 1). Every function takes tensors of
shape ``(..., 4)`` and keeps the dtype and device.

IoU conventions equal ``longtrack.boxes``: a negative width or height counts as zero
area, and a pair whose union is empty has IoU 0 (no division by zero, no NaN in the
gradient). GIoU of a pair whose enclosing box is empty equals its IoU.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "box_xywh_to_xyxy",
    "box_xywh_to_inclusive_xyxy",
    "box_xyxy_to_xywh",
    "box_cxcywh_to_xyxy",
    "box_xyxy_to_cxcywh",
    "box_xywh_to_cxcywh",
    "box_cxcywh_to_xywh",
    "box_convert",
    "box_area",
    "box_iou",
    "box_iou_elementwise",
    "generalized_box_iou",
    "generalized_box_iou_elementwise",
]


def _check(boxes: Tensor) -> Tensor:
    if boxes.shape[-1:] != (4,):
        raise ValueError(f"boxes must have a last dimension of 4, got shape {tuple(boxes.shape)}")
    return boxes


def box_xywh_to_xyxy(boxes: Tensor) -> Tensor:
    x, y, w, h = _check(boxes).unbind(-1)
    return torch.stack([x, y, x + w, y + h], dim=-1)


def box_xywh_to_inclusive_xyxy(boxes: Tensor) -> Tensor:
    """``boxes.xywh_to_inclusive_xyxy`` for tensors: mmdetection v1 corners ``(x, y, x + w - 1, y + h - 1)``."""
    x, y, w, h = _check(boxes).unbind(-1)
    return torch.stack([x, y, x + w - 1, y + h - 1], dim=-1)


def box_xyxy_to_xywh(boxes: Tensor) -> Tensor:
    x1, y1, x2, y2 = _check(boxes).unbind(-1)
    return torch.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)


def box_cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    cx, cy, w, h = _check(boxes).unbind(-1)
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)


def box_xyxy_to_cxcywh(boxes: Tensor) -> Tensor:
    x1, y1, x2, y2 = _check(boxes).unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


def box_xywh_to_cxcywh(boxes: Tensor) -> Tensor:
    x, y, w, h = _check(boxes).unbind(-1)
    return torch.stack([x + w / 2, y + h / 2, w, h], dim=-1)


def box_cxcywh_to_xywh(boxes: Tensor) -> Tensor:
    cx, cy, w, h = _check(boxes).unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, w, h], dim=-1)


_TO_XYXY = {"xyxy": lambda b: _check(b), "xywh": box_xywh_to_xyxy, "cxcywh": box_cxcywh_to_xyxy}
_FROM_XYXY = {"xyxy": lambda b: b, "xywh": box_xyxy_to_xywh, "cxcywh": box_xyxy_to_cxcywh}


def box_convert(boxes: Tensor, src: str, dst: str) -> Tensor:
    """Convert between ``"xywh"``, ``"xyxy"`` and ``"cxcywh"`` (through xyxy)."""
    src, dst = str(getattr(src, "value", src)), str(getattr(dst, "value", dst))
    if src not in _TO_XYXY or dst not in _FROM_XYXY:
        raise ValueError(f"unknown box format {src!r} or {dst!r}; use xywh, xyxy or cxcywh")
    if src == dst:
        return _check(boxes)
    return _FROM_XYXY[dst](_TO_XYXY[src](boxes))


def box_area(boxes_xyxy: Tensor) -> Tensor:
    """Area of xyxy boxes ``(..., 4) -> (...)``; negative sizes count as zero."""
    b = _check(boxes_xyxy)
    return (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)


def _safe_ratio(num: Tensor, den: Tensor, fallback: Tensor | float) -> Tensor:
    """``num / den`` where ``den > 0``, else ``fallback``; the masked branch never divides by 0."""
    positive = den > 0
    return torch.where(positive, num / torch.where(positive, den, torch.ones_like(den)), fallback)


def _iou_parts(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Intersection and union of broadcastable xyxy boxes."""
    iw = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0])).clamp(min=0)
    ih = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1])).clamp(min=0)
    inter = iw * ih
    return inter, box_area(a) + box_area(b) - inter


def box_iou_elementwise(a_xyxy: Tensor, b_xyxy: Tensor) -> Tensor:
    """IoU of two broadcastable box tensors ``(..., 4)`` -> ``(...)``."""
    inter, union = _iou_parts(_check(a_xyxy), _check(b_xyxy))
    return _safe_ratio(inter, union, 0.0)


def box_iou(a_xyxy: Tensor, b_xyxy: Tensor) -> Tensor:
    """Pairwise IoU: ``a`` (N, 4), ``b`` (M, 4) -> (N, M)."""
    return box_iou_elementwise(_check(a_xyxy)[:, None, :], _check(b_xyxy)[None, :, :])


def generalized_box_iou_elementwise(a_xyxy: Tensor, b_xyxy: Tensor) -> Tensor:
    """GIoU (Rezatofighi et al. 2019) of broadcastable boxes: IoU - (C - U) / C, C = enclosing area."""
    a, b = _check(a_xyxy), _check(b_xyxy)
    inter, union = _iou_parts(a, b)
    iou = _safe_ratio(inter, union, 0.0)
    cw = (torch.maximum(a[..., 2], b[..., 2]) - torch.minimum(a[..., 0], b[..., 0])).clamp(min=0)
    ch = (torch.maximum(a[..., 3], b[..., 3]) - torch.minimum(a[..., 1], b[..., 1])).clamp(min=0)
    enclosing = cw * ch
    return iou - _safe_ratio(enclosing - union, enclosing, 0.0)


def generalized_box_iou(a_xyxy: Tensor, b_xyxy: Tensor) -> Tensor:
    """Pairwise GIoU: ``a`` (N, 4), ``b`` (M, 4) -> (N, M), values in [-1, 1]."""
    return generalized_box_iou_elementwise(_check(a_xyxy)[:, None, :], _check(b_xyxy)[None, :, :])
