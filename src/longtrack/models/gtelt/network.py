"""GTELT (Zhou et al., CVPR 2022): global tracking via an ensemble of local trackers.

The network is stateless: the local trackers' queries and reference positions, and the TCA
memory, are inputs (see :mod:`.context` for how they move from frame to frame, shared by the
online tracker and by training). Images enter normalised; ``normalise`` maps uint8 RGB to that.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import box_cxcywh_to_xyxy, box_xywh_to_xyxy, roi_align
from .config import GTELTConfig
from .decoder import LocalTrackerDecoder
from .encoder import FeatureEncoder
from .tca import TemporalContextAggregation

__all__ = ["GTELT"]


class GTELT(nn.Module):
    """Template + whole test image + local trackers -> a score and a box per local tracker.

    ``forward(template, template_box, image, image_mask=None, queries=None, references=None)``
    runs one frame (default trackers when ``queries``/``references`` are None):
        template ``[B, 3, Hz, Wz]`` and image ``[B, 3, H, W]`` normalised RGB
        (``Hz = template_size``, ``(W, H) = image_size``); template_box ``[B, 4]`` xywh in template
        pixels; image_mask ``[B, H, W]`` bool, True on padding.
    Returns ``logits [B, N]``, ``boxes [B, N, 4]`` (cx, cy, w, h in [0, 1] of the image canvas),
    ``embeddings [B, N, c]``, ``references [B, N, 2]`` and ``similarity [B, N]`` (cosine between
    the template's and each candidate's conv4 feature, in [0, 1]: conv4 follows a ReLU).
    """

    def __init__(self, config: GTELTConfig | None = None):
        super().__init__()
        self.config = config = config or GTELTConfig()
        self.encoder = FeatureEncoder(config)
        self.decoder = LocalTrackerDecoder(config)
        self.tca = TemporalContextAggregation(config.hidden_dim, config.num_heads, config.decoder_ffn_dim,
                                              config.dropout)
        # Not persistent: the state dict holds only learned weights.
        self.register_buffer("pixel_mean", 255.0 * torch.tensor(config.mean).view(3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", 255.0 * torch.tensor(config.std).view(3, 1, 1), persistent=False)

    def normalise(self, images: Tensor) -> Tensor:
        """``[..., 3, H, W]`` uint8 (or float 0..255) RGB -> ImageNet-normalised float."""
        return (images.float() - self.pixel_mean) / self.pixel_std

    # -- the parts the online tracker and training call ----------------------------------------
    def encode_template(self, template: Tensor, template_box: Tensor) -> dict[str, Tensor]:
        """``map [B, C4, hz, wz]`` (conv4) and ``feature [B, C4]``: conv4 pooled over the target's box."""
        feature_map = self.encoder.backbone_features(template)
        rois = self._rois(box_xywh_to_xyxy(template_box.to(feature_map.dtype))[:, None])
        return {"map": feature_map, "feature": self._pool(feature_map, rois).view(template.shape[0], -1)}

    def encode_image(self, template_map: Tensor, image: Tensor, image_mask: Tensor | None = None) -> dict:
        """Backbone and encoder over one test image. Returns ``map`` (conv4), ``memory`` (F_t),
        ``pos``, ``mask`` (True on padding, or None) and ``grid_hw``."""
        image_map = self.encoder.backbone_features(image)
        grid_hw = tuple(image_map.shape[-2:])
        mask = None
        if image_mask is not None and bool(image_mask.any()):
            mask = F.interpolate(image_mask[:, None].float(), size=grid_hw).bool()[:, 0]
        memory, pos, flat_mask = self.encoder(template_map, image_map, mask)
        return {"map": image_map, "memory": memory, "pos": pos, "mask": flat_mask if mask is not None else None,
                "grid_hw": grid_hw}

    def default_state(self, batch: int) -> tuple[Tensor, Tensor]:
        """The N default local trackers: ``queries [B, N, c]``, ``references [B, N, 2]``."""
        return self.decoder.default_state(batch)

    def decode(self, frame: dict, queries: Tensor, references: Tensor) -> dict[str, Tensor]:
        out = self.decoder(queries, references, frame["memory"], frame["pos"], frame["mask"], frame["grid_hw"])
        out["references"] = references
        return out

    @torch.no_grad()
    def similarity(self, template_feature: Tensor, image_map: Tensor, boxes: Tensor) -> Tensor:
        """Cosine similarity ``[B, N]`` of ``template_feature [B, C4]`` and the conv4 feature of
        ``image_map`` pooled in each box ``[B, N, 4]`` (cx, cy, w, h in [0, 1] of the canvas)."""
        batch, num = boxes.shape[:2]
        width, height = self.config.image_size
        scale = boxes.new_tensor([width, height, width, height])
        candidates = self._pool(image_map, self._rois(box_cxcywh_to_xyxy(boxes) * scale)).view(batch, num, -1)
        return F.cosine_similarity(candidates.float(), template_feature.float()[:, None], dim=-1).clamp(0, 1)

    def aggregate(self, embedding: Tensor, memory: Tensor, memory_valid: Tensor) -> Tensor:
        """TCA: the activated tracker's online query ``[B, c]``."""
        return self.tca(embedding, memory, memory_valid)

    def forward(self, template: Tensor, template_box: Tensor, image: Tensor, image_mask: Tensor | None = None,
                queries: Tensor | None = None, references: Tensor | None = None) -> dict[str, Tensor]:
        z = self.encode_template(template, template_box)
        frame = self.encode_image(z["map"], image, image_mask)
        if queries is None or references is None:
            queries, references = self.default_state(image.shape[0])
        out = self.decode(frame, queries, references)
        out["similarity"] = self.similarity(z["feature"], frame["map"], out["boxes"])
        return out

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _rois(boxes_xyxy: Tensor) -> Tensor:
        """``[B, K, 4]`` pixel boxes -> RoIAlign rows ``[B*K, 5]``."""
        batch, num = boxes_xyxy.shape[:2]
        index = torch.arange(batch, device=boxes_xyxy.device, dtype=boxes_xyxy.dtype)
        return torch.cat((index.repeat_interleave(num)[:, None], boxes_xyxy.reshape(-1, 4)), dim=1)

    def _pool(self, feature_map: Tensor, rois: Tensor) -> Tensor:
        size = self.config.similarity_pool
        return roi_align(feature_map, rois, size, spatial_scale=1.0 / self.config.stride).mean(dim=(2, 3))
