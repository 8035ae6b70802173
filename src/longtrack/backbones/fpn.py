"""Feature Pyramid Network with mmdetection (v1 / v2.0) semantics.

Per used input level: a 1x1 lateral conv; top-down, each coarser lateral is upsampled (nearest,
to the finer map's size) and added; then a 3x3 output conv per level. Levels beyond the inputs
(``num_outs`` larger than the used inputs) are made by ``max_pool2d(kernel 1, stride 2)`` of the
last output (GlobalTrack's P6) or, with ``add_extra_convs``, by stride-2 3x3 convs (RetinaNet/FCOS).

Key names are mmdetection's (``lateral_convs.0.conv.weight``, ``fpn_convs.3.conv.bias``), so the
authors' ``neck.*`` tensors load after stripping the ``neck.`` prefix.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

EXTRA_CONV_SOURCES = ("on_input", "on_lateral", "on_output")


class ConvUnit(nn.Module):
    """A conv wrapped as ``.conv`` so the key names match mmcv's ``ConvModule`` (no norm, no act)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class FPN(nn.Module):
    """Args:
        in_channels: channels of each backbone output given to ``forward``, finest first.
        out_channels: channels of every pyramid level.
        num_outs: number of returned levels (>= the used inputs; the rest are extra levels).
        start_level: index of the first input used (earlier, finer inputs are ignored).
        add_extra_convs: False (extra levels by max-pooling) or where the first extra conv reads
            from: "on_input" (the last used backbone map), "on_lateral" or "on_output".
        relu_before_extra_convs: apply ReLU before the second and later extra convs.

    ``forward(inputs)`` takes the list of ``[B, in_channels[i], H_i, W_i]`` maps and returns a
    tuple of ``num_outs`` maps ``[B, out_channels, H_k, W_k]``, each level half the previous size.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int,
        num_outs: int,
        *,
        start_level: int = 0,
        add_extra_convs: bool | str = False,
        relu_before_extra_convs: bool = False,
    ):
        super().__init__()
        self.in_channels = list(in_channels)
        if not 0 <= start_level < len(self.in_channels):
            raise ValueError(f"start_level {start_level} out of range for {len(self.in_channels)} inputs")
        self.start_level = start_level
        self.num_used = len(self.in_channels) - start_level
        if num_outs < self.num_used:
            raise ValueError(f"num_outs {num_outs} < the {self.num_used} used input levels")
        if add_extra_convs is True:  # mmdetection's old boolean meant "on_input"
            add_extra_convs = "on_input"
        if add_extra_convs and add_extra_convs not in EXTRA_CONV_SOURCES:
            raise ValueError(f"add_extra_convs must be False or one of {EXTRA_CONV_SOURCES}")
        self.add_extra_convs = add_extra_convs
        self.relu_before_extra_convs = relu_before_extra_convs
        self.out_channels = out_channels
        self.num_outs = num_outs

        self.lateral_convs = nn.ModuleList(ConvUnit(c, out_channels, 1) for c in self.in_channels[start_level:])
        self.fpn_convs = nn.ModuleList(ConvUnit(out_channels, out_channels, 3) for _ in range(self.num_used))
        if add_extra_convs:
            for i in range(num_outs - self.num_used):
                source = self.in_channels[-1] if i == 0 and add_extra_convs == "on_input" else out_channels
                self.fpn_convs.append(ConvUnit(source, out_channels, 3, stride=2))
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f"FPN expects {len(self.in_channels)} input maps, got {len(inputs)}")
        used = inputs[self.start_level :]
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, used)]
        for i in range(self.num_used - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[2:], mode="nearest"
            )
        outs = [self.fpn_convs[i](laterals[i]) for i in range(self.num_used)]

        if self.num_outs > self.num_used:
            if not self.add_extra_convs:
                for _ in range(self.num_outs - self.num_used):
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                source = {"on_input": used[-1], "on_lateral": laterals[-1], "on_output": outs[-1]}
                outs.append(self.fpn_convs[self.num_used](source[self.add_extra_convs]))
                for i in range(self.num_used + 1, self.num_outs):
                    prev = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(self.fpn_convs[i](prev))
        return tuple(outs)
