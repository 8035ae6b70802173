"""The configuration of a DMTrack network: widths, head, template pooling, correlation, re-id.

Defaults are the paper's (the authors' ``configs/dmtrackGS_dla34_fpn.py``) plus the re-id
branch the paper describes and the public code lacks. ``paper()``, ``small()`` and
``fixture()`` are the three sizes the project uses.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from ...errors import LongtrackError

__all__ = ["DMTrackConfig", "CORRELATIONS"]

# How the template conditions the heads at layers 1 and 6 (the paper's ablation, Table 5).
CORRELATIONS = ("dynamic", "xcorr", "dwxcorr", "hadamard")


@dataclass(frozen=True)
class DMTrackConfig:
    """Network configuration. All sizes in channels / pixels."""

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

    @property
    def fpn_in_channels(self) -> tuple[int, ...]:
        """The DLA-up outputs (strides 8, 16, 32) the FPN reads."""
        return self.dla_channels[3:]

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
