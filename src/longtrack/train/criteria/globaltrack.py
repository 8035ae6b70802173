"""GlobalTrack's cross-query loss: RPN + RCNN losses of Faster R-CNN (mmdetection v1), computed for
every query of an image pair and averaged over the queries (Huang et al. 2020, eq. 5-7; the
authors' ``QG_RCNN.forward_train``).

Per query q (its own target is the only ground truth; the pair's other instances are background):

* RPN: anchors inside the image, Max-IoU assigned (>= 0.7 positive, < 0.3 negative, each target's
  best anchors positive) and 256 sampled, at most half positive; ``rpn_cls`` = sigmoid binary
  cross-entropy summed over the samples / their number; ``rpn_bbox`` = smooth L1 (beta 1/9) of the
  positives' deltas / the number of samples.
* RCNN (the RoIs :meth:`GlobalTrack.forward_train` sampled): ``rcnn_cls`` = 2-class softmax
  cross-entropy / the number of RoIs; ``rcnn_bbox`` = smooth L1 (beta 1) of the object-class deltas
  of the positives / the number of RoIs.

``loss`` = the weighted sum of the four, averaged over all queries of the batch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from ...models.globaltrack.config import SamplingConfig
from ...models.globaltrack.targets import inside_anchor_flags, rpn_anchor_targets
from ...ops.box_coder import DeltaXYWHBBoxCoder
from ...ops.losses import smooth_l1_loss

__all__ = ["LossWeights", "GlobalTrackCriterion"]


@dataclass(frozen=True)
class LossWeights:
    """The authors' config weighs every term 1.0."""

    rpn_cls: float = 1.0
    rpn_bbox: float = 1.0
    rcnn_cls: float = 1.0
    rcnn_bbox: float = 1.0


@dataclass
class GlobalTrackCriterion:
    """``criterion(outputs, batch) -> {"loss", "rpn_cls", "rpn_bbox", "rcnn_cls", "rcnn_bbox",
    "rcnn_acc", "num_queries"}`` for the outputs of ``GlobalTrack.forward_train``."""

    rpn_sampling: SamplingConfig = field(default_factory=SamplingConfig)
    rpn_coder: DeltaXYWHBBoxCoder = field(default_factory=lambda: DeltaXYWHBBoxCoder(plus_one=True))
    weights: LossWeights = field(default_factory=LossWeights)
    rpn_beta: float = 1.0 / 9.0
    rcnn_beta: float = 1.0
    allowed_border: float = 0.0

    def __call__(self, outputs: dict, batch: dict | None = None) -> dict[str, Tensor]:
        rpn_cls, rpn_bbox = self.rpn_losses(outputs)
        rcnn_cls, rcnn_bbox, accuracy = self.rcnn_losses(outputs)
        w = self.weights
        total = w.rpn_cls * rpn_cls + w.rpn_bbox * rpn_bbox + w.rcnn_cls * rcnn_cls + w.rcnn_bbox * rcnn_bbox
        num_queries = torch.tensor(float(outputs["boxes_x"].shape[0]), device=total.device)
        return {"loss": total, "rpn_cls": rpn_cls.detach(), "rpn_bbox": rpn_bbox.detach(),
                "rcnn_cls": rcnn_cls.detach(), "rcnn_bbox": rcnn_bbox.detach(), "rcnn_acc": accuracy,
                "num_queries": num_queries}

    def rpn_losses(self, outputs: dict) -> tuple[Tensor, Tensor]:
        """Mean over queries of the sampled-anchor BCE and smooth L1 (each / the query's samples)."""
        anchors = torch.cat(outputs["anchors"]).float()
        # [Q, N] logits and [Q, N, 4] deltas, flattened (y, x, anchor) per level, levels in order.
        logits = torch.cat([c.permute(0, 2, 3, 1).flatten(1) for c in outputs["rpn_cls"]], dim=1)
        deltas = torch.cat([r.permute(0, 2, 3, 1).reshape(r.shape[0], -1, 4) for r in outputs["rpn_reg"]], dim=1)
        num_queries = logits.shape[0]
        cls_terms, bbox_terms = [], []
        for q in range(num_queries):
            image = int(outputs["query_image"][q])
            shape = tuple(int(v) for v in outputs["img_shapes"][image])
            inside = inside_anchor_flags(anchors, shape, self.allowed_border)
            targets = rpn_anchor_targets(anchors, inside, outputs["boxes_x"][q].float(), self.rpn_sampling,
                                         self.rpn_coder)
            count = max(targets.num_samples, 1)
            sampled = torch.cat([targets.pos, targets.neg])
            labels = torch.cat([torch.ones_like(targets.pos), torch.zeros_like(targets.neg)]).float()
            cls_terms.append(F.binary_cross_entropy_with_logits(logits[q, sampled].float(), labels,
                                                                reduction="sum") / count)
            bbox_terms.append(smooth_l1_loss(deltas[q, targets.pos].float(), targets.pos_deltas.float(),
                                             beta=self.rpn_beta, reduction="sum") / count)
        return torch.stack(cls_terms).mean(), torch.stack(bbox_terms).mean()

    def rcnn_losses(self, outputs: dict) -> tuple[Tensor, Tensor, Tensor]:
        """Mean over queries of the RoI cross-entropy and smooth L1 (each / the query's RoIs)."""
        cls_score, bbox_pred = outputs["rcnn_cls"].float(), outputs["rcnn_reg"].float()
        labels, owner = outputs["rcnn_labels"], outputs["rcnn_query"]
        num_queries = outputs["boxes_x"].shape[0]
        per_roi = 1.0 / torch.bincount(owner, minlength=num_queries).clamp(min=1).float()[owner]
        ce = F.cross_entropy(cls_score, labels, reduction="none")
        cls_loss = (ce * per_roi).sum() / num_queries
        positive = labels > 0
        object_deltas = bbox_pred.view(bbox_pred.shape[0], -1, 4)[positive, labels[positive]]
        l1 = smooth_l1_loss(object_deltas, outputs["rcnn_deltas"][positive].float(), beta=self.rcnn_beta,
                            reduction="none").sum(dim=1)
        bbox_loss = (l1 * per_roi[positive]).sum() / num_queries
        accuracy = (cls_score.argmax(1) == labels).float().mean().detach()
        return cls_loss, bbox_loss, accuracy
