"""Multi-scale deformable attention (Deformable DETR, Zhu et al. 2021), grid_sample based.

Each query, per head, samples ``P`` points on each of ``L`` feature levels around its
reference point and returns the attention-weighted sum of the bilinearly sampled values.
Sampling locations are normalised to [0, 1] per level, ``(x, y)`` order; pixel centres are
at ``(i + 0.5) / W`` (``align_corners=False``) and samples outside the map read zeros --
the semantics of the authors' CUDA kernel.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ms_deform_attn", "MSDeformAttn"]


def ms_deform_attn(value: Tensor, spatial_shapes: Tensor, level_start_index: Tensor,
                   sampling_locations: Tensor, attention_weights: Tensor) -> Tensor:
    """The attention core.

    value: (B, S, M, D) -- S = sum of H_l * W_l flattened levels, M heads of D channels;
    spatial_shapes: (L, 2) int ``(H_l, W_l)``; level_start_index: (L,) offset of each level in S;
    sampling_locations: (B, Q, M, L, P, 2) in [0, 1]; attention_weights: (B, Q, M, L, P).
    Returns (B, Q, M * D).
    """
    batch, total, heads, dim = value.shape
    _, queries, _, levels, points, _ = sampling_locations.shape
    shapes = [(int(h), int(w)) for h, w in spatial_shapes.tolist()]
    starts = [int(s) for s in level_start_index.tolist()]
    if len(shapes) != levels or len(starts) != levels:
        raise ValueError(f"{levels} levels in sampling_locations but {len(shapes)} spatial shapes "
                         f"and {len(starts)} start indices")
    if sum(h * w for h, w in shapes) != total:
        raise ValueError(f"spatial_shapes cover {sum(h * w for h, w in shapes)} positions, value has {total}")
    if attention_weights.shape != sampling_locations.shape[:-1]:
        raise ValueError(f"attention_weights {tuple(attention_weights.shape)} must match "
                         f"sampling_locations {tuple(sampling_locations.shape[:-1])}")
    # grid_sample needs one dtype; never round the locations to the value's (maybe bf16) dtype.
    dtype = torch.promote_types(value.dtype, sampling_locations.dtype)
    value = value.to(dtype)
    # grid_sample wants [-1, 1]; one grid_sample per level over all (batch, head) pairs.
    grids = (2 * sampling_locations - 1).to(dtype)
    sampled = []
    for level, ((h, w), start) in enumerate(zip(shapes, starts)):
        v = value[:, start:start + h * w]  # (B, HW, M, D)
        v = v.permute(0, 2, 3, 1).reshape(batch * heads, dim, h, w)
        g = grids[:, :, :, level].transpose(1, 2).reshape(batch * heads, queries, points, 2)
        sampled.append(F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False))
    # (B*M, D, Q, L*P) weighted by (B*M, 1, Q, L*P), summed over the samples.
    stacked = torch.stack(sampled, dim=-2).flatten(-2)
    weights = attention_weights.transpose(1, 2).reshape(batch * heads, 1, queries, levels * points)
    out = (stacked * weights.to(stacked.dtype)).sum(-1)
    return out.view(batch, heads * dim, queries).transpose(1, 2).contiguous()


class MSDeformAttn(nn.Module):
    """Deformable attention layer with Deformable DETR's parameters and initialisation.

    State-dict keys: ``sampling_offsets``, ``attention_weights``, ``value_proj``, ``output_proj``
    (``.weight`` / ``.bias``), as in the authors' module.
    """

    def __init__(self, d_model: int = 256, n_levels: int = 4, n_heads: int = 8, n_points: int = 4) -> None:
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.d_model, self.n_levels, self.n_heads, self.n_points = d_model, n_levels, n_heads, n_points
        self.sampling_offsets = nn.Linear(d_model, n_heads * n_levels * n_points * 2)
        self.attention_weights = nn.Linear(d_model, n_heads * n_levels * n_points)
        self.value_proj = nn.Linear(d_model, d_model)
        self.output_proj = nn.Linear(d_model, d_model)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Offsets start as a fixed star: head h points in direction 2*pi*h/M, point p at
        # distance p+1 (in level pixels), so the heads look around before any training.
        nn.init.constant_(self.sampling_offsets.weight, 0.0)
        thetas = torch.arange(self.n_heads, dtype=torch.float32) * (2.0 * math.pi / self.n_heads)
        grid = torch.stack([thetas.cos(), thetas.sin()], -1)
        grid = (grid / grid.abs().max(-1, keepdim=True).values).view(self.n_heads, 1, 1, 2)
        grid = grid.repeat(1, self.n_levels, self.n_points, 1)
        grid = grid * torch.arange(1, self.n_points + 1, dtype=torch.float32).view(1, 1, -1, 1)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(grid.reshape(-1))
        nn.init.constant_(self.attention_weights.weight, 0.0)
        nn.init.constant_(self.attention_weights.bias, 0.0)
        nn.init.xavier_uniform_(self.value_proj.weight)
        nn.init.constant_(self.value_proj.bias, 0.0)
        nn.init.xavier_uniform_(self.output_proj.weight)
        nn.init.constant_(self.output_proj.bias, 0.0)

    def forward(self, query: Tensor, reference_points: Tensor, input_flatten: Tensor,
                input_spatial_shapes: Tensor, input_level_start_index: Tensor,
                input_padding_mask: Tensor | None = None) -> Tensor:
        """query: (B, Q, C); reference_points: (B, Q, L, 2) ``(x, y)`` in [0, 1], or (B, Q, L, 4)
        ``(cx, cy, w, h)`` boxes (offsets then scale with half the box size);
        input_flatten: (B, S, C); input_padding_mask: (B, S) True at padding. Returns (B, Q, C).
        """
        batch, queries, _ = query.shape
        m, lv, pt = self.n_heads, self.n_levels, self.n_points
        value = self.value_proj(input_flatten)
        if input_padding_mask is not None:
            value = value.masked_fill(input_padding_mask[..., None], 0.0)
        value = value.view(batch, value.shape[1], m, self.d_model // m)
        offsets = self.sampling_offsets(query).view(batch, queries, m, lv, pt, 2)
        weights = self.attention_weights(query).view(batch, queries, m, lv * pt)
        weights = weights.softmax(-1).view(batch, queries, m, lv, pt)
        if reference_points.shape[-1] == 2:
            # Offsets are in pixels of each level: divide by (W_l, H_l).
            normaliser = input_spatial_shapes.flip(-1).to(offsets.dtype)
            locations = reference_points[:, :, None, :, None, :] + offsets / normaliser[None, None, None, :, None, :]
        elif reference_points.shape[-1] == 4:
            locations = (reference_points[:, :, None, :, None, :2]
                         + offsets / pt * reference_points[:, :, None, :, None, 2:] * 0.5)
        else:
            raise ValueError(f"reference_points must end in 2 or 4 values, got {tuple(reference_points.shape)}")
        out = ms_deform_attn(value, input_spatial_shapes, input_level_start_index, locations, weights)
        return self.output_proj(out)
