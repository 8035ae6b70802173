"""OxUvA presence-aware scores: TPR, TNR, GM and MaxGM, as the official code computes them
(oxuva/long-term-tracking-benchmark, ``python/oxuva/assess.py``).

Per track only the annotated frames after the initialization frame are scored; a frame without
a prediction takes the last prediction before it (``subset_using_previous_if_missing``). A
present target is a true positive when the prediction says present and the IoU of both boxes,
clipped to the unit square (the image), is ``>=`` the threshold; an absent target is a true
negative when the prediction says absent. Counts are pooled over all tracks; TPR = TP / (TP + FN),
TNR = TN / (TN + FP), MaxGM = the best geometric mean on the segment from (TNR, TPR) to (1, 0)
(what a tracker could reach by reporting absent at random more often).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..boxes import clip_xywh, iou as xywh_iou
from ..errors import LongtrackError
from .overlaps import oxuva_iou_clip

COUNT_KEYS = ("TP", "FN", "TN", "FP", "num_present", "num_absent")


def previous_prediction_index(pred_frames, frames) -> np.ndarray:
    """Index into ``pred_frames`` (sorted ascending) of the last prediction at or before each of
    ``frames``; raises if a frame comes before every prediction."""
    pred_frames = np.asarray(pred_frames)
    idx = np.searchsorted(pred_frames, np.asarray(frames), side="right") - 1
    if len(idx) and idx.min() < 0:
        first = int(np.asarray(frames)[np.argmin(idx)])
        raise LongtrackError(f"no prediction at or before frame {first}")
    return idx


def assess_frames(gt_present, gt_box, pred_present, pred_box, iou_threshold: float = 0.5,
                  iou_fn=oxuva_iou_clip) -> dict:
    """TP/FN/TN/FP counts of aligned frames.

    Args:
        gt_present, pred_present: ``(K,)`` bool.
        gt_box, pred_box: ``(K, 4)`` boxes in the format ``iou_fn`` takes (OxUvA: relative
            ``xmin, xmax, ymin, ymax``); ignored where not present.
    """
    gp = np.asarray(gt_present, dtype=bool).reshape(-1)
    pp = np.asarray(pred_present, dtype=bool).reshape(-1)
    if len(gp) != len(pp):
        raise LongtrackError(f"{len(pp)} predictions for {len(gp)} annotated frames")
    hit = np.zeros(len(gp), dtype=bool)
    both = gp & pp
    if both.any():
        ious = iou_fn(np.asarray(pred_box, dtype=np.float64).reshape(-1, 4)[both],
                      np.asarray(gt_box, dtype=np.float64).reshape(-1, 4)[both])
        hit[both] = ious >= iou_threshold
    return {"TP": int(np.sum(hit)), "FN": int(np.sum(gp & ~hit)),
            "TN": int(np.sum(~gp & ~pp)), "FP": int(np.sum(~gp & pp)),
            "num_present": int(np.sum(gp)), "num_absent": int(np.sum(~gp))}


def sum_counts(counts) -> dict:
    total = dict.fromkeys(COUNT_KEYS, 0)
    for c in counts:
        for k in COUNT_KEYS:
            total[k] += int(c[k])
    return total


def max_geometric_mean_line(x1: float, y1: float, x2: float, y2: float) -> float:
    """Maximum of sqrt(x * y) on the segment from (x1, y1) to (x2, y2) (the endpoints and the
    peak of the concave quadratic, as the official code)."""
    a = (x1 - x2) * (y1 - y2)
    b = -y1 * (x1 - x2) - x1 * (y1 - y2)
    candidates = [0.0, 1.0]
    if a < 0:
        th_star = -b / (2 * a)
        if 0 <= th_star <= 1:
            candidates.append(th_star)

    def h(th):
        x, y = (1 - th) * x1 + th * x2, (1 - th) * y1 + th * y2
        return math.sqrt(x * y) if x * y >= 0 else float("nan")

    values = [h(th) for th in candidates]
    # Python's max keeps the first element when it is NaN; follow it.
    best = values[0]
    for v in values[1:]:
        if v > best:
            best = v
    return best


def quality_metrics(totals: dict) -> dict:
    """``tpr``, ``tnr``, ``gm``, ``max_gm`` (NaN where a rate has no frames) and the counts."""
    num_pos = totals["TP"] + totals["FN"]
    num_neg = totals["TN"] + totals["FP"]
    tpr = totals["TP"] / num_pos if num_pos else float("nan")
    tnr = totals["TN"] / num_neg if num_neg else float("nan")
    if math.isnan(tpr) or math.isnan(tnr):
        gm = float("nan")
    elif tpr == 0 or tnr == 0:
        gm = 0.0
    else:
        gm = float(np.exp(np.mean(np.log([tpr, tnr]))))
    out = {"tpr": tpr, "tnr": tnr, "gm": gm, "max_gm": max_geometric_mean_line(tnr, tpr, 1.0, 0.0)}
    out.update({k: int(totals[k]) for k in COUNT_KEYS if k in totals})
    return out


def assessment_from_json(path: str | Path) -> dict:
    """Per-track totals from an official ``iou_0d5.json``-style assessment file
    (``{"totals": [[[video, object], {TP, FN, ...}], ...]}``): ``{(video, object): counts}``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {tuple(key): dict(value) for key, value in data["totals"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LongtrackError(f"{path}: not an OxUvA assessment file ({exc})") from exc


def presence_counts(pred_present, pred_xywh, gt_xywh, absent, iou_threshold: float = 0.5,
                    image_size: tuple[float, float] | None = None, labelled=None) -> dict:
    """TP/FN/TN/FP of one densely predicted sequence in pixels (see ``presence_scores``)."""
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    pred = np.asarray(pred_xywh, dtype=np.float64).reshape(-1, 4)[: len(gt)]
    pp = np.asarray(pred_present, dtype=bool).reshape(-1)[: len(gt)]
    ab = np.asarray(absent, dtype=bool).reshape(-1)
    if not (len(gt) == len(pred) == len(pp) == len(ab)):
        raise LongtrackError(f"presence scores: lengths differ (gt {len(gt)}, boxes {len(pred)}, "
                             f"present {len(pp)}, absent {len(ab)})")
    scored = np.ones(len(gt), dtype=bool) if labelled is None else np.asarray(labelled, bool).copy()
    scored[:1] = False
    if image_size is not None:
        gt, pred = clip_xywh(gt, *image_size), clip_xywh(pred, *image_size)
    return assess_frames(~ab[scored], gt[scored], pp[scored], pred[scored], iou_threshold,
                         iou_fn=xywh_iou)


def presence_scores(pred_present, pred_xywh, gt_xywh, absent, iou_threshold: float = 0.5,
                    image_size: tuple[float, float] | None = None, labelled=None) -> dict:
    """OxUvA scores of one densely predicted sequence: ``tpr``, ``tnr``, ``max_gm`` (+ ``gm``
    and the counts).

    Frame 0 is the initialization frame and is not scored (as OxUvA's tasks). With
    ``image_size=(W, H)`` both boxes are clipped to the image first, which is OxUvA's clipping to
    the unit square (IoU does not change under the per-axis scaling); ``labelled`` restricts
    scoring to annotated frames. A rate without frames (no absent frame: TNR) is NaN.

    Args:
        pred_present: ``(N,)`` bool, the tracker's presence decision.
        pred_xywh, gt_xywh: ``(N, 4)`` boxes in pixels.
        absent: ``(N,)`` bool, True where the target is not visible.
    """
    return quality_metrics(presence_counts(pred_present, pred_xywh, gt_xywh, absent, iou_threshold,
                                           image_size, labelled))


def best_presence_threshold(runs, candidates: int = 101) -> tuple[dict, list[dict]]:
    """The confidence threshold whose ``present = confidence >= t`` gives the best pooled OxUvA
    geometric mean over ``runs`` (a tracker's presence threshold, tuned on a val split).

    Args:
        runs: per sequence ``(confidences (N,), boxes (N, 4) xywh, gt_xywh (N, 4), absent (N,))``;
            frame 0 (initialization) is not scored.
        candidates: thresholds tried: this many quantiles of the confidences after frame 0.

    Returns:
        ``(best row, all rows)``; a row is ``{"threshold": t, **quality_metrics}``.
    """
    runs = list(runs)
    if not runs:
        raise LongtrackError("best_presence_threshold: no sequences")
    scores = np.concatenate([np.asarray(r[0], dtype=np.float64)[1:] for r in runs])
    table = []
    for t in np.unique(np.quantile(scores, np.linspace(0.0, 1.0, candidates))):
        totals = sum_counts(presence_counts(np.asarray(s) >= t, b, gt, ab) for s, b, gt, ab in runs)
        table.append({"threshold": float(t), **quality_metrics(totals)})
    return max(table, key=lambda row: np.nan_to_num(row["gm"], nan=-1.0)), table
