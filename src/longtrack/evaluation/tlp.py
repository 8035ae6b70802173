"""TLP (Track Long and Prosper) scores: success AUC, precision at 20 px, success rate at IoU 0.5,
and the Longest Subsequence Measure (LSM).

TLP reports OTB-style success / precision plots; its long sequences contain frames where the
target is lost (``isLost``). We score them in the LaSOT convention (``ope.lasot_frame_errors``):
lost frames are not scored but count in the denominator, so every tracker fails there equally.

LSM (Moudgil & Gandhi, ACCV 2018): the length of the longest contiguous subsequence that is
"successfully tracked" -- at least a fraction ``x`` of its frames have IoU > 0.5 -- divided by the
sequence length; the paper reports ``x = 0.95``. ``x = 1`` gives the longest run of successes.
Here the subsequence runs over the visible frames (a lost stretch neither breaks nor extends a
run), and the length is the number of visible frames.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import LongtrackError
from .ope import lasot_curves, lasot_frame_errors

LSM_FRACTION = 0.95


def longest_subsequence(success, min_fraction: float = LSM_FRACTION) -> int:
    """Length of the longest contiguous window whose fraction of True entries is
    ``>= min_fraction``. Exact (integer arithmetic), O(N log N), vectorised."""
    s = np.asarray(success, dtype=bool).reshape(-1)
    if not 0.0 < min_fraction <= 1.0:
        raise LongtrackError(f"LSM fraction must be in (0, 1], got {min_fraction}")
    if len(s) == 0:
        return 0
    frac = Fraction(min_fraction).limit_denominator(10_000)
    # A window qualifies iff sum(q * s - p) >= 0; with prefix sums P that is P[j] >= P[i].
    prefix = np.concatenate([[0], np.cumsum(s.astype(np.int64) * frac.denominator - frac.numerator)])
    suffix_max = np.maximum.accumulate(prefix[::-1])[::-1]  # non-increasing in j
    # Largest j with suffix_max[j] >= prefix[i], for every start i.
    last = np.searchsorted(-suffix_max, -prefix, side="right") - 1
    return int(np.max(last - np.arange(len(prefix))))


def lsm(pred_xywh, gt_xywh, absent, min_fraction: float = LSM_FRACTION,
        iou_threshold: float = 0.5) -> float:
    """LSM of one sequence in [0, 1] (see the module docstring)."""
    overlap, _, _ = lasot_frame_errors(pred_xywh, gt_xywh, absent)
    if len(overlap) == 0:
        return float("nan")
    return longest_subsequence(overlap > iou_threshold, min_fraction) / len(overlap)


def tlp_scores(pred_xywh, gt_xywh, absent, min_fraction: float = LSM_FRACTION) -> dict:
    """``success_auc``, ``precision``, ``norm_precision``, ``success_rate_50`` and ``lsm`` of one
    sequence."""
    scores = lasot_curves(pred_xywh, gt_xywh, absent).scores()
    scores["lsm"] = lsm(pred_xywh, gt_xywh, absent, min_fraction)
    return scores
