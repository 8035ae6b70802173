"""DMTrack (Zhang et al., CVPR 2021): a query-conditioned one-shot FCOS detector with a re-id branch.

DLA-34 (deformable IDA-up) -> FPN P3-P5 (256 channels) -> per query: template RoIAlign 7x7 +
per-level 1x1 conv -> controllers generating the dynamic 1x1 convs at layers 1 and 6 of both
heads -> ``RTCondFCOSHead`` maps; plus a dense re-id embedding at stride 4. Module names equal the
authors' (``backbone``, ``neck``, ``template``, ``controller``, ``cond_modulator``, ``bbox_head``),
so their checkpoint loads by name (``longtrack.convert.dmtrack``); ``reid`` is ours.

``config.backbone = "mobilenetv2"`` replaces the DLA-34 + IDA-up by MobileNetV2 (torchvision key
names, so the ImageNet file loads into ``backbone``): C3-C5 feed the same FPN, C2 (stride 4) the
re-id branch; every module after the backbone is unchanged.

The model holds no tracking state: the tracker calls :meth:`DMTrack.features`,
:meth:`DMTrack.query`, :meth:`DMTrack.detect` and :meth:`DMTrack.embed`; ``forward`` is the
training path (a batch of query images with query boxes and search images).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ...backbones.dla import DLA34_LEVELS, DLABackbone
from ...backbones.fpn import FPN
from ...backbones.mobilenetv2 import MobileNetV2
from .conditioning import CondModulator, Controller, Template, modulate
from .config import MOBILENETV2_STRIDES, DMTrackConfig
from .head import CondFCOSHead, level_points
from .reid import ReIDHead

__all__ = ["DMTrack", "build_dmtrack"]


class DMTrack(nn.Module):
    """See the module docstring. Images given to the model are RGB on the 0-255 scale (uint8 or
    float), ``[B, 3, H, W]`` with H, W multiples of 32; :meth:`normalise` applies mean/std."""

    def __init__(self, config: DMTrackConfig | None = None):
        super().__init__()
        self.config = cfg = config or DMTrackConfig()
        if cfg.backbone == "mobilenetv2":
            self.backbone = MobileNetV2(out_strides=MOBILENETV2_STRIDES)
        else:
            self.backbone = DLABackbone(DLA34_LEVELS, cfg.dla_channels, down_ratio=8)
        self.neck = FPN(cfg.fpn_in_channels, cfg.head_channels, num_outs=len(cfg.strides))
        self.template = Template(cfg.head_channels, cfg.strides, cfg.roi_size, cfg.roi_sampling_ratio,
                                 cfg.finest_scale)
        self.controller = Controller(cfg.head_channels, cfg.mid_channels) if cfg.correlation == "dynamic" else None
        self.cond_modulator = CondModulator(cfg.head_channels, cfg.mid_channels)
        self.bbox_head = CondFCOSHead(cfg.head_channels, cfg.mid_channels, cfg.num_classes, cfg.stacked_convs,
                                      cfg.gn_groups, cfg.strides)
        self.reid = (ReIDHead(cfg.low_channels, cfg.head_channels, cfg.reid_channels, cfg.reid_dim)
                     if cfg.reid_dim else None)
        self.register_buffer("mean", torch.tensor(cfg.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg.std).view(1, 3, 1, 1), persistent=False)
        if self.controller is not None:
            self._init_controller()

    def _init_controller(self) -> None:
        """Ours (the authors start from a trained detector): the generated conv starts as a static
        He-initialised conv (the bias) plus a small template-dependent part."""
        for name, conv in self.controller.named_children():
            width = self.config.head_channels if name.endswith("1") else self.config.mid_channels
            nn.init.normal_(conv.weight, std=0.01 / width ** 0.5)
            nn.init.normal_(conv.bias, std=(2.0 / width) ** 0.5)

    def train(self, mode: bool = True) -> "DMTrack":
        """``norm_eval`` keeps the backbone's BatchNorm layers in eval mode (running statistics fixed)."""
        super().train(mode)
        if mode and self.config.norm_eval:
            for module in self.backbone.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    # -- parts the tracker calls -----------------------------------------------------------------
    def normalise(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` RGB 0-255 -> mean/std normalised float."""
        return (images.float() - self.mean) / self.std

    def features(self, images: Tensor) -> dict[str, Tensor | tuple[Tensor, ...]]:
        """Normalised ``[B, 3, H, W]`` -> ``{"pyramid": (P3, P4, P5) [B, C, H/s, W/s], "low": [B, c2, H/4, W/4]}``."""
        if self.config.backbone == "mobilenetv2":
            low, *maps = self.backbone(images)  # C2 (stride 4), C3-C5
            return {"pyramid": self.neck(maps), "low": low}
        levels = self.backbone.base(images)
        first = self.backbone.first_level
        pyramid = self.neck(self.backbone.dla_up(levels[first:]))
        return {"pyramid": pyramid, "low": levels[2]}

    def query(self, pyramid: Sequence[Tensor], rois: Tensor) -> dict:
        """Conditioning of each query. rois ``[Q, 5]`` ``(batch_index, x1, y1, x2, y2)`` in the query
        image's pixels. Returns ``{"roi_feat": [Q, C, 7, 7], "template_feats": [per level [Q, C, 7, 7]],
        "conditions": [per level {"cls1", "reg1", "cls2", "reg2"}]}``: generated weights
        ``[Q, C, C]`` / ``[Q, mid, mid]`` (dynamic) or template maps (the ablation's correlations)."""
        roi_feat, template_feats = self.template(pyramid, rois)
        conditions = []
        for feat in template_feats:
            if self.controller is not None:
                conditions.append(self.controller(feat))
            else:
                conditions.append({"cls1": feat, "reg1": feat,
                                   "cls2": self.cond_modulator.downsample("cls", feat),
                                   "reg2": self.cond_modulator.downsample("reg", feat)})
        return {"roi_feat": roi_feat, "template_feats": template_feats, "conditions": conditions}

    def detect(self, pyramid: Sequence[Tensor], conditions: Sequence[dict], image_index: Tensor | None = None,
               keep_intermediates: bool = False) -> list[dict[str, Tensor]]:
        """Head maps of each query on its search image.

        pyramid: P3-P5 ``[B, C, H_l, W_l]``; conditions: :meth:`query`'s ``conditions``;
        image_index: ``[Q]`` the search image of each query (None: query q on image q, or all
        queries on a single image). Returns per level ``{"cls_score": [Q, num_classes, H_l, W_l],
        "bbox_pred": [Q, 4, H_l, W_l], "centerness": [Q, 1, H_l, W_l]}`` (+ ``premod_*``/``mod_*``
        with ``keep_intermediates``).
        """
        kind = self.config.correlation
        outs = []
        for level, (feat, cond) in enumerate(zip(pyramid, conditions)):
            num_queries = cond["cls2"].shape[0]
            if image_index is not None:
                feat = feat[image_index]
            elif feat.shape[0] == 1 and num_queries > 1:
                feat = feat.expand(num_queries, -1, -1, -1)

            def layer1(branch, x, cond=cond):
                return modulate(kind, x, cond[f"{branch}1"])

            def layer6(branch, x, cond=cond):
                return modulate(kind, self.cond_modulator.downsample(branch, x), cond[f"{branch}2"])

            out = self.bbox_head.forward_level(feat, level, layer1, layer6)
            if not keep_intermediates:
                out = {k: out[k] for k in ("cls_score", "bbox_pred", "centerness")}
            outs.append(out)
        return outs

    def embed(self, features: dict) -> Tensor | None:
        """Re-id embedding map ``[B, D, H/4, W/4]`` (not normalised), or None without the branch."""
        if self.reid is None:
            return None
        return self.reid(features["low"], features["pyramid"][0])

    # -- training path -------------------------------------------------------------------------
    def forward(self, query_images: Tensor, query_rois: Tensor, search_images: Tensor,
                query_image_index: Tensor) -> dict[str, Tensor]:
        """query_images, search_images: ``[B, 3, H, W]`` RGB 0-255; query_rois ``[Q, 5]`` on the query
        images; query_image_index ``[Q]``: the search image each query is detected in.

        Returns ``cls_score [Q, N, num_classes]``, ``bbox_pred [Q, N, 4]``, ``centerness [Q, N]``
        over the N points of all levels (level-major, row-major), ``points [N, 2]`` (x, y),
        ``level_index [N]``; with the re-id branch ``search_embedding`` / ``query_embedding``
        ``[B, D, H/4, W/4]``.
        """
        query_feats = self.features(self.normalise(query_images))
        search_feats = self.features(self.normalise(search_images))
        conditions = self.query(query_feats["pyramid"], query_rois)["conditions"]
        levels = self.detect(search_feats["pyramid"], conditions, query_image_index)
        out: dict[str, Tensor] = {}
        for key, width in (("cls_score", self.config.num_classes), ("bbox_pred", 4), ("centerness", 1)):
            flat = [lv[key].flatten(2).transpose(1, 2) for lv in levels]  # [Q, H*W, width]
            out[key] = torch.cat(flat, dim=1)
        out["centerness"] = out["centerness"].squeeze(-1)
        points, level_index = [], []
        for level, (lv, stride) in enumerate(zip(levels, self.config.strides)):
            height, width = lv["cls_score"].shape[-2:]
            points.append(level_points(height, width, stride, lv["cls_score"].device))
            level_index.append(torch.full((height * width,), level, dtype=torch.long, device=points[-1].device))
        out["points"], out["level_index"] = torch.cat(points), torch.cat(level_index)
        if self.reid is not None:
            out["search_embedding"] = self.embed(search_feats)
            out["query_embedding"] = self.embed(query_feats)
        return out


def build_dmtrack(config: DMTrackConfig | dict | None = None) -> DMTrack:
    """A DMTrack network from a config object, a plain mapping, or None (paper size)."""
    if isinstance(config, dict):
        config = DMTrackConfig.from_dict(config)
    return DMTrack(config)
