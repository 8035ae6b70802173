"""GTELT's feature encoder: ResNet conv4 of the template and of the whole test image, a linear
channel reduction, and a transformer encoder over the concatenated tokens.

Positional encodings (the paper does not say which): DETR's normalised 2-D sine encoding of each
image's own grid (padding excluded from the normalisation), plus a learned embedding per input
(template / test image) so the encoder can tell the two grids apart.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...backbones.resnet import ResNet

__all__ = ["sine_grid_encoding", "sine_point_encoding", "EncoderLayer", "FeatureEncoder"]

TEMPERATURE = 10000.0


def _frequencies(num_feats: int, device) -> Tensor:
    dim_t = torch.arange(num_feats, dtype=torch.float32, device=device)
    return TEMPERATURE ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / num_feats)


def _interleave(angles: Tensor) -> Tensor:
    """``(..., F)`` angles -> ``(..., F)`` as ``sin`` on even, ``cos`` on odd features."""
    return torch.stack((angles[..., 0::2].sin(), angles[..., 1::2].cos()), dim=-1).flatten(-2)


def sine_grid_encoding(mask: Tensor, dim: int) -> Tensor:
    """DETR's sine encoding of a feature grid.

    mask: ``[B, H, W]`` bool, True on padding. Returns ``[B, H*W, dim]``: ``dim/2`` features of
    the row position then ``dim/2`` of the column position, each normalised to ``(0, 2 pi)`` over
    the unpadded extent.
    """
    not_mask = (~mask).to(torch.float32)
    y = not_mask.cumsum(1)
    x = not_mask.cumsum(2)
    eps = 1e-6
    y = (y - 0.5) / (y[:, -1:, :] + eps) * 2 * math.pi
    x = (x - 0.5) / (x[:, :, -1:] + eps) * 2 * math.pi
    freqs = _frequencies(dim // 2, mask.device)
    pos = torch.cat((_interleave(y[..., None] / freqs), _interleave(x[..., None] / freqs)), dim=-1)
    return pos.flatten(1, 2)


def sine_point_encoding(points: Tensor, dim: int) -> Tensor:
    """``[..., 2]`` points ``(x, y)`` in [0, 1] -> ``[..., dim]`` (y features then x, as the grid)."""
    freqs = _frequencies(dim // 2, points.device)
    scaled = points.to(torch.float32) * 2 * math.pi
    return torch.cat((_interleave(scaled[..., 1:2] / freqs), _interleave(scaled[..., 0:1] / freqs)), dim=-1)


class EncoderLayer(nn.Module):
    """DETR's post-norm encoder layer: self-attention (positions added to queries and keys), FFN."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src: Tensor, pos: Tensor, padding_mask: Tensor | None) -> Tensor:
        q = k = src + pos
        src = self.norm1(src + self.dropout(self.self_attn(q, k, src, key_padding_mask=padding_mask,
                                                           need_weights=False)[0]))
        ffn = self.linear2(self.dropout(F.relu(self.linear1(src))))
        return self.norm2(src + self.dropout(ffn))


class FeatureEncoder(nn.Module):
    """Backbone + reduction + encoder.

    ``backbone_features(images)``: ``[B, 3, H, W]`` -> conv4 ``[B, C4, H/16, W/16]``.
    ``forward(template_map, image_map, image_mask)``:
        template_map ``[B, C4, hz, wz]``, image_map ``[B, C4, h, w]``, image_mask ``[B, h, w]``
        (True on padding, or None). Returns ``(F_t [B, h*w, c], pos [B, h*w, c], mask [B, h*w])``:
        the encoded test-image tokens, their positional encoding and padding mask.
    """

    def __init__(self, config):
        super().__init__()
        self.backbone = ResNet(config.backbone_depth, base_channels=config.backbone_width, num_stages=3,
                               out_indices=(2,), frozen_stages=config.backbone_frozen_stages,
                               norm_eval=config.backbone_norm_eval)
        self.backbone_channels = self.backbone.out_channels[0]
        dim = config.hidden_dim
        self.reduce = nn.Linear(self.backbone_channels, dim)  # the paper's linear C -> c
        self.input_embed = nn.Embedding(2, dim)  # 0: template tokens, 1: test-image tokens
        self.layers = nn.ModuleList(EncoderLayer(dim, config.num_heads, config.encoder_ffn_dim, config.dropout)
                                    for _ in range(config.encoder_layers))
        self.dim = dim

    def backbone_features(self, images: Tensor) -> Tensor:
        return self.backbone(images)[0]

    def _tokens(self, feature_map: Tensor, mask: Tensor, kind: int) -> tuple[Tensor, Tensor]:
        tokens = self.reduce(feature_map.flatten(2).transpose(1, 2))
        pos = sine_grid_encoding(mask, self.dim).to(tokens.dtype) + self.input_embed.weight[kind]
        return tokens, pos

    def forward(self, template_map: Tensor, image_map: Tensor, image_mask: Tensor | None = None):
        batch, _, h, w = image_map.shape
        if image_mask is None:
            image_mask = image_map.new_zeros((batch, h, w), dtype=torch.bool)
        template_mask = template_map.new_zeros((batch, *template_map.shape[-2:]), dtype=torch.bool)
        z, z_pos = self._tokens(template_map, template_mask, 0)
        x, x_pos = self._tokens(image_map, image_mask, 1)
        src, pos = torch.cat((z, x), 1), torch.cat((z_pos, x_pos), 1)
        mask = torch.cat((template_mask.flatten(1), image_mask.flatten(1)), 1)
        padding = mask if bool(mask.any()) else None  # no mask: the fast attention path
        for layer in self.layers:
            src = layer(src, pos, padding)
        num_template = z.shape[1]
        return src[:, num_template:], x_pos, image_mask.flatten(1)
