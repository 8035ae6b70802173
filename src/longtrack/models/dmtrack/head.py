"""DMTrack's detection head: the authors' ``RTCondFCOSHead`` (mmdetection 2.0 FCOS made query-aware).

Per pyramid level ``l`` (weights shared over levels) and per query:

1. layer 1 (conditioned): ``relu(dyn_1x1(P_l))`` for each branch -> ``premod_{cls,reg}``;
2. layers 2-5: ``stacked_convs`` x [3x3 conv (no bias) + GroupNorm(32) + ReLU] per branch;
3. layer 6 (conditioned): ``relu(dyn_1x1(downsampler(tower)))`` -> ``mod_{cls,reg}`` (mid channels);
4. ``cls_score = fcos_cls(mod_cls)``, ``bbox_pred = relu(scale_l * fcos_reg(mod_reg))`` (l,t,r,b
   distances in input pixels: no exp, no stride factor), ``centerness = fcos_centerness(mod_reg)``
   (from the regression branch).

:func:`level_points` and :func:`decode_detections` are the authors' ``get_bboxes`` +
``multiclass_nms``. Key names are theirs (``cls_convs.0.conv.weight``, ``cls_convs.0.gn.bias``,
``fcos_reg.weight``, ``scales.2.scale``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops.box_coder import distance2bbox
from ...ops.nms import batched_nms

__all__ = ["Scale", "ConvGNReLU", "CondFCOSHead", "level_points", "decode_detections"]


class Scale(nn.Module):
    """A learnable scalar (mmcv ``Scale``)."""

    def __init__(self, value: float = 1.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(value)))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale


class ConvGNReLU(nn.Module):
    """mmcv ``ConvModule(3x3, norm_cfg=GN)``: conv without bias, GroupNorm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, groups: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.gn = nn.GroupNorm(groups, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.gn(self.conv(x)))


class CondFCOSHead(nn.Module):
    """Args: channels (tower width = pyramid width), mid_channels (layer-6 width), num_classes,
    stacked_convs, gn_groups, num_levels.

    ``forward_level(x, level, layer1, layer6)``: x ``[Q, C, H, W]`` (one map per query);
    ``layer1(branch, x)`` / ``layer6(branch, x)`` apply the query conditioning (ReLU included).
    Returns a dict of ``cls_score [Q, num_classes, H, W]``, ``bbox_pred [Q, 4, H, W]``,
    ``centerness [Q, 1, H, W]`` and the intermediates ``premod_{cls,reg}``, ``mod_{cls,reg}``.
    """

    def __init__(self, channels: int, mid_channels: int, num_classes: int = 2, stacked_convs: int = 4,
                 gn_groups: int = 32, strides: Sequence[int] = (8, 16, 32)):
        super().__init__()
        self.cls_convs = nn.ModuleList(ConvGNReLU(channels, channels, gn_groups) for _ in range(stacked_convs))
        self.reg_convs = nn.ModuleList(ConvGNReLU(channels, channels, gn_groups) for _ in range(stacked_convs))
        self.fcos_cls = nn.Conv2d(mid_channels, num_classes, 3, padding=1)
        self.fcos_reg = nn.Conv2d(mid_channels, 4, 3, padding=1)
        self.fcos_centerness = nn.Conv2d(mid_channels, 1, 3, padding=1)
        self.scales = nn.ModuleList(Scale(1.0) for _ in strides)
        self._init_weights(strides)

    def _init_weights(self, strides: Sequence[int]) -> None:
        # mmdetection FCOS: N(0, 0.01) convs; the classifier's bias at the focal-loss prior 0.01.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.constant_(self.fcos_cls.bias, -4.59511985013459)  # -log((1 - 0.01) / 0.01)
        # Ours (the authors fine-tune a trained detector): distances are regressed in pixels without
        # exp. Starting at 0 would put -log IoU at ~14 and half the ReLUs dead; and with scale 1 the
        # N(0, 0.01) regression weights would need hundreds of steps to reach pixel magnitudes. So
        # each level's scale starts at its stride (FCOS's later "norm_on_bbox", as a learnable init)
        # and the bias at 2: distances start at 2 x stride (16, 32, 64 px, inside each regress range).
        nn.init.constant_(self.fcos_reg.bias, 2.0)
        for scale, stride in zip(self.scales, strides):
            nn.init.constant_(scale.scale, float(stride))

    def forward_level(self, x: Tensor, level: int, layer1: Callable[[str, Tensor], Tensor],
                      layer6: Callable[[str, Tensor], Tensor]) -> dict[str, Tensor]:
        out = {}
        for branch, tower in (("cls", self.cls_convs), ("reg", self.reg_convs)):
            feat = out[f"premod_{branch}"] = layer1(branch, x)
            for conv in tower:
                feat = conv(feat)
            out[f"mod_{branch}"] = layer6(branch, feat)
        out["cls_score"] = self.fcos_cls(out["mod_cls"])
        out["bbox_pred"] = F.relu(self.scales[level](self.fcos_reg(out["mod_reg"])))
        out["centerness"] = self.fcos_centerness(out["mod_reg"])
        return out


def level_points(height: int, width: int, stride: int, device=None, dtype=torch.float32) -> Tensor:
    """``[H * W, 2]`` (x, y) input-pixel positions of a level's cells, row-major:
    ``(x * s + s // 2, y * s + s // 2)`` (mmdetection 2.0 FCOS)."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device), torch.arange(width, device=device), indexing="ij")
    return (torch.stack([xs.reshape(-1), ys.reshape(-1)], -1) * stride + stride // 2).to(dtype)


def decode_detections(cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor], centernesses: Sequence[Tensor],
                      strides: Sequence[int], image_hw: tuple[int, int], scale_factor: float = 1.0, *,
                      nms_pre: int = 1000, score_threshold: float = 0.0, nms_iou: float = 0.5,
                      max_per_image: int = 100, classes: Sequence[int] | None = None,
                      min_score: float = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """The authors' ``get_bboxes(rescale=True)`` for ONE query's maps.

    cls_scores / bbox_preds / centernesses: per level ``[num_classes, H, W]`` / ``[4, H, W]`` /
    ``[1, H, W]`` (logits, distances, logits). image_hw: the rescaled image before padding (boxes
    are clipped to it); scale_factor: rescaled / original pixels (boxes are divided by it).

    Returns ``(boxes [K, 4] xyxy original pixels, scores [K] = sigmoid(cls) * sigmoid(ctr),
    labels [K])``, K <= max_per_image, best first, over all classes (class-aware NMS).

    ``classes`` / ``min_score`` (ours, for the tracker; default: the authors' behaviour) drop other
    classes' candidates and candidates scoring below ``min_score`` BEFORE the NMS. Greedy NMS is
    class-aware and a box is only ever suppressed by a higher-scoring one, so the kept boxes above
    ``min_score`` of those classes are exactly the authors' (only ``max_per_image`` then counts the
    kept boxes of these classes alone); the NMS gets ~100x cheaper.
    """
    boxes_all, scores_all, ctr_all = [], [], []
    for cls, dist, ctr, stride in zip(cls_scores, bbox_preds, centernesses, strides):
        num_classes, height, width = cls.shape
        points = level_points(height, width, stride, cls.device, dist.dtype)
        scores = cls.permute(1, 2, 0).reshape(-1, num_classes).sigmoid()
        centre = ctr.permute(1, 2, 0).reshape(-1).sigmoid()
        dist = dist.permute(1, 2, 0).reshape(-1, 4)
        if 0 < nms_pre < scores.shape[0]:
            top = (scores * centre[:, None]).max(dim=1).values.topk(nms_pre).indices
            points, scores, centre, dist = points[top], scores[top], centre[top], dist[top]
        boxes_all.append(distance2bbox(points, dist, max_shape=image_hw))
        scores_all.append(scores)
        ctr_all.append(centre)
    boxes = torch.cat(boxes_all) / scale_factor
    scores, centre = torch.cat(scores_all), torch.cat(ctr_all)
    # multiclass_nms: every (box, class) with score > threshold is a candidate, scored x centre-ness.
    valid = scores > score_threshold
    if classes is not None:
        wanted = torch.zeros(scores.shape[1], dtype=torch.bool, device=scores.device)
        wanted[list(classes)] = True
        valid &= wanted
    if min_score > 0:
        valid &= scores * centre[:, None] >= min_score
    rows, labels = torch.nonzero(valid, as_tuple=True)
    cand_boxes, cand_scores = boxes[rows], scores[rows, labels] * centre[rows]
    keep = batched_nms(cand_boxes, cand_scores, labels, nms_iou)[:max_per_image]
    return cand_boxes[keep], cand_scores[keep], labels[keep]
