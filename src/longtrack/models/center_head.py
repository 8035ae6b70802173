"""The fully convolutional centre head of OSTrack/ProContEXT and its box decoding.

Three towers over the search feature map: a centre score map, a size map (w, h as fractions of
the search crop) and a sub-cell offset map. Each tower is 4 x (3x3 conv + BatchNorm + ReLU) with
channels C, C/2, C/4, C/8, then a 1x1 conv.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["CenterHead", "decode_center", "box_at_cells", "hann_window"]


def _conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def _tower(in_channels: int, channels: int, out_channels: int) -> nn.Sequential:
    widths = [in_channels, channels, channels // 2, channels // 4, channels // 8]
    layers = [_conv_bn_relu(a, b) for a, b in zip(widths, widths[1:])]
    return nn.Sequential(*layers, nn.Conv2d(widths[-1], out_channels, 1))


def _clamped_sigmoid(x: torch.Tensor) -> torch.Tensor:
    # The clamp keeps the focal loss's log() finite.
    return torch.sigmoid(x).clamp(1e-4, 1.0 - 1e-4)


class CenterHead(nn.Module):
    """``[B, C_in, F, F]`` features -> ``score_map [B,1,F,F]`` (clamped sigmoid), ``size_map
    [B,2,F,F]`` (w, h in [0,1] of the crop, clamped sigmoid), ``offset_map [B,2,F,F]`` (dx, dy in
    cells, raw)."""

    def __init__(self, in_channels: int, channels: int = 256):
        super().__init__()
        if channels % 8:
            raise ValueError(f"head channels must be a multiple of 8, got {channels}")
        self.score = _tower(in_channels, channels, 1)
        self.size = _tower(in_channels, channels, 2)
        self.offset = _tower(in_channels, channels, 2)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"score_map": _clamped_sigmoid(self.score(features)),
                "size_map": _clamped_sigmoid(self.size(features)),
                "offset_map": self.offset(features)}


def decode_center(score_map: torch.Tensor, size_map: torch.Tensor, offset_map: torch.Tensor):
    """Box at the arg-max cell of ``score_map``.

    Args:
        score_map: ``[B, 1, F, F]`` (raw, or multiplied by a window); size_map, offset_map:
            ``[B, 2, F, F]``.

    Returns:
        ``boxes [B, 4]`` as (cx, cy, w, h) in [0, 1] of the search crop, ``max_score [B]``.
    """
    max_score, idx = score_map.flatten(1).max(dim=1, keepdim=True)  # first maximum on ties
    return box_at_cells(size_map, offset_map, idx), max_score.squeeze(1)


def box_at_cells(size_map: torch.Tensor, offset_map: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Boxes ``[B, 4]`` (cx, cy, w, h in [0, 1] of the crop) read at flat cell indices ``idx``
    ``[B, 1]`` (row-major, ``row * F + column``): centre = (cell + offset) / F, size from the map."""
    feat = size_map.shape[-1]
    gather_idx = idx.unsqueeze(1).expand(-1, 2, -1)
    size = size_map.flatten(2).gather(2, gather_idx).squeeze(-1)
    offset = offset_map.flatten(2).gather(2, gather_idx).squeeze(-1)
    cell_x = (idx % feat).to(offset.dtype)
    cell_y = torch.div(idx, feat, rounding_mode="floor").to(offset.dtype)
    centre = torch.cat([cell_x + offset[:, :1], cell_y + offset[:, 1:]], dim=1) / feat
    return torch.cat([centre, size], dim=1)


def hann_window(size: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Centred 2-D cosine window ``[1, 1, size, size]``: ``0.5 * (1 - cos(2*pi*k/(size+1)))``,
    k = 1..size, outer product (zero-free at the border, peak 1 only for odd sizes)."""
    k = torch.arange(1, size + 1, device=device, dtype=dtype)
    w = 0.5 * (1.0 - torch.cos((2.0 * math.pi / (size + 1)) * k))
    return (w[:, None] * w[None, :]).reshape(1, 1, size, size)
