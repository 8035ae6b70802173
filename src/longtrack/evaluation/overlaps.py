"""The box-overlap and centre-error conventions of each official toolkit, vectorised.

Toolkits disagree on small things (pixel-inclusive areas, centres at ``(w - 1) / 2``, image
clipping, NaN handling); each function here reproduces one toolkit's arithmetic exactly, in the
same order of floating-point operations, so that scores match to the last digit.

Every function takes ``(N, 4)`` float arrays of ``(x, y, w, h)`` boxes and returns ``(N,)`` float64.
"""
from __future__ import annotations

import numpy as np


def _xywh(boxes) -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {arr.shape}")
    return arr


def matlab_rect_overlap(a_xywh, b_xywh) -> np.ndarray:
    """``calc_rect_int.m`` of the OTB / LaSOT MATLAB toolkits: pixel-inclusive IoU.

    A box covers ``x .. x + w - 1``; the intersection adds one pixel. MATLAB's ``max`` and
    ``min`` ignore NaN, hence ``fmax`` / ``fmin``.
    """
    a, b = _xywh(a_xywh), _xywh(b_xywh)
    right_a = a[:, 0] + a[:, 2] - 1
    top_a = a[:, 1] + a[:, 3] - 1
    right_b = b[:, 0] + b[:, 2] - 1
    top_b = b[:, 1] + b[:, 3] - 1
    inter = (np.fmax(0, np.fmin(right_a, right_b) - np.fmax(a[:, 0], b[:, 0]) + 1)
             * np.fmax(0, np.fmin(top_a, top_b) - np.fmax(a[:, 1], b[:, 1]) + 1))
    area_a = a[:, 2] * a[:, 3]
    area_b = b[:, 2] * b[:, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area_a + area_b - inter)


def centers_minus_one(boxes_xywh) -> np.ndarray:
    """Box centres as the OTB-family toolkits define them: ``x + (w - 1) / 2``. Shape (N, 2)."""
    b = _xywh(boxes_xywh)
    return b[:, :2] + (b[:, 2:] - 1) / 2


def got10k_rect_iou(a_xywh, b_xywh, bound: tuple[float, float] | None = None) -> np.ndarray:
    """``got10k.utils.metrics.rect_iou`` (continuous IoU, optional image bound).

    With ``bound=(W, H)`` both boxes are clipped as the toolkit does: ``x`` to ``[0, W]``, then
    ``w`` to ``[0, W - x]`` (a box left of the image is shifted, not cropped). Negative sizes are
    not clipped without a bound (their product enters the union as is), and the IoU is clipped to
    ``[0, 1]`` at the end.
    """
    a, b = _xywh(a_xywh).copy(), _xywh(b_xywh).copy()
    if bound is not None:
        for r in (a, b):
            r[:, 0] = np.clip(r[:, 0], 0, bound[0])
            r[:, 1] = np.clip(r[:, 1], 0, bound[1])
            r[:, 2] = np.clip(r[:, 2], 0, bound[0] - r[:, 0])
            r[:, 3] = np.clip(r[:, 3], 0, bound[1] - r[:, 1])
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    area_inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    area_union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - area_inter
    ious = area_inter / (area_union + np.finfo(float).eps)
    return np.clip(ious, 0.0, 1.0)


def got10k_center_error(a_xywh, b_xywh) -> np.ndarray:
    """``got10k.utils.metrics.center_error``: Euclidean distance of ``(w - 1) / 2`` centres."""
    d = centers_minus_one(a_xywh) - centers_minus_one(b_xywh)
    return np.sqrt(np.sum(np.power(d, 2), axis=-1))


def got10k_normalized_center_error(pred_xywh, gt_xywh) -> np.ndarray:
    """got10k toolkit (GitHub HEAD) ``normalized_center_error``: offsets divided by
    ``max(1, ground-truth w / h)``."""
    gt = _xywh(gt_xywh)
    d = (centers_minus_one(pred_xywh) - centers_minus_one(gt)) / np.maximum(
        np.array([[1.0, 1.0]]), gt[:, 2:])
    return np.sqrt(np.sum(np.power(d, 2), axis=-1))


def trackingnet_overlap_and_errors(pred_xywh, gt_xywh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TrackingNet devkit ``metrics.py``: boxes rounded to integers (half-even), pixel-inclusive
    IoU, centres at ``x + (w + 1) / 2``. Returns ``(iou, center_error, normalized_error)``."""
    p = np.round(_xywh(pred_xywh))
    g = np.round(_xywh(gt_xywh))
    p_x2, p_y2 = p[:, 0] + p[:, 2] - 1.0, p[:, 1] + p[:, 3] - 1.0
    g_x2, g_y2 = g[:, 0] + g[:, 2] - 1.0, g[:, 1] + g[:, 3] - 1.0
    inter_w = np.clip(np.round(np.minimum(g_x2, p_x2) - np.maximum(g[:, 0], p[:, 0]) + 1), 0, None)
    inter_h = np.clip(np.round(np.minimum(g_y2, p_y2) - np.maximum(g[:, 1], p[:, 1]) + 1), 0, None)
    inter = inter_w * inter_h
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / (g[:, 3] * g[:, 2] + p[:, 3] * p[:, 2] - inter)
        dx = (g[:, 0] + (g[:, 2] + 1.0) / 2.0) - (p[:, 0] + (p[:, 2] + 1.0) / 2.0)
        dy = (g[:, 1] + (g[:, 3] + 1.0) / 2.0) - (p[:, 1] + (p[:, 3] + 1.0) / 2.0)
        dist = np.sqrt(dx * dx + dy * dy)
        ndist = np.sqrt(dx / g[:, 2] * dx / g[:, 2] + dy / g[:, 3] * dy / g[:, 3])
    return iou, dist, ndist


def oxuva_iou_clip(a_xyxy, b_xyxy) -> np.ndarray:
    """OxUvA ``assess.iou_clip``: both boxes ``(xmin, xmax, ymin, ymax)`` in relative image
    coordinates are intersected with the unit square, then the IoU (inverted = empty)."""
    a = np.asarray(a_xyxy, dtype=np.float64)
    b = np.asarray(b_xyxy, dtype=np.float64)

    def clip(r):
        return (np.maximum(r[:, 0], 0.0), np.minimum(r[:, 1], 1.0),
                np.maximum(r[:, 2], 0.0), np.minimum(r[:, 3], 1.0))

    def vol(xmin, xmax, ymin, ymax):
        return np.maximum(0, xmax - xmin) * np.maximum(0, ymax - ymin)

    axmin, axmax, aymin, aymax = clip(a)
    bxmin, bxmax, bymin, bymax = clip(b)
    inter = vol(np.maximum(axmin, bxmin), np.minimum(axmax, bxmax),
                np.maximum(aymin, bymin), np.minimum(aymax, bymax))
    union = vol(axmin, axmax, aymin, aymax) + vol(bxmin, bxmax, bymin, bymax) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / union
