"""Modulated deformable convolution v2 (Zhu et al. 2019) with mmcv / DCNv2 semantics.

For output position (h, w), kernel tap ``k = i * kw + j`` and deformable group ``g``, the
input is sampled at ``y = h * stride - pad + i * dilation + dy``, ``x = ... + j * dilation + dx``
with ``dy = offset[:, g*2K + 2k]``, ``dx = offset[:, g*2K + 2k + 1]`` (K = kh * kw), then
multiplied by ``mask[:, g*K + k]``. A sample is 0 unless ``-1 < y < H`` and ``-1 < x < W``;
inside, each of its four bilinear corners that falls off the map counts as 0 (the
``modulated_deformable_im2col`` kernel). Output = conv weight x sampled columns + bias.

Vectorised: one fused weighted gather (all positions, taps and corners) builds the columns,
one matrix product applies the weight. Differentiable in input, offset, mask, weight, bias.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ._gather import weighted_row_sum

__all__ = ["modulated_deform_conv2d", "ModulatedDeformConvPack"]

IntPair = int | tuple[int, int]


def _pair(v: IntPair) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _tap_positions(out_size: int, kernel: int, stride: int, padding: int, dilation: int,
                   like: Tensor) -> Tensor:
    """(kernel, out_size) undeformed input coordinate of each tap at each output position."""
    out = torch.arange(out_size, device=like.device, dtype=like.dtype) * stride - padding
    tap = torch.arange(kernel, device=like.device, dtype=like.dtype) * dilation
    return out[None, :] + tap[:, None]


def modulated_deform_conv2d(input: Tensor, offset: Tensor, mask: Tensor, weight: Tensor,
                            bias: Tensor | None = None, stride: IntPair = 1, padding: IntPair = 0,
                            dilation: IntPair = 1, deformable_groups: int = 1) -> Tensor:
    """input: (B, Cin, H, W); offset: (B, 2*dg*kh*kw, Ho, Wo); mask: (B, dg*kh*kw, Ho, Wo);
    weight: (Cout, Cin, kh, kw); bias: (Cout,) or None. Returns (B, Cout, Ho, Wo).
    """
    batch, cin, height, width = input.shape
    cout, w_cin, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    dg, taps = int(deformable_groups), kh * kw
    if w_cin != cin:
        raise ValueError(f"weight expects {w_cin} input channels, input has {cin} (groups=1 only)")
    if cin % dg != 0:
        raise ValueError(f"in_channels ({cin}) must be divisible by deformable_groups ({dg})")
    out_h = (height + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
    out_w = (width + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
    if offset.shape != (batch, 2 * dg * taps, out_h, out_w):
        raise ValueError(f"offset must be {(batch, 2 * dg * taps, out_h, out_w)}, got {tuple(offset.shape)}")
    if mask.shape != (batch, dg * taps, out_h, out_w):
        raise ValueError(f"mask must be {(batch, dg * taps, out_h, out_w)}, got {tuple(mask.shape)}")

    # Sampling coordinates, arranged (B, Ho, Wo, dg, kh, kw) so each output position's
    # columns come out contiguous.
    coord_dtype = torch.promote_types(offset.dtype, torch.float32)
    off = offset.to(coord_dtype).view(batch, dg, kh, kw, 2, out_h, out_w).permute(0, 5, 6, 1, 2, 3, 4)
    base_y = _tap_positions(out_h, kh, sh, ph, dh, off)  # (kh, Ho)
    base_x = _tap_positions(out_w, kw, sw, pw, dw, off)  # (kw, Wo)
    y = base_y.t()[None, :, None, None, :, None] + off[..., 0]
    x = base_x.t()[None, None, :, None, None, :] + off[..., 1]
    inside = (y > -1) & (x > -1) & (y < height) & (x < width)
    y0, x0 = y.floor(), x.floor()
    ly, lx = y - y0, x - x0
    y0, x0 = y0.long(), x0.long()
    modulation = mask.to(coord_dtype).view(batch, dg, kh, kw, out_h, out_w).permute(0, 4, 5, 1, 2, 3)
    modulation = modulation * inside

    plane = (torch.arange(batch, device=input.device).view(-1, 1, 1, 1, 1, 1) * dg
             + torch.arange(dg, device=input.device).view(1, 1, 1, -1, 1, 1))
    indices, weights = [], []
    for cy, cx, w in ((y0, x0, (1 - ly) * (1 - lx)), (y0, x0 + 1, (1 - ly) * lx),
                      (y0 + 1, x0, ly * (1 - lx)), (y0 + 1, x0 + 1, ly * lx)):
        on_map = (cy >= 0) & (cy < height) & (cx >= 0) & (cx < width)
        indices.append((plane * height + cy.clamp(0, height - 1)) * width + cx.clamp(0, width - 1))
        weights.append(w * modulation * on_map)
    index = torch.stack(indices, dim=-1).reshape(-1, 4)
    corner_weight = torch.stack(weights, dim=-1).reshape(-1, 4)

    per_group = cin // dg
    table = input.view(batch, dg, per_group, height, width).permute(0, 1, 3, 4, 2).reshape(-1, per_group)
    columns = weighted_row_sum(table, index, corner_weight)  # (B*Ho*Wo*dg*K, Cin/dg)
    columns = columns.view(batch, out_h * out_w, dg * taps * per_group)
    # Weight reordered to the columns' (dg, tap, channel-in-group) order.
    w = weight.view(cout, dg, per_group, taps).permute(0, 1, 3, 2).reshape(cout, -1)
    out = columns @ w.t().to(columns.dtype)
    if bias is not None:
        out = out + bias.to(out.dtype)
    return out.transpose(1, 2).reshape(batch, cout, out_h, out_w)


class ModulatedDeformConvPack(nn.Module):
    """DCNv2 layer that predicts its own offsets and mask, as mmcv's ``ModulatedDeformConvPack``.

    ``conv_offset`` (same kernel/stride/padding/dilation, zero-initialised so training starts
    from a plain conv with mask 0.5) gives ``3 * dg * kh * kw`` channels, chunked into
    ``o1, o2, m``; ``offset = cat(o1, o2)``, ``mask = sigmoid(m)``. Keys: ``weight``, ``bias``,
    ``conv_offset.weight``, ``conv_offset.bias``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0, dilation: IntPair = 1, deformable_groups: int = 1,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride, self.padding, self.dilation = _pair(stride), _pair(padding), _pair(dilation)
        self.deformable_groups = deformable_groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        taps = self.kernel_size[0] * self.kernel_size[1]
        self.conv_offset = nn.Conv2d(in_channels, deformable_groups * 3 * taps, self.kernel_size,
                                     stride=self.stride, padding=self.padding, dilation=self.dilation,
                                     bias=True)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # mmcv's init: U(-1/sqrt(n), 1/sqrt(n)), n = in_channels * kh * kw; zero bias and offsets.
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, in_channels, H, W) -> (B, out_channels, Ho, Wo)."""
        o1, o2, m = torch.chunk(self.conv_offset(x), 3, dim=1)
        offset = torch.cat((o1, o2), dim=1)
        return modulated_deform_conv2d(x, offset, torch.sigmoid(m), self.weight, self.bias, self.stride,
                                       self.padding, self.dilation, self.deformable_groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"deformable_groups={self.deformable_groups}, bias={self.bias is not None}")
