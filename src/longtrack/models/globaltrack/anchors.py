"""mmdetection v1 anchors (the legacy generator GlobalTrack's weights were trained with).

Base anchors of a level with stride ``s``: centre ``((s - 1) / 2, (s - 1) / 2)``; for each ratio
``r`` (outer loop) and scale ``k`` (inner), ``w = s * k / sqrt(r)``, ``h = s * k * sqrt(r)``,
corners ``centre -+ (size - 1) / 2`` **rounded** to whole pixels (inclusive-pixel boxes). The grid
shifts them by ``(x * s, y * s)``; flattening order is ``(y, x, anchor)``, matching an RPN map
``[A, H, W]`` permuted to ``[H, W, A]``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["base_anchors", "grid_anchors", "multilevel_anchors"]


def base_anchors(stride: int, scales: Sequence[float], ratios: Sequence[float]) -> Tensor:
    """``[A, 4]`` xyxy anchors of one cell at the origin (A = len(ratios) * len(scales))."""
    size = float(stride)
    centre = 0.5 * (size - 1)
    h_ratios = torch.sqrt(torch.tensor(ratios, dtype=torch.float32))
    w_ratios = 1 / h_ratios
    scale = torch.tensor(scales, dtype=torch.float32)
    ws = (size * w_ratios[:, None] * scale[None, :]).reshape(-1)
    hs = (size * h_ratios[:, None] * scale[None, :]).reshape(-1)
    return torch.stack([centre - 0.5 * (ws - 1), centre - 0.5 * (hs - 1),
                        centre + 0.5 * (ws - 1), centre + 0.5 * (hs - 1)], dim=-1).round()


def grid_anchors(base: Tensor, feat_hw: tuple[int, int], stride: int) -> Tensor:
    """``[H * W * A, 4]`` anchors of a ``feat_hw`` map, index ``(y * W + x) * A + a``."""
    height, width = feat_hw
    shift_x = torch.arange(width, device=base.device, dtype=base.dtype) * stride
    shift_y = torch.arange(height, device=base.device, dtype=base.dtype) * stride
    yy, xx = torch.meshgrid(shift_y, shift_x, indexing="ij")
    shifts = torch.stack([xx, yy, xx, yy], dim=-1).reshape(-1, 1, 4)
    return (base.to(shifts)[None] + shifts).reshape(-1, 4)


def multilevel_anchors(feat_sizes: Sequence[tuple[int, int]], strides: Sequence[int],
                       scales: Sequence[float], ratios: Sequence[float],
                       device: torch.device | str = "cpu") -> list[Tensor]:
    """One ``[H_l * W_l * A, 4]`` tensor per level."""
    return [grid_anchors(base_anchors(s, scales, ratios).to(device), tuple(hw), s)
            for hw, s in zip(feat_sizes, strides)]
