"""VOT long-term tracking precision, recall and F-score, as vot-toolkit 0.9.0 computes them
(``vot/analysis/longterm.py``, ``vot/region/raster.py``), vectorised.

* Overlaps are rasterised: x, y, w, h are stored as float32 and rounded half-to-even; a box covers
  pixel columns ``x .. x + w - 1``; with ``bounded`` pixels outside the ``W x H`` image are ignored.
  An empty region (absent ground truth, ``0`` / init marker ``1`` in the results) has bounds
  ``(0, 0, 0, 0)``; when the union of both regions' bounds is degenerate the overlap is 1 ("two
  empty regions are identical"), when it lies outside the image it is 0.
* Thresholds: ``determine_thresholds`` over every confidence of the tracker (all sequences; the
  init frame has confidence 0), ``resolution`` 100, plus ``+inf`` first and ``-inf`` last.
* Per sequence and threshold: frames with confidence ``>=`` the threshold are selected;
  precision = mean overlap of the selection (1 if none), recall = their overlap sum / the number
  of frames whose ground truth is not empty.
* Curves are averaged over sequences; F = 2 Pr Re / (Pr + Re); the reported point is the first
  maximum of F.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import LongtrackError

RESOLUTION = 100


def determine_thresholds(scores, resolution: int = RESOLUTION) -> np.ndarray:
    """The toolkit's confidence thresholds: ``resolution - 2`` evenly spaced order statistics of
    the non-NaN scores (all of them if fewer), with ``+inf`` prepended and ``-inf`` appended."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    s = np.sort(s[~np.isnan(s)])[::-1]
    if len(s) > resolution - 2:
        delta = math.floor(len(s) / (resolution - 2))
        idxs = np.round(np.linspace(delta, len(s) - delta, num=resolution - 2)).astype(int)
        s = s[idxs]
    return np.concatenate([[np.inf], s, [-np.inf]])


def _rect_bounds(boxes: np.ndarray, empty: np.ndarray):
    """Rounded float32 rectangles and their inclusive pixel bounds; empty regions -> zeros."""
    r = np.round(np.where(empty[:, None], 0, boxes).astype(np.float32)).astype(np.float64)
    left, top = r[:, 0], r[:, 1]
    right, bottom = r[:, 0] + r[:, 2] - 1, r[:, 1] + r[:, 3] - 1
    zero = np.zeros(len(r))
    bounds = tuple(np.where(empty, zero, v) for v in (left, top, right, bottom))
    return r, bounds


def raster_overlaps(pred_xywh, pred_empty, gt_xywh, gt_empty, image_size=None) -> np.ndarray:
    """Per-frame overlap of ``vot.region.raster.calculate_overlap`` for rectangles.

    Args:
        pred_xywh, gt_xywh: ``(N, 4)`` boxes (ignored where the region is empty).
        pred_empty, gt_empty: ``(N,)`` bool, True for empty / special regions.
        image_size: ``(W, H)`` for the bounded overlap, None for unbounded.
    Returns:
        ``(N,)`` overlaps in [0, 1].
    """
    pe = np.asarray(pred_empty, dtype=bool).reshape(-1)
    ge = np.asarray(gt_empty, dtype=bool).reshape(-1)
    p = np.nan_to_num(np.asarray(pred_xywh, dtype=np.float64).reshape(-1, 4))
    g = np.nan_to_num(np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4))
    if not (len(p) == len(g) == len(pe) == len(ge)):
        raise LongtrackError(f"{len(p)} predicted regions for {len(g)} ground-truth regions")
    p, (pl, pt, pr, pb) = _rect_bounds(p, pe)
    g, (gl, gt_, gr, gb) = _rect_bounds(g, ge)
    ul, ut = np.minimum(pl, gl), np.minimum(pt, gt_)
    ur, ub = np.maximum(pr, gr), np.maximum(pb, gb)
    identical = (ul >= ur) | (ut >= ub)
    if image_size is not None:
        rl, rt = np.maximum(0, ul), np.maximum(0, ut)
        rr = np.minimum(float(image_size[0]) - 1, ur)
        rb = np.minimum(float(image_size[1]) - 1, ub)
    else:
        rl, rt, rr, rb = ul, ut, ur, ub
    outside = (rl >= rr) | (rt >= rb)

    def extent(r, empty):
        # rasterize_rectangle: nothing when the box misses the raster, else its clipped span.
        x0, y0, x1, y1 = r[:, 0], r[:, 1], r[:, 0] + r[:, 2] - 1, r[:, 1] + r[:, 3] - 1
        missed = empty | (x0 > rr) | (x1 < rl) | (y0 > rb) | (y1 < rt)
        # The toolkit clips the far edge at the absolute raster bound while indexing relative
        # to the raster origin, hence the extra ``rl + rr`` (only active when unbounded, rl < 0).
        c0, c1 = np.maximum(x0, rl), np.minimum(np.minimum(x1, rr), rl + rr)
        r0, r1 = np.maximum(y0, rt), np.minimum(np.minimum(y1, rb), rt + rb)
        c1 = np.where(missed, c0 - 1, c1)
        return c0, c1, r0, r1

    pc0, pc1, pr0, pr1 = extent(p, pe)
    gc0, gc1, gr0, gr1 = extent(g, ge)

    def count(c0, c1, r0, r1):
        return np.maximum(0, c1 - c0 + 1) * np.maximum(0, r1 - r0 + 1)

    inter = count(np.maximum(pc0, gc0), np.minimum(pc1, gc1), np.maximum(pr0, gr0),
                  np.minimum(pr1, gr1))
    union = count(pc0, pc1, pr0, pr1) + count(gc0, gc1, gr0, gr1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        overlap = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    return np.where(identical, 1.0, np.where(outside, 0.0, overlap))


def tpr_curves(overlaps, confidence, n_visible: int, thresholds) -> tuple[np.ndarray, np.ndarray]:
    """``compute_tpr_curves`` of one trajectory: precision and recall at every threshold.

    NaN confidences are never selected. Returns two ``(T,)`` arrays.
    """
    ov = np.asarray(overlaps, dtype=np.float64).reshape(-1)
    conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
    if len(conf) != len(ov):
        raise LongtrackError(f"{len(conf)} confidences for {len(ov)} frames")
    thr = np.asarray(thresholds, dtype=np.float64)
    keep = ~np.isnan(conf)
    order = np.argsort(-conf[keep], kind="stable")
    conf_desc = conf[keep][order]
    sums = np.concatenate([[0.0], np.cumsum(ov[keep][order])])
    # Number of frames with confidence >= threshold, from the descending order.
    selected = len(conf_desc) - np.searchsorted(conf_desc[::-1], thr, side="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(selected > 0, sums[selected] / np.maximum(selected, 1), 1.0)
        recall = np.where(selected > 0, sums[selected] / n_visible, 0.0)
    return precision, recall


def count_frames(overlaps, pred_empty, gt_empty, gt_unknown=None) -> tuple[int, int, int, int, int]:
    """The toolkit's ``count_frames`` (threshold 0): Tracking, Failure, Miss, Hallucination,
    Notice. ``gt_unknown`` (default: ``gt_empty``, since the toolkit reads an absent ground truth
    as ``Special(0)`` = unknown) marks frames that are skipped."""
    ov = np.asarray(overlaps, dtype=np.float64)
    pe, ge = np.asarray(pred_empty, bool), np.asarray(gt_empty, bool)
    unknown = ge if gt_unknown is None else np.asarray(gt_unknown, bool)
    scored = ~unknown
    vis = scored & ~ge
    t = int(np.sum(vis & (ov > 0)))
    m = int(np.sum(vis & ~(ov > 0) & pe))
    f = int(np.sum(vis & ~(ov > 0) & ~pe))
    h = int(np.sum(scored & ge & ~pe))
    n = int(np.sum(scored & ge & pe))
    return t, f, m, h, n


@dataclass(frozen=True)
class LongTermScores:
    precision: float
    recall: float
    f_score: float
    threshold: float
    threshold_index: int
    thresholds: np.ndarray
    precision_curve: np.ndarray
    recall_curve: np.ndarray
    f_curve: np.ndarray

    def as_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f_score": self.f_score,
                "threshold": self.threshold}


def aggregate(curves: list[tuple[np.ndarray, np.ndarray]], thresholds) -> LongTermScores:
    """Average per-sequence ``(precision, recall)`` curves and pick the F-maximising threshold."""
    if not curves:
        raise LongtrackError("no sequences to score")
    precision = np.sum(np.stack([c[0] for c in curves]), axis=0) / len(curves)
    recall = np.sum(np.stack([c[1] for c in curves]), axis=0) / len(curves)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (2.0 * recall * precision) / (recall + precision)
    best = int(np.argmax(np.where(np.isnan(f), -np.inf, f)))
    thresholds = np.asarray(thresholds, dtype=np.float64)
    return LongTermScores(
        precision=float(precision[best]), recall=float(recall[best]), f_score=float(f[best]),
        threshold=float(thresholds[best]), threshold_index=best, thresholds=thresholds,
        precision_curve=precision, recall_curve=recall, f_curve=f)


@dataclass(frozen=True)
class Trajectory:
    """One run of a tracker on one sequence, with the sequence's ground truth.

    ``pred_empty`` is True for special regions (the init marker of frame 0 and reported absences);
    ``confidence`` is the toolkit's (missing values already replaced by 0).
    """

    pred_xywh: np.ndarray
    pred_empty: np.ndarray
    confidence: np.ndarray
    gt_xywh: np.ndarray
    gt_empty: np.ndarray
    image_size: tuple[int, int] | None

    def overlaps(self, bounded: bool = True) -> np.ndarray:
        return raster_overlaps(self.pred_xywh, self.pred_empty, self.gt_xywh, self.gt_empty,
                               self.image_size if bounded else None)


def score_trajectories(sequences: list[list[Trajectory]], bounded: bool = True,
                       resolution: int = RESOLUTION) -> tuple[LongTermScores, list]:
    """Score a tracker: ``sequences[i]`` holds the runs on sequence i (usually one).

    Returns the aggregate scores and, per sequence, ``(precision_curve, recall_curve, counts)``
    where counts are the run-averaged ``count_frames``.
    """
    thresholds = determine_thresholds(
        np.concatenate([t.confidence for runs in sequences for t in runs]), resolution)
    curves, details = [], []
    for runs in sequences:
        if not runs:
            raise LongtrackError("a sequence has no results")
        pr = np.zeros(len(thresholds))
        re = np.zeros(len(thresholds))
        counts = np.zeros(5)
        for run in runs:
            ov = run.overlaps(bounded)
            n_visible = int(np.sum(~np.asarray(run.gt_empty, bool)))
            p, r = tpr_curves(ov, run.confidence, n_visible, thresholds)
            pr, re = pr + p, re + r
            counts += count_frames(ov, run.pred_empty, run.gt_empty)
        curves.append((pr / len(runs), re / len(runs)))
        details.append((pr / len(runs), re / len(runs), counts / len(runs)))
    return aggregate(curves, thresholds), details
