"""DLA-34 with deformable IDA-up (the CenterNet / DMTrack "dla34 dcn" backbone), plain PyTorch.

``DLABase`` is the deep-layer-aggregation trunk: a 7x7 stride-1 stem, two conv levels and four
``Tree`` levels of BasicBlocks whose ``Root`` (1x1 conv + BN + ReLU) aggregates the children;
level ``i`` has stride ``2**i``. ``DLAUp`` fuses the levels from ``first_level`` on, coarse to
fine, with ``IDAUp`` stages: ``node(up(proj(coarse)) + fine)`` where ``proj``/``node`` are a
modulated deformable 3x3 conv (DCNv2) + BN + ReLU and ``up`` is a depthwise transposed conv
initialised as bilinear upsampling. ``DLABackbone(down_ratio=8)`` returns strides 8/16/32.

Key names equal the authors' (mmdetection ``backbones/dla.py`` in hqucv/dmtrack, itself
CenterNet's ``pose_dla_dcn``): ``base.level3.tree1.tree1.conv1.weight``,
``dla_up.ida_1.proj_2.conv.conv_offset.weight``, ``dla_up.ida_0.up_1.weight``. The authors' model
also builds a final ``ida_up`` that its forward never calls; we do not build it
(:data:`longtrack.backbones.key_map.AUTHORS_DLA_UNUSED` drops its keys).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from longtrack.ops.deform_conv import ModulatedDeformConvPack

from .init import he_init_conv_bn

DLA34_LEVELS = (1, 1, 1, 2, 2, 1)
DLA34_CHANNELS = (16, 32, 64, 128, 256, 512)


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN; the residual is given by the caller (the tree's projected input)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        residual = x if residual is None else residual
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + residual)


class Root(nn.Module):
    """Aggregation node: 1x1 conv over the concatenated children, BN, ReLU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, *children: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(torch.cat(children, 1))))


class Tree(nn.Module):
    """A hierarchical aggregation level of depth ``levels`` (1: two blocks and a root).

    ``level_root`` also feeds the (downsampled) input of the level to its root, as DLA does for
    levels 3-5. The children of deeper levels are passed down so that the deepest root sees all.
    """

    def __init__(
        self, levels: int, in_channels: int, out_channels: int, stride: int = 1,
        level_root: bool = False, root_dim: int = 0,
    ):
        super().__init__()
        root_dim = root_dim or 2 * out_channels
        if level_root:
            root_dim += in_channels
        self.levels = levels
        self.level_root = level_root
        if levels == 1:
            self.tree1 = BasicBlock(in_channels, out_channels, stride)
            self.tree2 = BasicBlock(out_channels, out_channels)
            self.root = Root(root_dim, out_channels)
        else:
            self.tree1 = Tree(levels - 1, in_channels, out_channels, stride)
            self.tree2 = Tree(levels - 1, out_channels, out_channels, root_dim=root_dim + out_channels)
        self.downsample = nn.MaxPool2d(stride, stride=stride) if stride > 1 else None
        self.project = None
        if in_channels != out_channels:
            self.project = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)
            )
            if levels > 1:
                # Only a block uses the projected residual; a sub-tree projects its own input, so
                # this one never reaches the output. It is kept because the standard DLA-34 (and
                # its checkpoints) have it; without gradients it would stall DDP, so freeze it.
                self.project.requires_grad_(False)

    def forward(self, x: torch.Tensor, children: list[torch.Tensor] | None = None) -> torch.Tensor:
        children = [] if children is None else children
        bottom = self.downsample(x) if self.downsample is not None else x
        if self.level_root:
            children.append(bottom)
        if self.levels == 1:
            residual = self.project(bottom) if self.project is not None else bottom
            x1 = self.tree1(x, residual)
            return self.root(self.tree2(x1), x1, *children)
        x1 = self.tree1(x)
        children.append(x1)
        return self.tree2(x1, children=children)


def _conv_level(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class DLABase(nn.Module):
    """The DLA trunk (no classifier). ``[B, 3, H, W]`` -> 6 maps, level ``i``:
    ``[B, channels[i], H / 2**i, W / 2**i]`` (H, W multiples of 32)."""

    def __init__(self, levels: Sequence[int] = DLA34_LEVELS, channels: Sequence[int] = DLA34_CHANNELS):
        super().__init__()
        if len(levels) != 6 or len(channels) != 6:
            raise ValueError("DLA needs 6 levels and 6 channel widths")
        if levels[0] != 1 or levels[1] != 1:
            raise ValueError("levels 0 and 1 of this DLA are single convs (levels[0] = levels[1] = 1)")
        self.channels = list(channels)
        c = self.channels
        self.base_layer = nn.Sequential(
            nn.Conv2d(3, c[0], 7, padding=3, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU(inplace=True)
        )
        self.level0 = _conv_level(c[0], c[0])
        self.level1 = _conv_level(c[0], c[1], stride=2)
        self.level2 = Tree(levels[2], c[1], c[2], stride=2, level_root=False)
        self.level3 = Tree(levels[3], c[2], c[3], stride=2, level_root=True)
        self.level4 = Tree(levels[4], c[3], c[4], stride=2, level_root=True)
        self.level5 = Tree(levels[5], c[4], c[5], stride=2, level_root=True)
        he_init_conv_bn(self)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.base_layer(x)
        outs = []
        for i in range(6):
            x = getattr(self, f"level{i}")(x)
            outs.append(x)
        return outs


class DeformConvBlock(nn.Module):
    """DCNv2 3x3 (with bias) then BN + ReLU (``actf``), as CenterNet's ``DeformConv``."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.actf = nn.Sequential(nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))
        self.conv = ModulatedDeformConvPack(in_channels, out_channels, 3, stride=1, padding=1, dilation=1,
                                            deformable_groups=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.actf(self.conv(x))


def bilinear_upsample_kernel(size: int) -> torch.Tensor:
    """``[size, size]`` weights of bilinear interpolation for a transposed conv of that size."""
    factor = math.ceil(size / 2)
    center = (2 * factor - 1 - factor % 2) / (2.0 * factor)
    ramp = 1 - (torch.arange(size, dtype=torch.float64) / factor - center).abs()
    return (ramp[:, None] * ramp[None, :]).float()


class IDAUp(nn.Module):
    """Iterative deep aggregation: folds ``layers[start+1:end]`` one by one into the finer ones.

    Args:
        out_channels: channels of the fused maps.
        channels: channels of the levels it reads (index 0 is the finest, left unchanged).
        up_factors: each level's stride relative to the finest (index 0 is 1).
    """

    def __init__(self, out_channels: int, channels: Sequence[int], up_factors: Sequence[int]):
        super().__init__()
        for i in range(1, len(channels)):
            f = int(up_factors[i])
            up = nn.ConvTranspose2d(out_channels, out_channels, 2 * f, stride=f, padding=f // 2,
                                    groups=out_channels, bias=False)
            with torch.no_grad():
                up.weight.copy_(bilinear_upsample_kernel(2 * f).expand_as(up.weight))
            setattr(self, f"proj_{i}", DeformConvBlock(channels[i], out_channels))
            setattr(self, f"up_{i}", up)
            setattr(self, f"node_{i}", DeformConvBlock(out_channels, out_channels))

    def forward(self, layers: list[torch.Tensor], start: int, end: int) -> None:
        """Rewrites ``layers[start+1:end]`` in place: each becomes ``node(up(proj(it)) + previous)``."""
        for i in range(start + 1, end):
            k = i - start
            upsampled = getattr(self, f"up_{k}")(getattr(self, f"proj_{k}")(layers[i]))
            layers[i] = getattr(self, f"node_{k}")(upsampled + layers[i - 1])


class DLAUp(nn.Module):
    """Coarse-to-fine aggregation of the levels it is given (finest first).

    ``ida_0`` fuses the two coarsest levels, ``ida_1`` the three coarsest, ... Returns one map
    per level at that level's stride: the finest is the most aggregated, the coarsest is as given.
    """

    def __init__(self, channels: Sequence[int], scales: Sequence[int]):
        super().__init__()
        channels = list(channels)
        in_channels = list(channels)
        scales = list(scales)
        for i in range(len(channels) - 1):
            j = len(channels) - 2 - i  # the finest level ida_i touches
            setattr(self, f"ida_{i}",
                    IDAUp(channels[j], in_channels[j:], [s // scales[j] for s in scales[j:]]))
            # after ida_i, levels j+1.. have been brought to level j's stride and width
            scales[j + 1:] = [scales[j]] * (len(scales) - j - 1)
            in_channels[j + 1:] = [channels[j]] * (len(channels) - j - 1)
        self.num_levels = len(channels)

    def forward(self, layers: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        layers = list(layers)
        outs = [layers[-1]]
        for i in range(self.num_levels - 1):
            getattr(self, f"ida_{i}")(layers, self.num_levels - i - 2, self.num_levels)
            outs.insert(0, layers[-1])
        return outs


class DLABackbone(nn.Module):
    """DLA trunk + DLAUp from stride ``down_ratio`` on (DMTrack / CenterNet ``dla34`` with DCN).

    ``[B, 3, H, W]`` (H, W multiples of 32) -> list of maps at strides
    ``down_ratio, 2 * down_ratio, ..., 32`` with ``out_channels = channels[log2(down_ratio):]``
    (down_ratio 8: ``[B, 128, H/8, W/8]``, ``[B, 256, H/16, W/16]``, ``[B, 512, H/32, W/32]``).
    """

    def __init__(
        self,
        levels: Sequence[int] = DLA34_LEVELS,
        channels: Sequence[int] = DLA34_CHANNELS,
        down_ratio: int = 8,
    ):
        super().__init__()
        if down_ratio not in (1, 2, 4, 8, 16, 32):
            raise ValueError(f"down_ratio must be a power of 2 from 1 to 32, got {down_ratio}")
        self.first_level = int(math.log2(down_ratio))
        self.base = DLABase(levels, channels)
        used = list(channels[self.first_level:])
        self.dla_up = DLAUp(used, [2**i for i in range(len(used))])
        self.out_channels: list[int] = used

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.dla_up(self.base(x)[self.first_level:])


def dla34(channels: Sequence[int] = DLA34_CHANNELS, down_ratio: int = 8) -> DLABackbone:
    """DLA-34 + deformable DLAUp; pass a smaller ``channels`` list for a CPU-size model."""
    return DLABackbone(DLA34_LEVELS, channels, down_ratio)
