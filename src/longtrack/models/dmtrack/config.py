"""The configuration of a DMTrack network: widths, head, template pooling, correlation, re-id.

Defaults are the paper's (the authors' ``configs/dmtrackGS_dla34_fpn.py``) plus the re-id
branch the paper describes and the public code lacks. ``paper()``, ``small()`` and
``fixture()`` are the three sizes the project uses on the paper's DLA-34; ``backbone:
mobilenetv2`` swaps the DLA-34 + IDA-up for an ImageNet-pretrained MobileNetV2 (the small
real-video configuration, ``configs/dmtrack-real.yaml``), everything after the backbone unchanged.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from ...errors import LongtrackError

__all__ = ["DMTrackConfig", "CORRELATIONS", "BACKBONES", "MOBILENETV2_STRIDES"]

# How the template conditions the heads at layers 1 and 6 (the paper's ablation, Table 5).
CORRELATIONS = ("dynamic", "xcorr", "dwxcorr", "hadamard")
BACKBONES = ("dla34", "mobilenetv2")
# MobileNetV2 maps the network reads: stride 4 (24 channels) for re-id, strides 8-32 (32, 96,
# 1280 channels) for the FPN (``longtrack.backbones.mobilenetv2.STRIDE_TO_CHANNELS``).
MOBILENETV2_STRIDES = (4, 8, 16, 32)
MOBILENETV2_CHANNELS = (24, 32, 96, 1280)


@dataclass(frozen=True)
class DMTrackConfig:
    """Network configuration. All sizes in channels / pixels."""

    # The paper's DLA-34 (deformable IDA-up, random or the authors' weights), or MobileNetV2
    # (C2 for re-id, C3-C5 into the FPN; deviation "pretrained mobile backbone" in
    # docs/methods/dmtrack.md). ``dla_channels`` only shapes the DLA.
    backbone: Literal["dla34", "mobilenetv2"] = "dla34"
    # Training only: start MobileNetV2 from its ImageNet weights (``longtrack pretrained fetch``).
    # A tracker loads its whole network from its weights file and never reads this.
    pretrained_backbone: bool = False
    # Keep the backbone's BatchNorm statistics in training mode (ImageNet statistics survive
    # batches of a few frames); False trains them, as the DLA from scratch needs.
    norm_eval: bool = False
    dla_channels: tuple[int, ...] = (16, 32, 64, 128, 256, 512)  # DLA-34 levels 0-5
    head_channels: int = 256  # FPN width = template width = head tower width
    mid_channels: int = 32  # the authors' ``mid_channel`` / ``out_in_channels``: layer-6 width
    stacked_convs: int = 4  # 3x3 conv + GN + ReLU per tower
    gn_groups: int = 32
    num_classes: int = 2  # sigmoid channels of fcos_cls (the authors' checkpoint has 2)
    target_class: int = 1  # the channel that means "the query object" (their label 1)
    strides: tuple[int, ...] = (8, 16, 32)  # P3-P5
    regress_ranges: tuple[tuple[float, float], ...] = ((-1.0, 64.0), (64.0, 128.0), (128.0, 1e8))
    center_sample_radius: float = 1.5  # positives within 1.5 x stride of the box centre
    roi_size: int = 7  # template RoIAlign output
    roi_sampling_ratio: int = 2
    finest_scale: float = 56.0  # RoI level rule (mmdetection 2.0, no +1)
    correlation: Literal["dynamic", "xcorr", "dwxcorr", "hadamard"] = "dynamic"
    reid_dim: int = 128  # embedding size of the re-id branch; 0 = no branch (the authors' GlobalSearch)
    reid_channels: int = 256  # hidden width of the re-id head
    # Training only: weight of the re-id contrast added to the identity classification: each
    # query's template embedding against every instance of the batch's search images (same
    # identity positive; the same frame's look-alikes are the hard negatives). 0 = classification only.
    reid_contrast_weight: float = 0.0
    # Inference (the authors' test_cfg and data pipeline).
    input_size: tuple[int, int] = (736, 512)  # rescale so long side <= 736 and short side <= 512
    size_divisor: int = 32
    mean: tuple[float, float, float] = (123.675, 116.28, 103.53)  # RGB, 0-255 pixel scale
    std: tuple[float, float, float] = (58.395, 57.12, 57.375)
    nms_pre: int = 1000  # top-k points per level before NMS
    score_threshold: float = 0.0
    nms_iou: float = 0.5
    max_per_image: int = 100

    def __post_init__(self):
        for name in ("dla_channels", "strides", "input_size", "mean", "std"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "regress_ranges", tuple(tuple(float(v) for v in r) for r in self.regress_ranges))
        if len(self.dla_channels) != 6:
            raise LongtrackError(f"dmtrack config: dla_channels needs 6 widths, got {len(self.dla_channels)}")
        if len(self.strides) != 3 or len(self.regress_ranges) != 3:
            raise LongtrackError("dmtrack config: strides and regress_ranges need one entry per level P3-P5")
        if self.head_channels % self.gn_groups:
            raise LongtrackError(f"dmtrack config: head_channels {self.head_channels} is not divisible by "
                                 f"gn_groups {self.gn_groups}")
        if self.correlation not in CORRELATIONS:
            raise LongtrackError(f"dmtrack config: correlation must be one of {', '.join(CORRELATIONS)}")
        if not 0 <= self.target_class < self.num_classes:
            raise LongtrackError(f"dmtrack config: target_class {self.target_class} outside "
                                 f"[0, {self.num_classes})")
        if min(self.mid_channels, self.stacked_convs, self.roi_size, self.num_classes) < 1:
            raise LongtrackError("dmtrack config: mid_channels, stacked_convs, roi_size, num_classes must be >= 1")
        if self.reid_dim < 0 or self.reid_channels < 1:
            raise LongtrackError("dmtrack config: reid_dim must be >= 0 and reid_channels >= 1")
        if self.reid_contrast_weight < 0:
            raise LongtrackError("dmtrack config: reid_contrast_weight must be >= 0")
        if self.backbone not in BACKBONES:
            raise LongtrackError(f"dmtrack config: backbone must be one of {', '.join(BACKBONES)}")
        if self.pretrained_backbone and self.backbone != "mobilenetv2":
            raise LongtrackError("dmtrack config: pretrained_backbone needs backbone mobilenetv2; the paper's "
                                 "DLA-34 starts from the authors' checkpoint (longtrack convert)")

    @property
    def fpn_in_channels(self) -> tuple[int, ...]:
        """The backbone maps (strides 8, 16, 32) the FPN reads: the DLA-up outputs or MobileNetV2's C3-C5."""
        return MOBILENETV2_CHANNELS[1:] if self.backbone == "mobilenetv2" else self.dla_channels[3:]

    @property
    def low_channels(self) -> int:
        """The stride-4 map the re-id branch reads: DLA level 2 or MobileNetV2's C2."""
        return MOBILENETV2_CHANNELS[0] if self.backbone == "mobilenetv2" else self.dla_channels[2]

    @classmethod
    def paper(cls) -> "DMTrackConfig":
        return cls()

    @classmethod
    def small(cls) -> "DMTrackConfig":
        """The CPU-sized model of ``configs/dmtrack-synth.yaml`` (a test keeps them equal): DLA
        widths / 4 (as the fixture), 32-channel heads (GroupNorm of 16 groups), frames rescaled to
        256x192 (the synthetic 480x360 frames exactly, no padding)."""
        return cls(dla_channels=(4, 8, 16, 32, 64, 128), head_channels=32, mid_channels=16, gn_groups=16,
                   reid_dim=128, reid_channels=32, input_size=(256, 192))

    @classmethod
    def real(cls) -> "DMTrackConfig":
        """The small real-video model of ``configs/dmtrack-real.yaml`` (a test keeps them equal):
        ``small()``'s heads and re-id branch on ImageNet MobileNetV2 with frozen BatchNorm
        statistics, frames fitted to 384x288, the re-id contrast on."""
        return cls.small().replace(backbone="mobilenetv2", pretrained_backbone=True, norm_eval=True,
                                   input_size=(384, 288), reid_contrast_weight=1.0)

    @classmethod
    def fixture(cls) -> "DMTrackConfig":
        """shared/fixtures/official/dmtrack/case1: the authors' detector at DLA widths / 4."""
        return cls(dla_channels=(4, 8, 16, 32, 64, 128), head_channels=64, mid_channels=32, reid_dim=0)

    @classmethod
    def from_dict(cls, values: dict, source: str = "dmtrack config") -> "DMTrackConfig":
        """Build from a plain mapping (YAML or a weights file); unknown keys and wrong types are errors."""
        from ...typed_config import ConfigSource, parse_dataclass

        if not isinstance(values, dict):
            raise LongtrackError(f"{source}: expected a mapping, got {type(values).__name__}")
        return parse_dataclass(cls, values, ConfigSource(source), ())

    def replace(self, **changes) -> "DMTrackConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        def plain(v):
            return [plain(x) for x in v] if isinstance(v, tuple) else v
        return {k: plain(v) for k, v in dataclasses.asdict(self).items()}
