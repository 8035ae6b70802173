"""GlobalTrack's configuration: network widths, input geometry, proposal and sampling settings.

Defaults are the authors' ``configs/qg_rcnn_r50_fpn.py`` (mmdetection v1): ResNet-50 + FPN 256,
RPN with 3 anchors, 7x7 legacy RoIAlign, 2 x 1024 shared FCs, frames rescaled to fit 1333x800.
``small()`` is the CPU-sized model of ``configs/globaltrack-synth.yaml``; ``fixture()`` is the
width of ``shared/fixtures/official/globaltrack/case1``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from ...errors import LongtrackError

__all__ = ["ProposalConfig", "SamplingConfig", "DetectionConfig", "GlobalTrackConfig"]


@dataclass(frozen=True)
class ProposalConfig:
    """RPN proposals of one query (mmdetection v1 ``rpn_proposal`` / ``test_cfg.rpn``): per level the
    top ``nms_pre`` anchors by score, decoded, NMS ``nms_thr``, first ``nms_post``; then the top
    ``max_num`` over all levels."""

    nms_pre: int = 1000
    nms_post: int = 1000
    max_num: int = 1000
    nms_thr: float = 0.7
    min_bbox_size: float = 0.0

    def __post_init__(self):
        if min(self.nms_pre, self.nms_post, self.max_num) < 1 or not 0 < self.nms_thr <= 1:
            raise ValueError("proposal counts must be >= 1 and nms_thr in (0, 1]")


@dataclass(frozen=True)
class SamplingConfig:
    """Max-IoU assignment and random sampling of training boxes (mmdetection v1 ``MaxIoUAssigner``
    + ``RandomSampler``): IoU >= ``pos_iou`` positive, < ``neg_iou`` negative, and each ground
    truth's best boxes (IoU >= ``min_pos_iou``) positive too; ``num`` samples of which at most
    ``pos_fraction`` positive."""

    num: int = 256
    pos_fraction: float = 0.5
    pos_iou: float = 0.7
    neg_iou: float = 0.3
    min_pos_iou: float = 0.3
    add_gt_as_proposals: bool = False

    def __post_init__(self):
        if self.num < 1 or not 0 <= self.pos_fraction <= 1 or self.neg_iou > self.pos_iou:
            raise ValueError("sampling: num >= 1, pos_fraction in [0, 1], neg_iou <= pos_iou")


@dataclass(frozen=True)
class DetectionConfig:
    """RCNN post-processing (``test_cfg.rcnn``): object scores > ``score_thr``, NMS ``nms_thr``,
    at most ``max_per_img`` detections."""

    score_thr: float = 0.0
    nms_thr: float = 0.5
    max_per_img: int = 1000


@dataclass(frozen=True)
class GlobalTrackConfig:
    """Everything that defines a GlobalTrack (QG-RCNN) network and its inputs."""

    # The paper's ResNet, or an ImageNet-pretrained mobile network (the small real-video
    # configuration, deviation "pretrained mobile backbone" in docs/methods/globaltrack.md).
    backbone: Literal["resnet", "mobilenetv2", "efficientnet-lite0"] = "resnet"
    # Training only: start the backbone from its ImageNet weights (``longtrack pretrained fetch``).
    # A tracker loads its whole network from its weights file and never reads this.
    pretrained_backbone: bool = False
    depth: int = 50  # ResNet depth
    base_channels: int = 64  # ResNet stem width (stage i: base * 2**i planes)
    frozen_stages: int = 1  # stem + layer1 frozen (mmdet default; -1 trains every stage)
    norm_eval: bool = True  # BatchNorm statistics frozen (mmdet default)
    fpn_channels: int = 256
    fc_channels: int = 1024  # the 2 shared FCs of the box head
    roi_size: int = 7
    roi_sample_num: int = 2
    roi_aligned: bool = False  # False: mmdetection v1's legacy RoIAlign (the authors' weights need it)
    finest_scale: float = 56.0  # RoI level rule: floor(log2(sqrt(wh) / 56)), inclusive (+1) sizes
    roi_strides: tuple[int, ...] = (4, 8, 16, 32)  # RoIs are pooled from P2-P5
    anchor_scales: tuple[float, ...] = (8.0,)
    anchor_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    anchor_strides: tuple[int, ...] = (4, 8, 16, 32, 64)  # P2-P6
    rpn_target_stds: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    rcnn_target_stds: tuple[float, ...] = (0.1, 0.1, 0.2, 0.2)
    # Input: a frame is rescaled (aspect kept) to fit (long, short) edges, normalised, zero-padded.
    max_size: tuple[int, int] = (1333, 800)
    pad_divisor: int = 32
    mean: tuple[float, float, float] = (123.675, 116.28, 103.53)  # RGB, 0-255
    std: tuple[float, float, float] = (58.395, 57.12, 57.375)
    test_rpn: ProposalConfig = ProposalConfig()
    test_rcnn: DetectionConfig = DetectionConfig()
    train_rpn: ProposalConfig = ProposalConfig(nms_pre=2000, nms_post=2000, max_num=2000)
    rpn_sampling: SamplingConfig = SamplingConfig()
    rcnn_sampling: SamplingConfig = field(default_factory=lambda: SamplingConfig(
        num=512, pos_fraction=0.25, pos_iou=0.5, neg_iou=0.5, min_pos_iou=0.5, add_gt_as_proposals=True))

    def __post_init__(self):
        for name in ("roi_strides", "anchor_scales", "anchor_ratios", "anchor_strides",
                     "rpn_target_stds", "rcnn_target_stds", "max_size", "mean", "std"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if len(self.anchor_strides) != len(self.roi_strides) + 1:
            raise ValueError("anchor_strides needs one level more than roi_strides (P2-P6 vs P2-P5)")
        if len(self.rpn_target_stds) != 4 or len(self.rcnn_target_stds) != 4:
            raise ValueError("target stds need 4 values (dx, dy, dw, dh)")
        if len(self.max_size) != 2 or min(self.max_size) < 1 or self.pad_divisor < 1:
            raise ValueError("max_size is (long edge, short edge) >= 1; pad_divisor >= 1")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError("mean and std need 3 values (R, G, B)")
        if self.pretrained_backbone and self.backbone == "resnet":
            raise ValueError("pretrained_backbone needs a mobile backbone (mobilenetv2, efficientnet-lite0); "
                             "the paper's ResNet starts from the authors' checkpoint (longtrack convert)")

    @property
    def num_anchors(self) -> int:
        return len(self.anchor_scales) * len(self.anchor_ratios)

    @classmethod
    def paper(cls) -> "GlobalTrackConfig":
        return cls()

    @classmethod
    def fixture(cls) -> "GlobalTrackConfig":
        """shared/fixtures/official/globaltrack/case1: ResNet-50 at base width 8, FPN 32, FCs 64."""
        return cls(base_channels=8, fpn_channels=32, fc_channels=64)

    @classmethod
    def small(cls) -> "GlobalTrackConfig":
        """The CPU-sized model of ``configs/globaltrack-synth.yaml`` (a test keeps them equal)."""
        return cls(base_channels=16, frozen_stages=-1, norm_eval=False, fpn_channels=48, fc_channels=256,
                   max_size=(256, 192), test_rpn=ProposalConfig(nms_pre=500, nms_post=500, max_num=300),
                   train_rpn=ProposalConfig(nms_pre=600, nms_post=600, max_num=600),
                   rcnn_sampling=SamplingConfig(num=64, pos_fraction=0.25, pos_iou=0.5, neg_iou=0.5,
                                                min_pos_iou=0.5, add_gt_as_proposals=True))

    @classmethod
    def from_dict(cls, values: dict, source: str = "globaltrack model config") -> "GlobalTrackConfig":
        """Build from a plain mapping (YAML section or weights file); unknown keys are errors."""
        from ...typed_config import ConfigSource, parse_dataclass

        if not isinstance(values, dict):
            raise LongtrackError(f"{source}: expected a mapping, got {type(values).__name__}")
        return parse_dataclass(cls, values, ConfigSource(source))

    def to_dict(self) -> dict:
        from ...typed_config import to_plain

        return to_plain(self)

    def replace(self, **changes) -> "GlobalTrackConfig":
        return dataclasses.replace(self, **changes)
