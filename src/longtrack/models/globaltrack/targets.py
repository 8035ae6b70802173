"""Training targets of GlobalTrack, as mmdetection v1 makes them for Faster R-CNN.

* :func:`assign_max_iou` (``MaxIoUAssigner``, ``gt_max_assign_all``) and :func:`random_sample`
  (``RandomSampler``, ``neg_pos_ub = -1``);
* :func:`rpn_anchor_targets`: which anchors of one query are sampled, their labels and deltas;
* :func:`sample_rcnn_rois`: the RoIs of one query given to the RCNN head (ground truth added as a
  proposal), their labels and deltas.

Boxes are inclusive-pixel xyxy (IoU with ``+1`` sizes). Random draws use the torch generator
passed in (the global one by default, whose state the training engine saves and restores).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ...ops.box_coder import DeltaXYWHBBoxCoder
from .config import SamplingConfig

__all__ = ["legacy_box_iou", "assign_max_iou", "random_sample", "AnchorTargets", "inside_anchor_flags",
           "rpn_anchor_targets",
           "RoISamples", "sample_rcnn_rois"]


def legacy_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """``[N, 4]`` x ``[M, 4]`` -> IoU ``[N, M]`` with mmdet v1's ``+1`` widths and overlaps."""
    area1 = (boxes1[:, 2] - boxes1[:, 0] + 1) * (boxes1[:, 3] - boxes1[:, 1] + 1)
    area2 = (boxes2[:, 2] - boxes2[:, 0] + 1) * (boxes2[:, 3] - boxes2[:, 1] + 1)
    lt = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (rb - lt + 1).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area1[:, None] + area2[None, :] - inter)


def assign_max_iou(overlaps: Tensor, cfg: SamplingConfig) -> Tensor:
    """overlaps ``[G, N]`` (ground truths x boxes) -> ``[N]`` long: -1 ignored, 0 negative,
    ``g + 1`` assigned to ground truth ``g``."""
    num_gts, num_boxes = overlaps.shape
    assigned = overlaps.new_full((num_boxes,), -1, dtype=torch.long)
    if num_gts == 0 or num_boxes == 0:
        return assigned.fill_(0) if num_gts == 0 else assigned
    max_overlaps, argmax = overlaps.max(dim=0)
    assigned[(max_overlaps >= 0) & (max_overlaps < cfg.neg_iou)] = 0
    positive = max_overlaps >= cfg.pos_iou
    assigned[positive] = argmax[positive] + 1
    # Every ground truth keeps its best boxes (all ties), even below pos_iou.
    gt_max = overlaps.max(dim=1).values
    for g in range(num_gts):
        if gt_max[g] >= cfg.min_pos_iou:
            assigned[overlaps[g] == gt_max[g]] = g + 1
    return assigned


def _choose(indices: Tensor, num: int, generator: torch.Generator | None) -> Tensor:
    if indices.numel() <= num:
        return indices
    perm = torch.randperm(indices.numel(), generator=generator)[:num].to(indices.device)
    return indices[perm]


def random_sample(assigned: Tensor, cfg: SamplingConfig,
                  generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """At most ``num * pos_fraction`` positives, negatives fill up to ``num``: indices ``(pos, neg)``."""
    pos = torch.nonzero(assigned > 0).squeeze(1)
    pos = _choose(pos, int(cfg.num * cfg.pos_fraction), generator)
    neg = torch.nonzero(assigned == 0).squeeze(1)
    neg = _choose(neg, cfg.num - pos.numel(), generator)
    return pos, neg


@dataclass
class AnchorTargets:
    """One query's sampled anchors (indices into the flattened anchors of all levels)."""

    pos: Tensor  # [P] long
    neg: Tensor  # [N] long
    pos_deltas: Tensor  # [P, 4] normalised regression targets of the positives

    @property
    def num_samples(self) -> int:
        return self.pos.numel() + self.neg.numel()


def inside_anchor_flags(anchors: Tensor, img_shape: tuple[int, int], allowed_border: float = 0.0) -> Tensor:
    """``[N]`` bool: anchors lying within ``img_shape`` (height, width) +- ``allowed_border``; a
    negative ``allowed_border`` keeps every anchor (mmdet v1 ``anchor_inside_flags``).

    mmdet v1 also requires the anchor's cell to lie in the image's own padded size; here every
    image of a batch has the batch's padded size, so every cell is valid."""
    if allowed_border < 0:
        return torch.ones(anchors.shape[0], dtype=torch.bool, device=anchors.device)
    height, width = img_shape
    return ((anchors[:, 0] >= -allowed_border) & (anchors[:, 1] >= -allowed_border)
            & (anchors[:, 2] < width + allowed_border) & (anchors[:, 3] < height + allowed_border))


def rpn_anchor_targets(anchors: Tensor, inside: Tensor, gt_box: Tensor, cfg: SamplingConfig,
                       coder: DeltaXYWHBBoxCoder, generator: torch.Generator | None = None) -> AnchorTargets:
    """anchors ``[N, 4]``, inside ``[N]`` bool, gt_box ``[4]`` (this query's target) -> targets.
    Anchors outside the image are never sampled (mmdet v1 ``allowed_border = 0``)."""
    candidates = torch.nonzero(inside).squeeze(1)
    overlaps = legacy_box_iou(gt_box[None], anchors[candidates])
    assigned = assign_max_iou(overlaps, cfg)
    pos, neg = random_sample(assigned, cfg, generator)
    pos, neg = candidates[pos], candidates[neg]
    deltas = coder.encode(anchors[pos], gt_box[None].expand(pos.numel(), 4))
    return AnchorTargets(pos, neg, deltas)


@dataclass
class RoISamples:
    """One query's RoIs for the RCNN head: positives first, then negatives."""

    boxes: Tensor  # [S, 4] xyxy in the search image
    labels: Tensor  # [S] long: 1 object, 0 background
    deltas: Tensor  # [S, 4] normalised regression targets (zero for negatives)


def sample_rcnn_rois(proposals: Tensor, gt_box: Tensor, cfg: SamplingConfig, coder: DeltaXYWHBBoxCoder,
                     generator: torch.Generator | None = None) -> RoISamples:
    """proposals ``[P, 4]`` (detached), gt_box ``[4]`` -> the sampled RoIs (``num`` at most)."""
    gt = gt_box[None].to(proposals)
    overlaps = legacy_box_iou(gt, proposals)
    assigned = assign_max_iou(overlaps, cfg)
    if cfg.add_gt_as_proposals:  # the ground truth is a proposal assigned to itself
        proposals = torch.cat([gt, proposals])
        assigned = torch.cat([assigned.new_ones(1), assigned])
    pos, neg = random_sample(assigned, cfg, generator)
    boxes = torch.cat([proposals[pos], proposals[neg]])
    labels = torch.cat([assigned.new_ones(pos.numel()), assigned.new_zeros(neg.numel())])
    deltas = boxes.new_zeros((boxes.shape[0], 4))
    if pos.numel():
        deltas[: pos.numel()] = coder.encode(proposals[pos], gt.expand(pos.numel(), 4))
    return RoISamples(boxes, labels, deltas)
