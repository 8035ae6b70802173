"""Multi-level RoI pooling: each RoI is pooled from the one pyramid level its size selects.

The level rule is mmdetection's ``SingleRoIExtractor.map_roi_levels`` (FPN paper, eq. 1):
``scale = sqrt(w * h)``, ``level = floor(log2(scale / finest_scale + 1e-6))`` clamped to
``[0, num_levels - 1]``; ``finest_scale = 56`` maps RoIs under 112 px to the finest level.
mmdetection v1 (GlobalTrack) measures inclusive pixel boxes, ``w = x2 - x1 + 1``
(``plus_one=True``); mmdetection 2.0 (DMTrack) uses ``w = x2 - x1``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .roi_align import _pair, roi_align

__all__ = ["map_roi_levels", "extract_roi_features", "SingleRoIExtractor"]


def map_roi_levels(rois: Tensor, num_levels: int, finest_scale: float = 56.0,
                   plus_one: bool = False) -> Tensor:
    """Level index per RoI. rois: (K, 5) ``(batch_index, x1, y1, x2, y2)`` -> (K,) int64."""
    if rois.dim() != 2 or rois.shape[1] != 5:
        raise ValueError(f"rois must be (K, 5), got shape {tuple(rois.shape)}")
    extra = 1.0 if plus_one else 0.0
    scale = torch.sqrt((rois[:, 3] - rois[:, 1] + extra) * (rois[:, 4] - rois[:, 2] + extra))
    levels = torch.floor(torch.log2(scale / finest_scale + 1e-6))
    return levels.clamp(min=0, max=num_levels - 1).long()


def extract_roi_features(features: Sequence[Tensor], rois: Tensor, strides: Sequence[int],
                         output_size: int | tuple[int, int] = 7, sampling_ratio: int = 2,
                         aligned: bool = True, finest_scale: float = 56.0,
                         plus_one: bool = False) -> Tensor:
    """RoIAlign each RoI on its level.

    features: one (B, C, H_l, W_l) map per level, finest first; strides: their strides in
    input pixels (``spatial_scale = 1 / stride``); rois: (K, 5) in input pixels.
    Returns (K, C, PH, PW). The loop runs over levels, never over RoIs.
    """
    if len(features) != len(strides) or not features:
        raise ValueError(f"need one stride per feature level, got {len(features)} levels "
                         f"and {len(strides)} strides")
    ph, pw = _pair(output_size)
    levels = map_roi_levels(rois, len(features), finest_scale, plus_one)
    first = features[0]
    out = first.new_zeros((rois.shape[0], first.shape[1], ph, pw))
    for level, (feat, stride) in enumerate(zip(features, strides)):
        members = torch.nonzero(levels == level).squeeze(1)
        if members.numel() == 0:
            continue
        pooled = roi_align(feat, rois[members], (ph, pw), 1.0 / stride, sampling_ratio, aligned)
        out = out.index_copy(0, members, pooled.to(out.dtype))
    return out


class SingleRoIExtractor(nn.Module):
    """Module form of :func:`extract_roi_features` (mmdetection's name; no parameters)."""

    def __init__(self, strides: Sequence[int], output_size: int | tuple[int, int] = 7,
                 sampling_ratio: int = 2, aligned: bool = True, finest_scale: float = 56.0,
                 plus_one: bool = False) -> None:
        super().__init__()
        self.strides = tuple(int(s) for s in strides)
        self.output_size = _pair(output_size)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)
        self.finest_scale = float(finest_scale)
        self.plus_one = bool(plus_one)

    @property
    def num_levels(self) -> int:
        return len(self.strides)

    def forward(self, features: Sequence[Tensor], rois: Tensor) -> Tensor:
        """features: the first ``num_levels`` maps are used (extra coarser levels are ignored)."""
        return extract_roi_features(features[: self.num_levels], rois, self.strides, self.output_size,
                                    self.sampling_ratio, self.aligned, self.finest_scale,
                                    self.plus_one)

    def extra_repr(self) -> str:
        return (f"strides={self.strides}, output_size={self.output_size}, "
                f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned}, "
                f"finest_scale={self.finest_scale}, plus_one={self.plus_one}")
