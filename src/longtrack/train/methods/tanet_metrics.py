"""How well TANet attention maps point at the target: scores for ``evaluate()`` and the
training checks (``experiments/tanet/training_check.py``).

The map's maximum alone (``peak_in_box``) is a harsh and noisy measure: one bright pixel
anywhere (a border artefact of the transposed convolutions, another object) sets it to 0.
The pixel AUC measures the whole ranking instead: the probability that a random pixel of
the target's box scores above a random pixel outside it (0.5 = chance, 1 = every target pixel
above every other pixel). With the other objects' boxes it also says whether the map has
learned objectness (objects above background) and target-awareness (target above objects).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["pixel_auc", "map_scores"]


def pixel_auc(scores: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> float:
    """P(score of a random ``positive`` pixel > score of a random ``negative`` pixel), ties
    counting one half (Mann-Whitney U). ``scores`` ``(H, W)``; the masks ``(H, W)`` bool.
    NaN when either set is empty."""
    pos, neg = scores[positive], scores[negative]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([pos, neg]), method="average")
    return float((ranks[:pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def map_scores(logits: np.ndarray, target_masks: np.ndarray,
               object_masks: np.ndarray | None = None) -> dict[str, float]:
    """Scores of ``N`` maps (``logits`` ``(N, O, O)``; logits rather than probabilities so that
    saturated sigmoids do not tie) against the target's box masks ``(N, O, O)`` (all zero where
    the target is absent), over the maps where the target is present:

    * ``peak_in_box``: share whose maximum lies in the target's box (chance: ``target_share``);
    * ``target_auc``: :func:`pixel_auc` of the target's box against the rest of the frame;
    * ``peak_at_border``: share of all maps whose maximum lies within 2 pixels of the border.

    With ``object_masks`` (the other visible objects' boxes, ``(N, O, O)``): ``objects_auc``
    (other objects against background), ``target_vs_objects_auc``, and the mean map
    (probability) on the target, on the other objects and on the background.
    """
    logits = np.asarray(logits, dtype=np.float64)
    target = np.asarray(target_masks) > 0.5
    present = target.reshape(len(target), -1).any(1)
    side_y, side_x = logits.shape[1:]
    flat = logits.reshape(len(logits), -1).argmax(1)
    ys, xs = flat // side_x, flat % side_x
    border = (np.minimum(ys, side_y - 1 - ys) < 2) | (np.minimum(xs, side_x - 1 - xs) < 2)
    hit = target.reshape(len(target), -1)[np.arange(len(target)), flat]
    out = {"peak_in_box": float(hit[present].mean()) if present.any() else float("nan"),
           "target_share": float(target[present].mean()) if present.any() else float("nan"),
           "target_auc": _mean(pixel_auc(logits[i], target[i], ~target[i]) for i in np.flatnonzero(present)),
           "peak_at_border": float(border.mean())}
    if object_masks is not None:
        objects = (np.asarray(object_masks) > 0.5) & ~target
        background = ~(objects | target)
        prob = 1.0 / (1.0 + np.exp(-logits))
        out["objects_auc"] = _mean(pixel_auc(logits[i], objects[i], background[i]) for i in range(len(logits)))
        out["target_vs_objects_auc"] = _mean(pixel_auc(logits[i], target[i], objects[i])
                                             for i in np.flatnonzero(present))
        out["map_target"] = float(prob[target].mean()) if target.any() else float("nan")
        out["map_objects"] = float(prob[objects].mean()) if objects.any() else float("nan")
        out["map_background"] = float(prob[background].mean())
    return out


def _mean(values) -> float:
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")
