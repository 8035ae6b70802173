"""Detection and tracking losses used by the five methods.

Reduction follows mmdetection's ``weight_reduce_loss``: an optional element ``weight``
multiplies the loss; ``reduction`` is ``"none"``, ``"mean"`` or ``"sum"``; with ``avg_factor``
the ``"mean"`` is ``sum / avg_factor`` (e.g. the number of positives) instead of the
element mean. Boxes are xyxy.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .box_ops import box_iou_elementwise, generalized_box_iou_elementwise

__all__ = [
    "weight_reduce_loss",
    "sigmoid_focal_loss",
    "gaussian_focal_loss",
    "giou_loss",
    "iou_loss",
    "l1_loss",
    "smooth_l1_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


def weight_reduce_loss(loss: Tensor, weight: Tensor | None = None, reduction: str = "mean",
                       avg_factor: float | Tensor | None = None) -> Tensor:
    """Apply an element weight, then reduce (see the module docstring)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
    if reduction == "mean":
        return loss.sum() / avg_factor
    if reduction == "none":
        return loss
    raise ValueError('avg_factor only makes sense with reduction="mean"')


def sigmoid_focal_loss(logits: Tensor, targets: Tensor, weight: Tensor | None = None,
                       alpha: float = 0.25, gamma: float = 2.0, reduction: str = "mean",
                       avg_factor: float | Tensor | None = None) -> Tensor:
    """Focal loss (Lin et al. 2017) on independent sigmoid classifiers.

    logits: (..., C); targets: same shape, 1 for the true class(es), 0 elsewhere (soft values
    allowed). ``alpha`` weighs positives, ``1 - alpha`` negatives; ``(1 - p_t)^gamma`` focuses
    on hard examples. alpha < 0 disables the alpha weighting.
    """
    if logits.shape != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)} must match")
    targets = targets.to(logits.dtype)
    prob = logits.sigmoid()
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none") * (1 - p_t).pow(gamma)
    if alpha >= 0:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


def gaussian_focal_loss(pred: Tensor, target: Tensor, alpha: float = 2.0, beta: float = 4.0,
                        eps: float = 1e-12) -> Tensor:
    """Penalty-reduced focal loss on a heatmap (CenterNet; OSTrack / ProContEXT centre head).

    pred: probabilities in [0, 1] (after sigmoid), any shape; target: same shape, a Gaussian
    bump per object with exactly 1 at its centre. Positives (target == 1) contribute
    ``-(1 - p)^alpha log p``; the rest ``-(1 - t)^beta p^alpha log(1 - p)``. The sum is divided
    by the number of positives (by 1 if there are none). Returns a scalar.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must match")
    target = target.to(pred.dtype)
    positive = target.eq(1)
    # Clamps keep log finite when a probability saturates at exactly 0 or 1.
    pos_loss = torch.log(pred.clamp(min=eps)) * (1 - pred).pow(alpha)
    neg_loss = torch.log((1 - pred).clamp(min=eps)) * pred.pow(alpha) * (1 - target).pow(beta)
    total = torch.where(positive, pos_loss, neg_loss).sum()
    return -total / positive.sum().clamp(min=1)


def giou_loss(pred: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean",
              avg_factor: float | Tensor | None = None) -> Tensor:
    """``1 - GIoU`` of matching xyxy boxes (..., 4)."""
    return weight_reduce_loss(1 - generalized_box_iou_elementwise(pred, target), weight, reduction, avg_factor)


def iou_loss(pred: Tensor, target: Tensor, mode: str = "log", eps: float = 1e-6,
             weight: Tensor | None = None, reduction: str = "mean",
             avg_factor: float | Tensor | None = None) -> Tensor:
    """IoU loss of matching xyxy boxes (..., 4).

    ``mode="log"``: ``-log(max(IoU, eps))`` (UnitBox, FCOS's ``"iou"``); ``mode="linear"``:
    ``1 - IoU`` (FCOS's ``"linear_iou"``). FCOS's (l, t, r, b) form equals this on boxes
    decoded from the same point (``distance2bbox``).
    """
    iou = box_iou_elementwise(pred, target)
    if mode == "log":
        loss = -iou.clamp(min=eps).log()
    elif mode == "linear":
        loss = 1 - iou
    else:
        raise ValueError(f'mode must be "log" or "linear", got {mode!r}')
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


def l1_loss(pred: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean",
            avg_factor: float | Tensor | None = None) -> Tensor:
    """Element-wise ``|pred - target|`` with mmdetection-style weighting and reduction."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must match")
    return weight_reduce_loss((pred - target).abs(), weight, reduction, avg_factor)


def smooth_l1_loss(pred: Tensor, target: Tensor, beta: float = 1.0, weight: Tensor | None = None,
                   reduction: str = "mean", avg_factor: float | Tensor | None = None) -> Tensor:
    """Huber-style loss: ``0.5 d^2 / beta`` for ``|d| < beta``, else ``|d| - 0.5 beta``
    (mmdetection v1's RPN uses beta 1/9, its R-CNN head beta 1)."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must match")
    diff = (pred - target).abs()
    loss = torch.where(diff < beta, 0.5 * diff * diff / max(beta, 1e-12), diff - 0.5 * beta)
    return weight_reduce_loss(loss, weight, reduction, avg_factor)
