"""DMTrack's training loss: the FCOS detection loss per query (cross-query, as GlobalTrack) plus the
re-id identity classification, balanced by learned uncertainty weights (JDE / FairMOT).

Detection (mmdetection 2.0 ``FCOSHead.loss`` with ``center_sampling=True``), for each query and its
one ground-truth box in the search image:

* a point is positive iff it lies inside the box's centre region (radius ``1.5 x stride`` around
  the box centre, cut to the box) and its largest distance ``max(l, t, r, b)`` lies in the level's
  regress range; positives are labelled ``target_class`` (the authors' label 1), the rest background;
* ``loss_cls``: sigmoid focal loss (alpha 0.25, gamma 2) over all points and classes, divided by
  the query's ``num_pos + 1``;
* ``loss_bbox``: ``-log IoU`` of the boxes decoded from the predicted and target distances at the
  positives, weighted by the centre-ness target, divided by its sum;
* ``loss_centerness``: BCE of the centre-ness logit vs ``sqrt(min(l,r)/max(l,r) * min(t,b)/max(t,b))``,
  averaged over positives;
* each loss is computed per query (the authors call ``bbox_head.loss`` once per query) and averaged
  over the queries of the batch (a query without positives adds 0 to the box losses, as theirs).

Re-id ``L_id``: cross-entropy of the identity classifier on the embeddings at every instance's
centre (``loss_reid_class``), plus ``reid_contrast_weight`` times the contrast
(``loss_reid_contrast``, :func:`reid_contrast_loss`): each query's template vector against the
search-image vectors of every query of the batch, the same identity positive, the rest (the same
frame's look-alikes first among them) negatives.
Total (FairMOT's form of JDE's automatic balancing): ``0.5 * (exp(-s_det) L_det + exp(-s_id) L_id +
s_det + s_id)`` with ``s`` learned (``outputs["log_vars"]``); without re-id the total is ``L_det``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ...ops import distance2bbox, iou_loss, sigmoid_focal_loss

__all__ = ["DMTrackCriterion", "fcos_targets", "centerness_target", "reid_contrast_loss", "CONTRAST_SCALE"]

# Cosine similarities times this (a softmax temperature of 0.1, as in InfoNCE / MoCo): with
# unit vectors the logits would otherwise span only [-1, 1] and the softmax stay near uniform.
CONTRAST_SCALE = 10.0


def centerness_target(distances: Tensor) -> Tensor:
    """``[P, 4]`` (l, t, r, b) -> ``[P]`` FCOS centre-ness."""
    lr, tb = distances[:, [0, 2]], distances[:, [1, 3]]
    ratio = (lr.min(-1).values / lr.max(-1).values) * (tb.min(-1).values / tb.max(-1).values)
    return ratio.clamp(min=0).sqrt()


def fcos_targets(points: Tensor, level_index: Tensor, boxes: Tensor, strides, regress_ranges,
                 radius: float = 1.5) -> tuple[Tensor, Tensor]:
    """Positives and regression targets, one box per query.

    points ``[N, 2]`` (x, y), level_index ``[N]``, boxes ``[Q, 4]`` xyxy (all in search-image pixels).
    Returns ``(positive [Q, N] bool, distances [Q, N, 4])``.
    """
    stride = torch.as_tensor(strides, dtype=points.dtype, device=points.device)[level_index]  # [N]
    ranges = torch.as_tensor(regress_ranges, dtype=points.dtype, device=points.device)[level_index]  # [N, 2]
    x, y = points[None, :, 0], points[None, :, 1]
    x1, y1, x2, y2 = (boxes[:, i, None] for i in range(4))
    distances = torch.stack([x - x1, y - y1, x2 - x, y2 - y], dim=-1)  # [Q, N, 4]
    cx, cy, reach = (x1 + x2) / 2, (y1 + y2) / 2, stride[None] * radius
    region = torch.stack([x - torch.maximum(cx - reach, x1), y - torch.maximum(cy - reach, y1),
                          torch.minimum(cx + reach, x2) - x, torch.minimum(cy + reach, y2) - y], dim=-1)
    farthest = distances.max(dim=-1).values
    positive = (region.min(dim=-1).values > 0) & (farthest >= ranges[None, :, 0]) & (farthest <= ranges[None, :, 1])
    return positive, distances


def reid_contrast_loss(query: Tensor, search: Tensor, ids: Tensor, scale: float = CONTRAST_SCALE) -> Tensor:
    """Multi-positive InfoNCE: query ``[Q, D]`` and search ``[Q, D]`` unit vectors, ``ids [Q]``.

    Row q: ``-log(sum_{j: ids_j = ids_q} e^{s c_qj} / sum_j e^{s c_qj})`` with ``c = query @ search.T``
    (two pairs of one video in a batch share a positive); the mean over rows."""
    with torch.autocast(device_type=query.device.type, enabled=False):  # bf16 cosines lose the margins
        logits = scale * query.float() @ search.float().T
    positive = ids[:, None] == ids[None, :]
    return (torch.logsumexp(logits, dim=1) - torch.logsumexp(logits.masked_fill(~positive, float("-inf")), dim=1)).mean()


class DMTrackCriterion:
    """``criterion(outputs, batch)``: ``outputs`` of the training model (``cls_score [Q, N, K]``,
    ``bbox_pred [Q, N, 4]``, ``centerness [Q, N]``, ``points``, ``level_index``, ``query_boxes [Q, 4]``
    xyxy targets in the search image; with re-id ``reid_logits [P, I]``, ``reid_labels [P]``,
    ``log_vars [2]``; with the contrast ``reid_query_vectors`` / ``reid_search_vectors [Q, D]`` and
    ``query_ids``). Returns ``loss_cls``, ``loss_bbox``, ``loss_centerness``, ``loss_det``,
    (``loss_reid`` = ``L_id`` with its parts ``loss_reid_class`` / ``loss_reid_contrast``, ``s_det``,
    ``s_id``) and the total ``loss``."""

    def __init__(self, strides=(8, 16, 32), regress_ranges=((-1, 64), (64, 128), (128, 1e8)),
                 center_sample_radius: float = 1.5, target_class: int = 1, focal_alpha: float = 0.25,
                 focal_gamma: float = 2.0, uncertainty: bool = True, reid_contrast_weight: float = 0.0):
        self.strides = tuple(strides)
        self.regress_ranges = tuple(tuple(r) for r in regress_ranges)
        self.radius = float(center_sample_radius)
        self.target_class = int(target_class)
        self.alpha, self.gamma = float(focal_alpha), float(focal_gamma)
        self.uncertainty = bool(uncertainty)
        self.reid_contrast_weight = float(reid_contrast_weight)

    def detection(self, outputs: dict) -> dict[str, Tensor]:
        """The authors' ``bbox_head.loss`` for each query on its own, then the mean over queries."""
        cls_score, bbox_pred, centerness = outputs["cls_score"], outputs["bbox_pred"], outputs["centerness"]
        num_queries = cls_score.shape[0]
        points = outputs["points"].to(bbox_pred.dtype)
        positive, distances = fcos_targets(points, outputs["level_index"], outputs["query_boxes"].to(points.dtype),
                                           self.strides, self.regress_ranges, self.radius)
        labels = torch.zeros_like(cls_score, dtype=torch.float32)
        labels[..., self.target_class] = positive.float()
        num_pos = positive.sum(dim=1)  # [Q]
        focal = sigmoid_focal_loss(cls_score.float(), labels, alpha=self.alpha, gamma=self.gamma, reduction="none")
        loss_cls = (focal.sum(dim=(1, 2)) / (num_pos + 1)).mean()  # mmdet: avg_factor num_pos + num_imgs
        query_index, _ = torch.nonzero(positive, as_tuple=True)
        pos_points = points[None].expand(num_queries, -1, -1)[positive].float()
        pos_targets = distances[positive].float()
        weight = centerness_target(pos_targets)
        pred_boxes = distance2bbox(pos_points, bbox_pred[positive].float())
        target_boxes = distance2bbox(pos_points, pos_targets)
        iou = iou_loss(pred_boxes, target_boxes, mode="log", reduction="none")
        bce = F.binary_cross_entropy_with_logits(centerness[positive].float(), weight, reduction="none")
        zeros = cls_score.new_zeros(num_queries, dtype=torch.float32)
        weighted_iou = zeros.index_add(0, query_index, weight * iou)
        weight_sum = zeros.index_add(0, query_index, weight)
        loss_bbox = (weighted_iou / weight_sum.clamp(min=1e-6)).mean()  # 0 for a query without positives
        loss_ctr = (zeros.index_add(0, query_index, bce) / num_pos.clamp(min=1)).mean()
        # A batch without any positive still reaches every head parameter (zero gradient, not none).
        loss_bbox = loss_bbox + 0 * bbox_pred.sum()
        loss_ctr = loss_ctr + 0 * centerness.sum()
        return {"loss_cls": loss_cls, "loss_bbox": loss_bbox, "loss_centerness": loss_ctr}

    def __call__(self, outputs: dict, batch: dict | None = None) -> dict[str, Tensor]:
        losses = self.detection(outputs)
        det = losses["loss_cls"] + losses["loss_bbox"] + losses["loss_centerness"]
        losses["loss_det"] = det
        parts = []
        if "reid_logits" in outputs:
            logits, labels = outputs["reid_logits"], outputs["reid_labels"]
            losses["loss_reid_class"] = F.cross_entropy(logits.float(), labels) if labels.numel() else logits.sum() * 0
            parts.append(losses["loss_reid_class"])
        if "reid_query_vectors" in outputs and self.reid_contrast_weight > 0:
            query, search = outputs["reid_query_vectors"], outputs["reid_search_vectors"]
            losses["loss_reid_contrast"] = (reid_contrast_loss(query, search, outputs["query_ids"])
                                            if len(query) else query.sum() * 0)
            parts.append(self.reid_contrast_weight * losses["loss_reid_contrast"])
        if not parts:
            losses["loss"] = det
            return losses
        reid = sum(parts)
        losses["loss_reid"] = reid
        if self.uncertainty:
            s_det, s_id = outputs["log_vars"].float().unbind()
            losses["loss"] = 0.5 * (torch.exp(-s_det) * det + torch.exp(-s_id) * reid + s_det + s_id)
            losses["s_det"], losses["s_id"] = s_det.detach(), s_id.detach()
        else:
            losses["loss"] = det + reid
        return losses
