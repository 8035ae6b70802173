"""From network maps to boxes, as mmdetection v1 does it for GlobalTrack (no learned parameters).

* :func:`rpn_proposals`: one query's RPN maps -> proposals ``[P, 5]`` (x1, y1, x2, y2, score),
  sorted by score, in the (padded-free) image pixels of the network input.
* :func:`decode_detections` + :func:`multiclass_nms`: RCNN logits and deltas -> detections.

Boxes are inclusive-pixel xyxy (mmdetection v1: width ``x2 - x1 + 1``); NMS uses the same ``+1``
convention and, as the authors' CUDA kernel, keeps boxes in ascending input order.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ...ops.box_coder import DeltaXYWHBBoxCoder
from ...ops.nms import nms
from .config import DetectionConfig, ProposalConfig

__all__ = ["rpn_proposals", "decode_detections", "multiclass_nms", "legacy_nms"]


def legacy_nms(boxes: Tensor, scores: Tensor, iou_thr: float) -> Tensor:
    """mmdet v1 NMS: ``+1`` areas, suppression if IoU > thr; kept indices in ascending order."""
    return torch.sort(nms(boxes, scores, iou_thr, plus_one=True)).values


def rpn_proposals(cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor], anchors: Sequence[Tensor],
                  img_shape: tuple[int, int], cfg: ProposalConfig, coder: DeltaXYWHBBoxCoder) -> Tensor:
    """Proposals of one query.

    Args:
        cls_scores: per level ``[A, H, W]`` objectness logits (sigmoid).
        bbox_preds: per level ``[4A, H, W]`` deltas.
        anchors: per level ``[H * W * A, 4]`` (:func:`.anchors.grid_anchors`).
        img_shape: ``(height, width)`` of the rescaled image before padding (boxes are clipped to it).
    Returns:
        ``[P, 5]`` (x1, y1, x2, y2, score), P <= ``cfg.max_num``, descending score.
    """
    levels = []
    for cls, reg, level_anchors in zip(cls_scores, bbox_preds, anchors):
        scores = cls.detach().permute(1, 2, 0).reshape(-1).sigmoid()
        deltas = reg.detach().permute(1, 2, 0).reshape(-1, 4)
        if scores.numel() > cfg.nms_pre:
            scores, top = scores.topk(cfg.nms_pre)
            deltas, level_anchors = deltas[top], level_anchors[top]
        boxes = coder.decode(level_anchors, deltas, max_shape=img_shape)
        if cfg.min_bbox_size > 0:
            wide = (boxes[:, 2] - boxes[:, 0] + 1 >= cfg.min_bbox_size) & (
                boxes[:, 3] - boxes[:, 1] + 1 >= cfg.min_bbox_size)
            boxes, scores = boxes[wide], scores[wide]
        keep = legacy_nms(boxes, scores, cfg.nms_thr)[: cfg.nms_post]
        levels.append(torch.cat([boxes[keep], scores[keep, None]], dim=1))
    proposals = torch.cat(levels)
    num = min(cfg.max_num, proposals.shape[0])
    _, top = proposals[:, 4].topk(num)
    return proposals[top]


def decode_detections(rois: Tensor, cls_score: Tensor, bbox_pred: Tensor, img_shape: tuple[int, int],
                      scale_factor: float, coder: DeltaXYWHBBoxCoder) -> tuple[Tensor, Tensor]:
    """mmdet v1 ``BBoxHead.get_det_bboxes`` without NMS.

    rois ``[K, 4]``, cls_score ``[K, n]``, bbox_pred ``[K, 4n]`` -> boxes ``[K, 4n]`` decoded, clipped
    to ``img_shape`` and divided by ``scale_factor`` (original-frame pixels), scores ``[K, n]``
    (softmax).
    """
    scores = F.softmax(cls_score, dim=1)
    boxes = coder.decode(rois, bbox_pred, max_shape=img_shape) / scale_factor
    return boxes, scores


def multiclass_nms(boxes: Tensor, scores: Tensor, cfg: DetectionConfig) -> tuple[Tensor, Tensor]:
    """Per foreground class (1..n-1): scores > ``score_thr``, NMS, then at most ``max_per_img``.

    boxes ``[K, 4n]``, scores ``[K, n]`` -> detections ``[N, 5]`` (x1, y1, x2, y2, score) and labels
    ``[N]`` (class - 1), class by class, each in ascending input order.
    """
    dets, labels = [], []
    for c in range(1, scores.shape[1]):
        chosen = scores[:, c] > cfg.score_thr
        if not chosen.any():
            continue
        class_boxes, class_scores = boxes[chosen, 4 * c:4 * c + 4], scores[chosen, c]
        keep = legacy_nms(class_boxes, class_scores, cfg.nms_thr)
        dets.append(torch.cat([class_boxes[keep], class_scores[keep, None]], dim=1))
        labels.append(torch.full((len(keep),), c - 1, dtype=torch.long, device=boxes.device))
    if not dets:
        return boxes.new_zeros((0, 5)), torch.zeros(0, dtype=torch.long, device=boxes.device)
    det, label = torch.cat(dets), torch.cat(labels)
    if det.shape[0] > cfg.max_per_img:
        order = det[:, 4].sort(descending=True).indices[: cfg.max_per_img]
        det, label = det[order], label[order]
    return det, label
