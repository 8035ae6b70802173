"""One-pass evaluation (OPE): success curve and AUC, precision at 20 px, normalized precision.

Four conventions, each reproducing an official toolkit exactly:

* ``lasot`` -- the LaSOT MATLAB toolkit (``calc_seq_err_robust.m``, ``eval_tracker.m``,
  ``plot_draw_save.m``): frame 1 replaced by the ground truth; NaN / ``w <= 0`` / ``h <= 0``
  predictions replaced by the previous frame's; absent frames removed from scoring but counted in
  the denominator (a failure); visible frames whose ground truth has a coordinate ``<= 0`` get
  overlap -1 and centre error -1 (a failure for success, a success for precision);
  pixel-inclusive IoU; centres at ``(w - 1) / 2``; normalized error divides centres by the
  ground-truth size.
* ``otb`` -- the got10k toolkit's ``ExperimentOTB``: frame 1 replaced by the ground truth, every
  frame scored, continuous IoU; normalized precision (which OTB does not define) as ``got10k_head``.
* ``got10k_head`` -- got10k GitHub HEAD ``ExperimentLaSOT``: like ``otb`` but frames whose ground
  truth has a NaN are skipped, and normalized error divides by ``max(1, gt size)``.
* ``trackingnet`` -- the TrackingNet devkit: integer-rounded boxes, pixel-inclusive IoU, 21
  thresholds for every curve, and AUCs by the trapezoid rule over [0, 1].

Success thresholds are ``0:0.05:1`` (``>``), precision thresholds ``0:50`` px (``<=``),
normalized ``(0:50) / 100``; sequence curves are averaged over sequences.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LongtrackError
from .overlaps import (
    centers_minus_one,
    got10k_center_error,
    got10k_normalized_center_error,
    got10k_rect_iou,
    matlab_rect_overlap,
    trackingnet_overlap_and_errors,
)

CONVENTIONS = ("lasot", "otb", "got10k_head", "trackingnet")

# Octave evaluates the range 0:0.05:1 element-wise as base + i * increment.
SUCCESS_THRESHOLDS = np.arange(21) * 0.05
PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64)
NORM_PRECISION_THRESHOLDS = np.arange(51) / 100
# TrackingNet's devkit samples every curve at 21 points.
TRACKINGNET_SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)
TRACKINGNET_PRECISION_THRESHOLDS = np.linspace(0, 50, 21)
TRACKINGNET_NORM_PRECISION_THRESHOLDS = np.linspace(0, 0.5, 21)


@dataclass(frozen=True)
class OpeCurves:
    """Success, precision and normalized-precision curves of one sequence or a whole dataset.

    ``success`` is sampled at ``success_x``; the precision curves at ``precision_x`` /
    ``norm_precision_x``. ``trapezoid`` selects TrackingNet's area-under-curve scores.
    """

    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray
    convention: str = "lasot"

    @property
    def trapezoid(self) -> bool:
        return self.convention == "trackingnet"

    @property
    def success_x(self) -> np.ndarray:
        return TRACKINGNET_SUCCESS_THRESHOLDS if self.trapezoid else SUCCESS_THRESHOLDS

    @property
    def precision_x(self) -> np.ndarray:
        return TRACKINGNET_PRECISION_THRESHOLDS if self.trapezoid else PRECISION_THRESHOLDS

    @property
    def norm_precision_x(self) -> np.ndarray:
        return (TRACKINGNET_NORM_PRECISION_THRESHOLDS if self.trapezoid
                else NORM_PRECISION_THRESHOLDS)

    def scores(self) -> dict:
        """``success_auc``, ``precision`` (20 px), ``norm_precision`` (0.2) and
        ``success_rate_50`` (the 0.5 point of the success curve)."""
        if self.trapezoid:
            # The devkit integrates every curve over x = linspace(0, 1, 21).
            return {
                "success_auc": _trapezoid(self.success),
                "precision": _trapezoid(self.precision),
                "norm_precision": _trapezoid(self.norm_precision),
                "success_rate_50": float(self.success[10]),
            }
        return {
            "success_auc": float(np.mean(self.success)),
            "precision": float(self.precision[20]),
            "norm_precision": float(self.norm_precision[20]),
            "success_rate_50": float(self.success[10]),
        }


def _trapezoid(y: np.ndarray) -> float:
    x = TRACKINGNET_SUCCESS_THRESHOLDS
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def _check_lengths(pred: np.ndarray, gt: np.ndarray, name: str = "") -> np.ndarray:
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    if len(pred) < len(gt):
        raise LongtrackError(f"{name or 'prediction'}: {len(pred)} predicted boxes for "
                             f"{len(gt)} annotated frames")
    return pred


def _lasot_errors(pred: np.ndarray, gt: np.ndarray, absent: np.ndarray, starts: np.ndarray):
    """``calc_seq_err_robust.m`` on concatenated sequences (``starts``: first row of each).

    Returns overlap, centre error and normalized centre error of the visible rows, and the mask
    of visible rows.
    """
    n = len(gt)
    # Replace invalid predictions by the previous (already repaired) one, frame 1 excepted;
    # MATLAB only does it where the ground-truth row has no NaN.
    invalid = np.isnan(pred).any(axis=1) | (pred[:, 2] <= 0) | (pred[:, 3] <= 0)
    replace = invalid & ~np.isnan(gt).any(axis=1)
    replace[starts] = False
    source = np.maximum.accumulate(np.where(replace, 0, np.arange(n)))
    rect = pred[source]
    rect[starts] = gt[starts]
    visible = ~absent
    rect, anno = rect[visible], gt[visible]

    center, center_gt = centers_minus_one(rect), centers_minus_one(anno)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.sqrt(np.sum((center - center_gt) ** 2, axis=1))
        norm_err = np.sqrt(np.sum((center / anno[:, 2:] - center_gt / anno[:, 2:]) ** 2, axis=1))
    valid = np.all(anno > 0, axis=1)
    overlap = -np.ones(len(anno))
    overlap[valid] = matlab_rect_overlap(rect[valid], anno[valid])
    err[~valid] = -1
    norm_err[~valid] = -1
    return overlap, err, norm_err, visible


def lasot_frame_errors(pred_xywh, gt_xywh, absent) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame overlap, centre error and normalized centre error of the visible frames, as
    ``calc_seq_err_robust.m`` computes them (see the module docstring). Shapes ``(V,)``.

    Predictions longer than the ground truth are cut (the toolkit's monkey-17 rule).
    """
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    pred = _check_lengths(pred_xywh, gt)[: len(gt)]
    absent = np.asarray(absent, dtype=bool).reshape(-1)
    overlap, err, norm_err, _ = _lasot_errors(pred, gt, absent, np.array([0]))
    return overlap, err, norm_err


def lasot_curves_many(preds, gts, absents) -> list[OpeCurves]:
    """``lasot_curves`` of many sequences at once (identical numbers, one vectorised pass)."""
    gts = [np.asarray(g, dtype=np.float64).reshape(-1, 4) for g in gts]
    lengths = np.array([len(g) for g in gts])
    if len(gts) == 0 or lengths.min() == 0:
        raise LongtrackError("every sequence needs at least one frame")
    pred = np.concatenate([_check_lengths(p, g)[: len(g)] for p, g in zip(preds, gts)])
    absent = np.concatenate([np.asarray(a, dtype=bool).reshape(-1) for a in absents])
    if len(absent) != len(pred):
        raise LongtrackError("absence flags and ground truth differ in length")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    overlap, err, norm_err, visible = _lasot_errors(pred, np.concatenate(gts), absent, starts)
    # Slices of the visible rows per sequence.
    visible_count = np.add.reduceat(visible.astype(np.int64), starts)
    ends = np.cumsum(visible_count)
    begins = ends - visible_count
    eps = np.finfo(float).eps
    return [OpeCurves(
        success=count_greater(overlap[b:e], SUCCESS_THRESHOLDS) / (n + eps),
        precision=count_at_most(err[b:e], PRECISION_THRESHOLDS) / (n + eps),
        norm_precision=count_at_most(norm_err[b:e], NORM_PRECISION_THRESHOLDS) / (n + eps),
        convention="lasot") for b, e, n in zip(begins, ends, lengths)]


def lasot_curves(pred_xywh, gt_xywh, absent) -> OpeCurves:
    """One sequence's curves in the LaSOT MATLAB convention (``eval_tracker.m``): counts of the
    visible frames divided by the number of all frames (+ eps)."""
    return lasot_curves_many([pred_xywh], [gt_xywh], [absent])[0]


def count_greater(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of ``values > t`` for every threshold (NaN never counts); by sorting, which is
    much cheaper than an (N, T) comparison for long sequences."""
    v = np.sort(values[~np.isnan(values)])
    return (len(v) - np.searchsorted(v, thresholds, side="right")).astype(np.float64)


def count_at_most(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of ``values <= t`` for every threshold (NaN never counts)."""
    v = np.sort(values[~np.isnan(values)])
    return np.searchsorted(v, thresholds, side="right").astype(np.float64)


def _frame1_replaced(pred_xywh, gt: np.ndarray) -> np.ndarray:
    pred = _check_lengths(pred_xywh, gt).copy()
    if len(pred) != len(gt):
        raise LongtrackError(f"{len(pred)} predicted boxes for {len(gt)} annotated frames")
    pred[:1] = gt[:1]
    return pred


def _curves_from_errors(ious, err, norm_err, convention: str) -> OpeCurves:
    ious, err, norm_err = (np.asarray(v, dtype=np.float64)[:, None] for v in (ious, err, norm_err))
    return OpeCurves(
        success=np.mean(np.greater(ious, SUCCESS_THRESHOLDS[None]), axis=0),
        precision=np.mean(np.less_equal(err, PRECISION_THRESHOLDS[None]), axis=0),
        norm_precision=np.mean(np.less_equal(norm_err, NORM_PRECISION_THRESHOLDS[None]), axis=0),
        convention=convention)


def otb_curves(pred_xywh, gt_xywh) -> OpeCurves:
    """got10k ``ExperimentOTB``: frame 1 set to the ground truth, every frame scored."""
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    pred = _frame1_replaced(pred_xywh, gt)
    return _curves_from_errors(got10k_rect_iou(pred, gt), got10k_center_error(pred, gt),
                               got10k_normalized_center_error(pred, gt), "otb")


def got10k_head_curves(pred_xywh, gt_xywh) -> OpeCurves:
    """got10k HEAD ``ExperimentLaSOT``: as OTB, frames with a NaN ground truth skipped."""
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    pred = _frame1_replaced(pred_xywh, gt)
    valid = ~np.any(np.isnan(gt), axis=1)
    pred, gt = pred[valid], gt[valid]
    return _curves_from_errors(got10k_rect_iou(pred, gt), got10k_center_error(pred, gt),
                               got10k_normalized_center_error(pred, gt), "got10k_head")


def trackingnet_curves(pred_xywh, gt_xywh) -> OpeCurves:
    """TrackingNet devkit: frame 1 set to the ground truth, every frame scored, 21-point curves."""
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    pred = _frame1_replaced(pred_xywh, gt)
    iou, dist, ndist = trackingnet_overlap_and_errors(pred, gt)
    n = float(len(gt))
    return OpeCurves(
        success=np.sum(iou[:, None] > TRACKINGNET_SUCCESS_THRESHOLDS[None], axis=0) / n,
        precision=np.sum(dist[:, None] <= TRACKINGNET_PRECISION_THRESHOLDS[None], axis=0) / n,
        norm_precision=np.sum(ndist[:, None] <= TRACKINGNET_NORM_PRECISION_THRESHOLDS[None], axis=0)
        / n,
        convention="trackingnet")


def sequence_curves(pred_xywh, gt_xywh, absent, convention: str = "lasot") -> OpeCurves:
    """Curves of one sequence in the named convention (``CONVENTIONS``)."""
    if convention == "lasot":
        return lasot_curves(pred_xywh, gt_xywh, absent)
    if convention == "otb":
        return otb_curves(pred_xywh, gt_xywh)
    if convention == "got10k_head":
        return got10k_head_curves(pred_xywh, gt_xywh)
    if convention == "trackingnet":
        return trackingnet_curves(pred_xywh, gt_xywh)
    raise LongtrackError(f"unknown OPE convention {convention!r}; choose from {', '.join(CONVENTIONS)}")


def average_curves(curves: list[OpeCurves]) -> OpeCurves:
    """Mean curve over sequences. In the LaSOT convention, sequences whose curve sums to
    ``<= eps`` are dropped first, per curve type, as ``plot_draw_save.m`` does."""
    if not curves:
        raise LongtrackError("no sequences to average")
    convention = curves[0].convention

    def mean(rows: np.ndarray) -> np.ndarray:
        if convention == "lasot":
            kept = rows[np.sum(rows, axis=1) > np.finfo(float).eps]
            rows = kept if len(kept) else rows
        return np.mean(rows, axis=0)

    return OpeCurves(
        success=mean(np.stack([c.success for c in curves])),
        precision=mean(np.stack([c.precision for c in curves])),
        norm_precision=mean(np.stack([c.norm_precision for c in curves])),
        convention=convention)


def ope_scores(pred_xywh, gt_xywh, absent) -> dict:
    """One sequence in the LaSOT convention: ``success_auc``, ``precision`` (20 px) and
    ``norm_precision`` (0.2), each in [0, 1].

    Args:
        pred_xywh: ``(N, 4)`` predicted boxes (frame 0 is replaced by the ground truth).
        gt_xywh: ``(N, 4)`` ground-truth boxes.
        absent: ``(N,)`` bool, True where the target is not visible (a failure for any tracker).
    """
    scores = lasot_curves(pred_xywh, gt_xywh, absent).scores()
    return {k: scores[k] for k in ("success_auc", "precision", "norm_precision")}
