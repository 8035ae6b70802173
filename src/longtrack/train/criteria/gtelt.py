"""GTELT's training loss over a sequence of T test frames.

Every frame is matched on its own (Hungarian, DETR-style) between the N local trackers and the
target (none when it is absent). The matching cost adds to Deformable DETR's class (focal),
box-L1 and GIoU costs the L1 distance between the target's centre and each tracker's reference
position, so the target goes to the tracker responsible for its neighbourhood -- the activated
tracker, whose reference is its last box centre, when it followed the target. Losses:
focal (1.0) over all trackers and frames + L1 (5.0) + GIoU (2.0) + the reference regulariser
(5.0: L1 between the matched tracker's reference position and the target's centre), each summed
and divided by the number of frames where the target is present (DETR's normalisation).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ...ops import (HungarianMatcher, box_cxcywh_to_xyxy, box_iou_elementwise, box_xywh_to_xyxy,
                    box_xyxy_to_cxcywh, giou_loss, sigmoid_focal_loss)

__all__ = ["GTELTCriterion", "normalised_targets"]


def normalised_targets(boxes_xywh: Tensor, image_hw: tuple[int, int]) -> Tensor:
    """View-pixel xywh ``[..., 4]`` -> cx, cy, w, h in [0, 1] of the canvas, clipped to it."""
    height, width = image_hw
    scale = boxes_xywh.new_tensor([width, height, width, height])
    xyxy = (box_xywh_to_xyxy(boxes_xywh) / scale).clamp(0.0, 1.0)
    return box_xyxy_to_cxcywh(xyxy)


class GTELTCriterion(nn.Module):
    """``criterion(outputs, batch) -> {"loss", "focal", "l1", "giou", "reference", "iou", "activated"}``.

    outputs: ``pred_logits [B, T, N]``, ``pred_boxes [B, T, N, 4]`` (cx, cy, w, h in [0, 1]),
    ``references [B, T, N, 2]``. batch: ``search_boxes [B, T', 4]`` xywh in image pixels,
    ``search_present [B, T']`` and ``search_images [B, T', 3, H, W]`` (its size normalises the
    boxes); only the first T frames are used. ``iou`` (matched box vs target, present frames) is a
    detached metric, not part of the loss.
    """

    def __init__(self, focal_weight: float = 1.0, l1_weight: float = 5.0, giou_weight: float = 2.0,
                 reference_weight: float = 5.0, cost_class: float = 2.0, cost_bbox: float = 5.0,
                 cost_giou: float = 2.0, cost_reference: float = 5.0, focal_alpha: float = 0.25,
                 focal_gamma: float = 2.0):
        super().__init__()
        self.weights = {"focal": focal_weight, "l1": l1_weight, "giou": giou_weight, "reference": reference_weight}
        self.focal_alpha, self.focal_gamma = focal_alpha, focal_gamma
        self.cost_reference = cost_reference
        self.matcher = HungarianMatcher(cost_class=cost_class, cost_bbox=cost_bbox, cost_giou=cost_giou,
                                        focal=True, focal_alpha=focal_alpha, focal_gamma=focal_gamma,
                                        extra_cost=self._reference_cost)

    def _reference_cost(self, outputs: dict, targets) -> Tensor:
        """``[F, N, total targets]``: weighted L1 between reference positions and target centres."""
        refs = outputs["references"]
        centres = torch.cat([t["boxes"][:, :2] for t in targets]).to(refs)
        frames, num = refs.shape[:2]
        return self.cost_reference * torch.cdist(refs.flatten(0, 1).float(), centres.float(), p=1).view(frames, num, -1)

    def forward(self, outputs: dict, batch: dict) -> dict[str, Tensor]:
        logits = outputs["pred_logits"]
        batch_size, length, num = logits.shape
        image_hw = tuple(batch["search_images"].shape[-2:])
        target_boxes = normalised_targets(batch["search_boxes"][:, :length].to(outputs["pred_boxes"].dtype), image_hw)
        present = batch["search_present"][:, :length].bool()
        flat = {"pred_logits": logits.reshape(-1, num, 1), "pred_boxes": outputs["pred_boxes"].reshape(-1, num, 4),
                "references": outputs["references"].reshape(-1, num, 2)}
        flat_boxes, flat_present = target_boxes.reshape(-1, 4), present.reshape(-1)
        targets = [{"labels": torch.zeros(int(p), dtype=torch.long, device=logits.device),
                    "boxes": flat_boxes[f:f + 1] if p else flat_boxes[:0]} for f, p in enumerate(flat_present.tolist())]
        matches = self.matcher(flat, targets)
        frame_idx = torch.cat([torch.full_like(src, f) for f, (src, _) in enumerate(matches)]).to(logits.device)
        tracker_idx = torch.cat([src for src, _ in matches]).to(logits.device)
        num_present = flat_present.sum().clamp(min=1).to(logits.dtype)

        classes = torch.zeros_like(flat["pred_logits"][..., 0])
        classes[frame_idx, tracker_idx] = 1.0
        focal = sigmoid_focal_loss(flat["pred_logits"][..., 0], classes, alpha=self.focal_alpha,
                                   gamma=self.focal_gamma, reduction="sum") / num_present
        pred = flat["pred_boxes"][frame_idx, tracker_idx]
        gt = flat_boxes[frame_idx]
        pred_xyxy, gt_xyxy = box_cxcywh_to_xyxy(pred), box_cxcywh_to_xyxy(gt)
        losses = {
            "focal": focal,
            "l1": (pred - gt).abs().sum() / num_present,
            "giou": giou_loss(pred_xyxy, gt_xyxy, reduction="sum") / num_present,
            "reference": (flat["references"][frame_idx, tracker_idx] - gt[:, :2]).abs().sum() / num_present,
        }
        losses["loss"] = sum(self.weights[k] * v for k, v in losses.items())
        iou = box_iou_elementwise(pred_xyxy, gt_xyxy).detach()
        losses["iou"] = iou.mean() if len(iou) else logits.new_zeros(())
        if "activated" in outputs:  # how often a tracker carried context into a frame
            losses["activated"] = outputs["activated"][:, :length].float().mean()
        return losses
