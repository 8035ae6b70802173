"""DMTrack's re-identification branch (in the paper, not in the authors' public code).

A dense ``D``-dimensional appearance embedding at stride 4, as in JDE / FairMOT: the paper puts
"a conv on low-level backbone features at stride 4". Our input is the DLA level-2 map (stride 4)
concatenated with the P3 level up-sampled x2: level 2 alone sees only ~20 pixels, too little of an
object to tell two look-alikes apart; P3 adds the context while level 2 keeps the detail.
Then 3x3 conv + ReLU + 1x1 conv -> ``D`` channels (FairMOT's head shape).

:func:`sample_embeddings` reads the embedding at given image points (bilinear, the map's cell
centres at ``4 * i + 1.5``) and L2-normalises it: the vectors the tracker compares by cosine.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ReIDHead", "sample_embeddings", "REID_STRIDE"]

REID_STRIDE = 4


class ReIDHead(nn.Module):
    """``forward(low [B, C_low, H/4, W/4], p3 [B, C, H/8, W/8]) -> [B, D, H/4, W/4]`` (not normalised)."""

    def __init__(self, low_channels: int, pyramid_channels: int, hidden: int, dim: int):
        super().__init__()
        self.conv = nn.Conv2d(low_channels + pyramid_channels, hidden, 3, padding=1)
        self.embed = nn.Conv2d(hidden, dim, 1)
        for m in (self.conv, self.embed):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)

    def forward(self, low: Tensor, p3: Tensor) -> Tensor:
        up = F.interpolate(p3, size=low.shape[-2:], mode="nearest")
        return self.embed(F.relu(self.conv(torch.cat([low, up], dim=1))))


def sample_embeddings(embedding: Tensor, batch_index: Tensor, points_xy: Tensor, stride: int = REID_STRIDE) -> Tensor:
    """Embeddings at points: embedding ``[B, D, h, w]``, batch_index ``[N]`` int, points_xy ``[N, 2]``
    input pixels. Returns ``[N, D]`` unit vectors (bilinear, border clamped)."""
    if points_xy.shape[0] == 0:
        return embedding.new_zeros((0, embedding.shape[1]))
    _, dim, height, width = embedding.shape
    # Cell i covers pixels [s*i, s*(i+1)): its centre is s*i + (s-1)/2; grid_sample's align_corners=True
    # maps -1/+1 to the first/last cell centres.
    cx = (points_xy[:, 0] - (stride - 1) / 2) / stride
    cy = (points_xy[:, 1] - (stride - 1) / 2) / stride
    gx = 2 * cx.clamp(0, width - 1) / max(width - 1, 1) - 1
    gy = 2 * cy.clamp(0, height - 1) / max(height - 1, 1) - 1
    grid = torch.stack([gx, gy], -1).to(embedding.dtype)[:, None, None, :]  # [N, 1, 1, 2]
    picked = F.grid_sample(embedding[batch_index.long()], grid, mode="bilinear", align_corners=True)
    return F.normalize(picked.view(-1, dim), dim=1)
