"""ProContEXT's (= OSTrack's) training loss: Gaussian-target focal loss on the centre score map
+ 2 x GIoU + 5 x L1 on the box decoded at the predicted maximum (``regress_at="prediction"``, the
authors'), or at the target's centre cell (``"target"``, CenterNet's choice; our option for
training from scratch, see ``ProContEXTCriterion``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...models.center_head import box_at_cells
from ...ops import box_cxcywh_to_xyxy, box_iou_elementwise, box_xywh_to_xyxy, gaussian_focal_loss, giou_loss, l1_loss

__all__ = ["ProContEXTCriterion", "gaussian_radius", "gaussian_heatmap", "centre_cells"]


def gaussian_radius(width: torch.Tensor, height: torch.Tensor, min_overlap: float = 0.7) -> torch.Tensor:
    """CornerNet's Gaussian radius for boxes of ``width`` x ``height`` cells, in the variant
    CenterNet and OSTrack use (the three quadratic roots without CornerNet's later fix)."""
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + torch.sqrt(b1 ** 2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + torch.sqrt(b2 ** 2 - 16 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + torch.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return torch.minimum(r1, torch.minimum(r2, r3))


def centre_cells(boxes_xywh: torch.Tensor, feat_size: int) -> torch.Tensor:
    """``[B, 2]`` (column, row) of the cell a box's centre falls on -- the 1 of its Gaussian target
    (rounded half to even, as torch in OSTrack; may lie outside the map)."""
    boxes = boxes_xywh.detach().to(torch.float64) * feat_size
    return torch.round(boxes[:, :2] + boxes[:, 2:] / 2)


def gaussian_heatmap(boxes_xywh: torch.Tensor, feat_size: int, min_overlap: float = 0.7) -> torch.Tensor:
    """Centre targets ``[B, 1, F, F]`` for boxes ``[B, 4]`` (x, y, w, h in [0, 1] of the crop).

    A Gaussian of integer radius r (``gaussian_radius`` of the box in cells, truncated) and
    sigma (2r + 1) / 6 around the rounded centre cell, cut to a (2r+1)^2 square; 1 exactly at the
    centre cell. A centre outside the map leaves only the part of the square inside it.
    """
    boxes = boxes_xywh.detach().to(torch.float64) * feat_size
    centre = centre_cells(boxes_xywh, feat_size)
    radius = gaussian_radius(boxes[:, 2], boxes[:, 3], min_overlap).clamp(min=0).floor()
    sigma = (2 * radius + 1) / 6
    cells = torch.arange(feat_size, dtype=torch.float64, device=boxes.device)
    dx = cells[None, None, :] - centre[:, 0, None, None]
    dy = cells[None, :, None] - centre[:, 1, None, None]
    r = radius[:, None, None]
    heat = torch.exp(-(dx ** 2 + dy ** 2) / (2 * sigma[:, None, None] ** 2))
    heat = torch.where((dx.abs() <= r) & (dy.abs() <= r), heat, torch.zeros_like(heat))
    heat = torch.where(heat < np.finfo(np.float64).eps, torch.zeros_like(heat), heat)  # as CenterNet
    return heat.to(torch.float32).unsqueeze(1)


class ProContEXTCriterion(nn.Module):
    """``criterion(outputs, batch) -> {"loss", "focal", "giou", "l1", "iou"}``.

    outputs: the model's dict (``score_map [B,1,F,F]``, ``pred_boxes [B,4]`` cx, cy, w, h in
    [0, 1]; with ``regress_at="target"`` also ``size_map`` and ``offset_map [B,2,F,F]``). batch:
    ``search_boxes`` ``[B, 4]`` or ``[B, S, 4]`` (the first search frame is used) xywh in
    search-crop pixels, ``search_images`` ``[B, (S,) 3, H, W]`` (its width normalises the boxes).

    ``regress_at``: where GIoU and L1 read the box. ``"prediction"`` (the authors'): at the
    predicted score maximum. Where that cell is wrong, a bigger box overlaps the target more, so
    a network that localises poorly learns to over-size every box (loss-optimal scale ~1.3x for a
    centre error of half the target's size) -- harmless for a converged model, but online each
    over-sized box makes the next crop bigger. ``"target"``: at the cell of the true centre
    (CenterNet), so sizes and offsets are learned unbiased however good the score map is.
    ``iou`` is a detached metric at the predicted maximum in both cases, not part of the loss.

    Target-free samples (``batch["target_free"]`` ``[B]`` bool, ``data.negative_fraction``; ours,
    not the authors'): their score-map target is all zeros, so the focal loss lowers their every
    cell, and GIoU, L1 and ``iou`` skip them. The focal sum is divided by the positive cells plus
    the target-free samples: one per sample, as in a batch without them (an all-free batch is
    not left summed over B x F x F cells). A batch without target-free samples is computed
    exactly as before.
    """

    def __init__(self, focal_weight: float = 1.0, giou_weight: float = 2.0, l1_weight: float = 5.0,
                 min_overlap: float = 0.7, regress_at: str = "prediction"):
        super().__init__()
        if regress_at not in ("prediction", "target"):
            raise ValueError(f"regress_at must be 'prediction' or 'target', got {regress_at!r}")
        self.weights = {"focal": focal_weight, "giou": giou_weight, "l1": l1_weight}
        self.min_overlap = min_overlap
        self.regress_at = regress_at

    def forward(self, outputs: dict, batch: dict) -> dict[str, torch.Tensor]:
        boxes = batch["search_boxes"]
        if boxes.dim() == 3:
            boxes = boxes[:, 0]
        target = boxes.to(outputs["pred_boxes"].dtype) / batch["search_images"].shape[-1]
        score_map = outputs["score_map"]
        feat = score_map.shape[-1]
        heat = gaussian_heatmap(target, feat, self.min_overlap).to(score_map)
        free = batch.get("target_free")
        free = None if free is None or not bool(free.any()) else free.reshape(-1).to(score_map.device, torch.bool)
        if free is not None:
            heat = heat.masked_fill(free[:, None, None, None], 0.0)
        pred_xyxy = box_cxcywh_to_xyxy(outputs["pred_boxes"])
        target_xyxy = box_xywh_to_xyxy(target).clamp(0.0, 1.0)
        regressed = pred_xyxy
        if self.regress_at == "target":
            cells = centre_cells(target, feat).clamp(0, feat - 1).long()
            idx = (cells[:, 1] * feat + cells[:, 0]).unsqueeze(1)
            regressed = box_cxcywh_to_xyxy(box_at_cells(outputs["size_map"], outputs["offset_map"], idx))
        if free is None:
            losses = {
                "focal": gaussian_focal_loss(score_map, heat),
                "giou": giou_loss(regressed, target_xyxy),
                "l1": l1_loss(regressed, target_xyxy),
            }
            losses["loss"] = sum(self.weights[k] * v for k, v in losses.items())
            losses["iou"] = box_iou_elementwise(pred_xyxy, target_xyxy).detach().mean()
            return losses
        # The ops loss divides by the positive cells (at least 1): re-normalise per sample.
        positives = heat.eq(1).sum()
        focal = gaussian_focal_loss(score_map, heat) * positives.clamp(min=1) / (positives + free.sum())
        held = ~free
        if held.any():
            losses = {"focal": focal, "giou": giou_loss(regressed[held], target_xyxy[held]),
                      "l1": l1_loss(regressed[held], target_xyxy[held])}
            iou = box_iou_elementwise(pred_xyxy[held], target_xyxy[held]).detach().mean()
        else:  # nothing to regress: zero box terms that keep the graph
            zero = regressed.sum() * 0.0
            losses = {"focal": focal, "giou": zero, "l1": zero}
            iou = zero.detach()
        losses["loss"] = sum(self.weights[k] * v for k, v in losses.items())
        losses["iou"] = iou
        return losses
