"""RoIAlign in the two conventions the trackers' authors used, vectorised over RoIs.

``aligned=True`` -- mmdetection 2.0 ``roi_align_kernel_v2.cu`` with ``aligned=True`` (also
torchvision / detectron2 ``aligned=True``, DMTrack's template extractor): the box is shifted
by half a pixel, ``start = x1 * s - 0.5``, ``end = x2 * s - 0.5``, width ``end - start``.

``aligned=False`` -- the LEGACY mmdetection v1 ``roi_align_kernel.cu`` (GlobalTrack): pixel
boxes are inclusive, ``start = x1 * s``, ``end = (x2 + 1) * s``, width ``max(end - start, 0)``.
(This is *not* torchvision's ``aligned=False``, which uses ``x2 * s`` and a minimum width of 1.)

Both: each of the ``PH x PW`` bins averages ``gh x gw`` bilinear samples at
``start + p * bin + (i + .5) * bin / g``; ``g = sampling_ratio`` or, for ``sampling_ratio=0``,
``ceil(roi_size / pooled_size)`` per RoI (adaptive). The kernels' border rules: a sample with
``y < -1`` or ``y > H`` (likewise x) is 0; inside, ``y`` is clamped up to 0 and a sample past
the last row/column reads that row/column. One deviation: a legacy RoI of zero size with
``sampling_ratio=0`` has zero samples and the v1 kernel divides 0 by 0 (NaN); here it gives 0,
as the v2 kernel does.

Gradients flow to ``features`` only (as in the kernels); the RoI coordinates are constants.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ._gather import weighted_row_sum

__all__ = ["roi_align", "RoIAlign"]


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f"output_size must be an int or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def _axis_samples(start: Tensor, bin_size: Tensor, grid: Tensor, pooled: int, max_grid: int,
                  length: int) -> tuple[Tensor, Tensor]:
    """Bilinear taps of the samples along one axis, per RoI.

    start, bin_size: (K,) float; grid: (K,) int samples per bin. Returns two tensors of shape
    (K, pooled, max_grid, 2), one entry per tap (low, high): integer positions in
    [0, length) and their weights (0 for samples past ``grid`` or outside the map).
    """
    p = torch.arange(pooled, device=start.device, dtype=start.dtype).view(1, -1, 1)
    i = torch.arange(max_grid, device=start.device, dtype=start.dtype).view(1, 1, -1)
    k_start, k_bin = start.view(-1, 1, 1), bin_size.view(-1, 1, 1)
    k_grid = grid.view(-1, 1, 1)
    # Same float operation order as the kernels: start + p * bin + (i + .5) * bin / g.
    coord = k_start + p * k_bin + (i + 0.5) * k_bin / k_grid.clamp(min=1).to(start.dtype)
    used = (i < k_grid) & (coord >= -1.0) & (coord <= length)
    coord = coord.clamp(min=0)
    low = coord.floor()
    at_edge = low >= length - 1
    low = torch.where(at_edge, torch.full_like(low, length - 1), low)
    frac = torch.where(at_edge, torch.zeros_like(coord), coord - low)
    low = low.long()
    high = torch.where(at_edge, low, low + 1)
    taps = torch.stack([low, high], dim=-1)
    weights = torch.stack([1.0 - frac, frac], dim=-1) * used.unsqueeze(-1)
    return taps, weights


def roi_align(features: Tensor, rois: Tensor, output_size: int | tuple[int, int],
              spatial_scale: float = 1.0, sampling_ratio: int = 0, aligned: bool = True) -> Tensor:
    """Pool a fixed-size feature for each RoI.

    features: (B, C, H, W); rois: (K, 5) rows ``(batch_index, x1, y1, x2, y2)`` in input-image
    pixels (``spatial_scale`` maps them onto the feature map, e.g. 1/stride).
    Returns (K, C, PH, PW) in ``features``' dtype.
    """
    if features.dim() != 4:
        raise ValueError(f"features must be (B, C, H, W), got shape {tuple(features.shape)}")
    if rois.dim() != 2 or rois.shape[1] != 5:
        raise ValueError(f"rois must be (K, 5) rows (batch_index, x1, y1, x2, y2), got {tuple(rois.shape)}")
    if sampling_ratio < 0:
        raise ValueError(f"sampling_ratio must be >= 0, got {sampling_ratio}")
    ph, pw = _pair(output_size)
    batch, channels, height, width = features.shape
    num_rois = rois.shape[0]
    if num_rois == 0:
        return features.new_zeros((0, channels, ph, pw))

    # Coordinates in float32 at least (bf16 boxes would move samples by pixels).
    coord_dtype = torch.promote_types(rois.dtype, torch.float32)
    r = rois.detach().to(coord_dtype)
    batch_index = r[:, 0].long()
    if bool(((batch_index < 0) | (batch_index >= batch)).any()):
        raise ValueError(f"roi batch indices must lie in [0, {batch}), got {batch_index.tolist()}")
    scale = torch.tensor(spatial_scale, dtype=coord_dtype, device=r.device)
    if aligned:
        start_x, start_y = r[:, 1] * scale - 0.5, r[:, 2] * scale - 0.5
        roi_w, roi_h = r[:, 3] * scale - 0.5 - start_x, r[:, 4] * scale - 0.5 - start_y
    else:
        start_x, start_y = r[:, 1] * scale, r[:, 2] * scale
        roi_w = ((r[:, 3] + 1) * scale - start_x).clamp(min=0)
        roi_h = ((r[:, 4] + 1) * scale - start_y).clamp(min=0)
    bin_w, bin_h = roi_w / pw, roi_h / ph

    if sampling_ratio > 0:
        grid_h = torch.full((num_rois,), sampling_ratio, dtype=torch.long, device=r.device)
        grid_w = grid_h
    else:
        grid_h = torch.ceil(roi_h / ph).long()
        grid_w = torch.ceil(roi_w / pw).long()
    table = features.permute(0, 2, 3, 1).reshape(batch * height * width, channels)
    geometry = (batch_index, start_x, start_y, bin_w, bin_h, grid_h, grid_w)
    if sampling_ratio > 0:
        pooled = _pool_rois(table, *geometry, ph, pw, height, width)
    else:
        # Adaptive grids differ per RoI; padding all RoIs to the largest grid could need
        # gigabytes, so RoIs are pooled in buckets of similar grid size (powers of two).
        largest = torch.maximum(grid_h, grid_w).clamp(min=1).to(coord_dtype)
        bucket = torch.ceil(torch.log2(largest)).long()
        order, parts = [], []
        for b in torch.unique(bucket).tolist():
            members = torch.nonzero(bucket == b).squeeze(1)
            order.append(members)
            parts.append(_pool_rois(table, *(g[members] for g in geometry), ph, pw, height, width))
        inverse = torch.empty(num_rois, dtype=torch.long, device=r.device)
        inverse[torch.cat(order)] = torch.arange(num_rois, device=r.device)
        pooled = torch.cat(parts)[inverse]
    return pooled.view(num_rois, ph, pw, channels).permute(0, 3, 1, 2).contiguous()


def _pool_rois(table: Tensor, batch_index: Tensor, start_x: Tensor, start_y: Tensor, bin_w: Tensor,
               bin_h: Tensor, grid_h: Tensor, grid_w: Tensor, ph: int, pw: int, height: int,
               width: int) -> Tensor:
    """Average the bilinear samples of every bin: table (B*H*W, C) -> (K, PH*PW, C)."""
    max_gh = max(int(grid_h.max()), 1)
    max_gw = max(int(grid_w.max()), 1)
    # A bin averages over g_h * g_w samples (at least 1 so empty bins give 0, not NaN).
    count = (grid_h * grid_w).clamp(min=1).to(start_x.dtype)
    y_taps, y_w = _axis_samples(start_y, bin_h, grid_h, ph, max_gh, height)  # (K, PH, gh, 2)
    x_taps, x_w = _axis_samples(start_x, bin_w, grid_w, pw, max_gw, width)  # (K, PW, gw, 2)
    # Broadcast to (K, PH, PW, gh, gw, 2, 2): every bin, every sample, every tap pair.
    y_taps = y_taps[:, :, None, :, None, :, None]
    x_taps = x_taps[:, None, :, None, :, None, :]
    index = (batch_index.view(-1, 1, 1, 1, 1, 1, 1) * height + y_taps) * width + x_taps
    weight = (y_w[:, :, None, :, None, :, None] * x_w[:, None, :, None, :, None, :]
              / count.view(-1, 1, 1, 1, 1, 1, 1))
    taps_per_bin = max_gh * max_gw * 4
    pooled = weighted_row_sum(table, index.reshape(-1, taps_per_bin), weight.reshape(-1, taps_per_bin))
    return pooled.view(batch_index.shape[0], ph * pw, -1)


class RoIAlign(nn.Module):
    """Module form of :func:`roi_align` (no parameters)."""

    def __init__(self, output_size: int | tuple[int, int], spatial_scale: float = 1.0,
                 sampling_ratio: int = 0, aligned: bool = True) -> None:
        super().__init__()
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)

    def forward(self, features: Tensor, rois: Tensor) -> Tensor:
        return roi_align(features, rois, self.output_size, self.spatial_scale,
                         self.sampling_ratio, self.aligned)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned}")
