"""Bipartite (Hungarian) matching of predictions to targets, DETR-style.

The cost of assigning prediction q to target t is
``cost_class * C_cls + cost_bbox * L1(box_q, box_t) + cost_giou * (-GIoU) [+ extra]``; the
minimum-cost one-to-one assignment per image comes from
``scipy.optimize.linear_sum_assignment``. Boxes are normalised ``(cx, cy, w, h)`` as in DETR.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from .box_ops import box_cxcywh_to_xyxy, generalized_box_iou

__all__ = ["HungarianMatcher"]

#: ``extra_cost(outputs, targets) -> (B, Q, T_total)``: already weighted, added to the cost.
ExtraCost = Callable[[dict, Sequence[dict]], Tensor]


class HungarianMatcher(nn.Module):
    """One-to-one matcher with configurable costs.

    focal=True (Deformable DETR, GTELT): ``C_cls = FL(p, 1) - FL(p, 0)`` on sigmoid
    probabilities, ``FL(p, 1) = alpha (1 - p)^gamma (-log p)``,
    ``FL(p, 0) = (1 - alpha) p^gamma (-log(1 - p))``. focal=False (DETR): ``C_cls = -softmax(p)``.
    ``extra_cost`` adds any other cost (e.g. GTELT's distance between each query's reference
    point and the target centre).
    """

    def __init__(self, cost_class: float = 1.0, cost_bbox: float = 1.0, cost_giou: float = 1.0,
                 focal: bool = True, focal_alpha: float = 0.25, focal_gamma: float = 2.0,
                 extra_cost: ExtraCost | None = None) -> None:
        super().__init__()
        if cost_class == 0 and cost_bbox == 0 and cost_giou == 0 and extra_cost is None:
            raise ValueError("all matching costs are zero")
        self.cost_class, self.cost_bbox, self.cost_giou = cost_class, cost_bbox, cost_giou
        self.focal, self.focal_alpha, self.focal_gamma = focal, focal_alpha, focal_gamma
        self.extra_cost = extra_cost

    def cost_matrix(self, outputs: dict, targets: Sequence[dict]) -> Tensor:
        """(B, Q, T_total) cost of every prediction against every target of the batch."""
        logits, boxes = outputs["pred_logits"], outputs["pred_boxes"]
        batch, queries = logits.shape[:2]
        flat_logits = logits.flatten(0, 1).float()
        flat_boxes = boxes.flatten(0, 1).float()
        tgt_ids = torch.cat([t["labels"] for t in targets]).long().to(logits.device)
        tgt_boxes = torch.cat([t["boxes"] for t in targets]).float().to(logits.device)
        if self.focal:
            prob = flat_logits.sigmoid()
            a, g = self.focal_alpha, self.focal_gamma
            neg = (1 - a) * prob.pow(g) * (-(1 - prob + 1e-8).log())
            pos = a * (1 - prob).pow(g) * (-(prob + 1e-8).log())
            c_cls = pos[:, tgt_ids] - neg[:, tgt_ids]
        else:
            c_cls = -flat_logits.softmax(-1)[:, tgt_ids]
        c_bbox = torch.cdist(flat_boxes, tgt_boxes, p=1)
        c_giou = -generalized_box_iou(box_cxcywh_to_xyxy(flat_boxes), box_cxcywh_to_xyxy(tgt_boxes))
        cost = self.cost_class * c_cls + self.cost_bbox * c_bbox + self.cost_giou * c_giou
        cost = cost.view(batch, queries, -1)
        if self.extra_cost is not None:
            cost = cost + self.extra_cost(outputs, targets).to(cost)
        return cost

    @torch.no_grad()
    def forward(self, outputs: dict, targets: Sequence[dict]) -> list[tuple[Tensor, Tensor]]:
        """outputs: ``pred_logits`` (B, Q, num_classes) and ``pred_boxes`` (B, Q, 4) cxcywh in [0, 1];
        targets: B dicts with ``labels`` (T_i,) int and ``boxes`` (T_i, 4) cxcywh.

        Returns B pairs ``(pred_idx, tgt_idx)`` of int64 tensors of length ``min(Q, T_i)``:
        prediction ``pred_idx[j]`` is matched to target ``tgt_idx[j]`` (sorted by pred_idx).
        """
        if len(targets) != outputs["pred_logits"].shape[0]:
            raise ValueError(f"{len(targets)} target dicts for a batch of {outputs['pred_logits'].shape[0]}")
        sizes = [len(t["boxes"]) for t in targets]
        if sum(sizes) == 0:
            empty = torch.zeros(0, dtype=torch.long)
            return [(empty, empty) for _ in targets]
        cost = self.cost_matrix(outputs, targets).cpu()
        if not torch.isfinite(cost).all():
            raise ValueError("matching cost has NaN or inf entries (check predicted boxes / logits)")
        matches = []
        for i, block in enumerate(cost.split(sizes, dim=-1)):
            rows, cols = linear_sum_assignment(block[i].numpy())
            matches.append((torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)))
        return matches
