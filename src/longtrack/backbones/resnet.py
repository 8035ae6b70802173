"""ResNet-18/34/50/101 in plain PyTorch, mmdetection "pytorch" style, no downloads.

State-dict key names are torchvision's and mmdetection's (``conv1``, ``bn1``, ``layer1.0.conv2``,
``layer2.0.downsample.0``/``.1``), so the authors' GlobalTrack checkpoints (mmdet v1) load after
stripping their ``backbone.`` prefix (see :mod:`longtrack.backbones.key_map`).

Freezing follows mmdetection: ``frozen_stages=k`` puts the stem and ``layer1..layerk`` in eval
mode with ``requires_grad=False``; ``norm_eval=True`` keeps every BatchNorm in eval mode (running
statistics frozen) even under ``model.train()``. ``norm_requires_grad=False`` additionally freezes
the BN affine parameters ("frozen BN" in the papers' sense).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .init import he_init_conv_bn


class BasicBlock(nn.Module):
    """Two 3x3 convs; the stride sits in the first one."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)

    @property
    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn2


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carries the stride: "pytorch" style), 1x1 expand by 4."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)

    @property
    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn3


# depth -> (block type, blocks per stage)
ARCHITECTURES: dict[int, tuple[type[nn.Module], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
}


class ResNet(nn.Module):
    """ResNet feature extractor (no fc).

    Args:
        depth: 18, 34, 50 or 101.
        base_channels: width of the stem and of stage 1 (64 in the standard nets; a smaller value
            gives a CPU-size model with the same structure: stage ``i`` has ``base * 2**i`` planes).
        num_stages: how many of layer1..layer4 to build (3 stops at conv4, stride 16).
        out_indices: which stages (0 = layer1 ... 3 = layer4) ``forward`` returns; built stages
            after the last of them are not run (their parameters get no gradient: for conv4-only
            use ``num_stages=3``).
        frozen_stages: -1 freezes nothing, 0 the stem, k the stem and layer1..layerk.
        norm_eval: keep all BatchNorms in eval mode during training (mmdetection's default).
        norm_requires_grad: False freezes the BN affine parameters too.
        zero_init_residual: initialise each block's last BN weight to 0 (mmdetection v1 default).

    Input ``[B, 3, H, W]``; output a tuple of ``[B, C_i, H / 2**(i+2), W / 2**(i+2)]`` for ``i`` in
    ``out_indices`` with ``C_i = base * 2**i * expansion`` (``out_channels`` lists them).
    """

    def __init__(
        self,
        depth: int = 50,
        *,
        base_channels: int = 64,
        num_stages: int = 4,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = True,
        norm_requires_grad: bool = True,
        zero_init_residual: bool = True,
    ):
        super().__init__()
        if depth not in ARCHITECTURES:
            raise ValueError(f"ResNet depth must be one of {sorted(ARCHITECTURES)}, got {depth}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"num_stages must be in 1..4, got {num_stages}")
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i < num_stages for i in out_indices):
            raise ValueError(f"out_indices {out_indices} must be non-empty and within 0..{num_stages - 1}")
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f"frozen_stages must be in -1..{num_stages}, got {frozen_stages}")
        block, blocks_per_stage = ARCHITECTURES[depth]
        self.depth = depth
        self.num_stages = num_stages
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.conv1 = nn.Conv2d(3, base_channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)

        inplanes = base_channels
        stage_channels = []
        for i in range(num_stages):
            planes = base_channels * 2**i
            stage = self._make_stage(block, inplanes, planes, blocks_per_stage[i], stride=1 if i == 0 else 2)
            self.add_module(f"layer{i + 1}", stage)
            inplanes = planes * block.expansion
            stage_channels.append(inplanes)
        self.out_channels: list[int] = [stage_channels[i] for i in out_indices]

        self._init_weights(zero_init_residual)
        if not norm_requires_grad:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.requires_grad_(False)
        self._freeze_stages()

    @staticmethod
    def _make_stage(block, inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(inplanes, planes, stride, downsample)]
        layers += [block(planes * block.expansion, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _init_weights(self, zero_init_residual: bool) -> None:
        he_init_conv_bn(self)
        if zero_init_residual:  # each residual branch starts as the identity
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_(m.last_norm.weight)

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 0:
            return []
        return [self.conv1, self.bn1] + [getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)]

    def _freeze_stages(self) -> None:
        for m in self._frozen_modules():
            m.eval()
            m.requires_grad_(False)

    def train(self, mode: bool = True) -> "ResNet":
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i in range(max(self.out_indices) + 1):  # stages past the last output are skipped
            x = getattr(self, f"layer{i + 1}")(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


def resnet18(**kwargs) -> ResNet:
    """ResNet-18: BasicBlock [2, 2, 2, 2]; 11,176,512 parameters at base width 64."""
    return ResNet(18, **kwargs)


def resnet50(**kwargs) -> ResNet:
    """ResNet-50: Bottleneck [3, 4, 6, 3]; 23,508,032 parameters at base width 64."""
    return ResNet(50, **kwargs)
