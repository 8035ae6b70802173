"""Re-detection after absence: how many frames after the target re-appears does the tracker have
it again?

A re-appearance is a visible frame ``i`` whose previous frame is absent (the sequence start is
not one). The delay is the smallest ``k >= 0`` such that at frame ``i + k`` the tracker reports
the target present (when it reports presence at all) with IoU > 0.5. The search is censored at the
next absence or the sequence end: a re-appearance without such a frame is "not re-detected".

The dataset figure pools every re-appearance of every sequence: the fraction re-detected and the
mean / median delay of the re-detected ones (in frames).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..boxes import iou as xywh_iou
from ..errors import LongtrackError

IOU_THRESHOLD = 0.5


@dataclass(frozen=True)
class Reappearance:
    frame: int          # first visible frame after an absence
    window: int         # visible frames until the next absence or the end
    delay: int | None   # frames until re-detected, None if censored


def reappearances(pred_xywh, gt_xywh, absent, present=None,
                  iou_threshold: float = IOU_THRESHOLD) -> list[Reappearance]:
    """Every re-appearance of one sequence with its re-detection delay.

    Args:
        pred_xywh, gt_xywh: ``(N, 4)`` boxes (NaN predictions never match).
        absent: ``(N,)`` bool, True where the target is not visible.
        present: ``(N,)`` bool presence reported by the tracker, or None (boxes only).
    """
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    pred = np.asarray(pred_xywh, dtype=np.float64).reshape(-1, 4)
    ab = np.asarray(absent, dtype=bool).reshape(-1)
    if not (len(gt) == len(pred) == len(ab)):
        raise LongtrackError(f"re-detection: {len(pred)} predictions, {len(gt)} boxes, "
                             f"{len(ab)} absence flags")
    has = (xywh_iou(np.nan_to_num(pred, nan=-1e9), gt) > iou_threshold) & ~ab
    if present is not None:
        has &= np.asarray(present, dtype=bool).reshape(-1)
    n = len(ab)
    starts = np.flatnonzero(~ab[1:] & ab[:-1]) + 1
    if len(starts) == 0:
        return []
    # End (exclusive) of each visible run: the next absent frame, or n.
    absent_idx = np.append(np.flatnonzero(ab), n)
    ends = absent_idx[np.searchsorted(absent_idx, starts)]
    hits = np.append(np.flatnonzero(has), n)  # n: a sentinel "never"
    hit_frame = hits[np.searchsorted(hits, starts)]
    found = hit_frame < ends
    return [Reappearance(frame=int(s), window=int(e - s), delay=int(h - s) if f else None)
            for s, e, h, f in zip(starts, ends, hit_frame, found)]


def summarize(events: list[Reappearance]) -> dict:
    """``num_reappearances``, ``redetected_fraction``, ``mean_frames``, ``median_frames``
    (NaN where undefined)."""
    delays = np.array([e.delay for e in events if e.delay is not None], dtype=np.float64)
    n = len(events)
    return {
        "num_reappearances": n,
        "redetected_fraction": float(len(delays) / n) if n else float("nan"),
        "mean_frames": float(np.mean(delays)) if len(delays) else float("nan"),
        "median_frames": float(np.median(delays)) if len(delays) else float("nan"),
    }
