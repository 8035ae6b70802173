"""GTELT's configuration: network sizes, input geometry, the ablation switches of the paper's
Tables 1-2, the online selection rule and the training-sequence schedule.

The paper fixes: ResNet-50 conv4 (stride 16), a 128x128 template of area 2^2 x the target, the
whole test image at 640x480, N = 10 local trackers, a memory of L = 5 online queries, theta
= 0.6 (OxUvA). Everything else here is our choice where the paper is silent; docs/methods/gtelt.md
lists each one with its reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...errors import LongtrackError

__all__ = ["GTELTConfig"]


@dataclass(frozen=True)
class GTELTConfig:
    """Defaults are the paper's configuration (``paper()``)."""

    # Backbone: ResNet conv4 (layer3, stride 16).
    backbone_depth: int = 50
    backbone_width: int = 64  # stem / stage-1 width: 64 is the standard ResNet
    backbone_frozen_stages: int = 1  # stem + layer1 frozen (mmdetection's usual fine-tuning)
    backbone_norm_eval: bool = True  # frozen BatchNorm statistics (a pretrained backbone)
    # Training with learned BatchNorm statistics (backbone_norm_eval False): "running" normalises the
    # template with the running statistics of the test frames (as a frozen BatchNorm treats both
    # inputs alike); "batch" with the template batch's own statistics. Inference always uses the
    # running ones.
    template_norm: Literal["running", "batch"] = "running"
    # Transformer.
    hidden_dim: int = 256  # c: the linear reduction's output width
    num_heads: int = 8
    encoder_layers: int = 6
    encoder_ffn_dim: int = 2048
    decoder_layers: int = 6
    decoder_ffn_dim: int = 1024
    num_points: int = 4  # deformable sampling points per head (one feature level: conv4)
    dropout: float = 0.1
    # Local trackers.
    num_trackers: int = 10  # N (Table 2: 5, 10, 20; SGT = 1)
    memory_length: int = 5  # L (Table 2: 1, 3, 5, 7, 9)
    cross_attention: Literal["deformable", "global"] = "deformable"  # "global" = EGT (Table 1)
    temporal_transfer: bool = True  # False = OSDet (Table 1): every frame from the default trackers
    # The given box starts the temporal context (ours; the paper does not say): the local tracker
    # nearest to it is activated there, and the first frame's selection knows its position. In
    # training every sequence then starts from the target's box one stride before its first test
    # frame (an extra frame of data.search_frames, not searched).
    init_activation: bool = False
    # Inputs.
    template_size: int = 128
    template_factor: float = 2.0  # template side = 2 x sqrt(w h): area 2^2 x the target
    image_size: tuple[int, int] = (640, 480)  # (width, height) the whole frame is fitted into
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # ImageNet, RGB
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    # Selection (shared by the online tracker and training's context propagation).
    presence_threshold: float = 0.6  # theta (paper, OxUvA)
    position_weight: float = 0.5  # assignment cost per image diagonal of distance to the last centre
    similarity_pool: int = 7  # RoIAlign bins pooled into the template / candidate feature
    # Training sequences: 1 template + T frames; T steps through these in equal parts of training.
    sequence_lengths: tuple[int, ...] = (1, 2, 3, 4, 5)
    max_frame_stride: int = 10  # test frames are every s-th frame, s drawn from 1..this

    def __post_init__(self):
        for name in ("image_size", "mean", "std", "sequence_lengths"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems = []
        if self.backbone_depth not in (18, 34, 50, 101):
            problems.append(f"backbone_depth must be 18, 34, 50 or 101, got {self.backbone_depth}")
        if self.hidden_dim % self.num_heads or self.hidden_dim % 4:
            problems.append(f"hidden_dim ({self.hidden_dim}) must divide by num_heads and by 4")
        if min(self.num_trackers, self.memory_length, self.decoder_layers, self.num_points) < 1:
            problems.append("num_trackers, memory_length, decoder_layers and num_points must be >= 1")
        if self.encoder_layers < 0:
            problems.append("encoder_layers must be >= 0")
        if self.template_size % 16 or any(s % 16 for s in self.image_size) or len(self.image_size) != 2:
            problems.append("template_size and image_size (width, height) must be multiples of 16")
        if not self.sequence_lengths or min(self.sequence_lengths) < 1:
            problems.append("sequence_lengths needs at least one length >= 1")
        if self.max_frame_stride < 1 or self.similarity_pool < 1:
            problems.append("max_frame_stride and similarity_pool must be >= 1")
        if not 0.0 <= self.presence_threshold <= 1.0 or self.position_weight < 0:
            problems.append("presence_threshold must lie in [0, 1] and position_weight be >= 0")
        if len(self.mean) != 3 or len(self.std) != 3:
            problems.append("mean and std need 3 values (R, G, B)")
        if problems:
            raise LongtrackError("gtelt config: " + "; ".join(problems))

    @property
    def stride(self) -> int:
        return 16

    @property
    def feature_size(self) -> tuple[int, int]:
        """``(width, height)`` of the test image's conv4 grid."""
        return self.image_size[0] // 16, self.image_size[1] // 16

    @property
    def max_sequence_length(self) -> int:
        return max(self.sequence_lengths)

    @classmethod
    def paper(cls) -> "GTELTConfig":
        return cls()

    @classmethod
    def small(cls) -> "GTELTConfig":
        """The CPU-size model of ``configs/gtelt-synth.yaml`` (a test keeps the two equal): the same
        architecture with a narrow ResNet-18 conv4 (width 16: a ResNet-50 of that width costs 2-3x
        the training time here), c = 128, 2 + 2 transformer layers, a 64-pixel template and
        320x240 frames, trained from scratch (BatchNorm statistics learned). theta = 0.3: the
        activation threshold while training too, where focal-loss scores rarely pass 0.6."""
        return cls(backbone_depth=18, backbone_width=16, backbone_frozen_stages=-1, backbone_norm_eval=False,
                   hidden_dim=128, num_heads=4, encoder_layers=2, encoder_ffn_dim=256,
                   decoder_layers=2, decoder_ffn_dim=256, dropout=0.0,
                   template_size=64, image_size=(320, 240), presence_threshold=0.3)

    @classmethod
    def from_dict(cls, values, source: str = "gtelt config") -> "GTELTConfig":
        """Build from a plain mapping (YAML, a weights file); unknown keys and wrong types are errors."""
        from ...typed_config import ConfigSource, parse_dataclass

        return parse_dataclass(cls, values, ConfigSource(source))

    def to_dict(self) -> dict:
        from ...typed_config import to_plain

        return to_plain(self)
