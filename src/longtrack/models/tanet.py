"""TANet's target-aware attention generator (Wang et al., "Tracking by Joint Local and Global
Search: A Target-aware Attention based Approach", TNNLS; the authors' ``ca2_Generator``).

Inputs are the current frame, the first-frame target patch (both resized to the input square)
and a short clip of frames; all BGR in [0, 1] without mean/std normalisation, as the authors'
``ToTensor`` of ``cv2.imread`` images. The network:

1. one ResNet-18 (shared weights, called separately on the frame and on the target) returns
   layer2, layer3, layer4 (strides 8, 16, 32);
2. ``fused_k = cat(frame_k, target_k)`` per level (frame first);
3. a C3D over the clip ``[B, 3, T, H, W]`` gives motion features ``[B, 8w, H', W']``;
4. level 2, level 4 and the motion features are brought to level 3's grid with *nearest*
   interpolation (PyTorch's legacy ``mode="nearest"``), then
   ``cat(fused_2, fused_3, fused_4, motion)``: 2*(2w + 4w + 8w) + 8w = 36w channels (2304 at w=64);
5. an affine decoder of 3x3 transposed convolutions (no activation between them) with four x2
   nearest upsamplings (the authors' ``cfg['D']``), a 1x1 transposed conv to one channel, a
   sigmoid and a nearest resize to ``output_size`` (the authors hard-code 300x300).

``width`` scales every channel count (ResNet base, C3D, decoder): 64 is the paper's model,
8 the ``width/8`` model of the official fixture. The unused classifiers of the authors' model
(ResNet ``fc``, C3D ``fc6..fc8``) are not built.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..backbones.resnet import ResNet
from ..errors import LongtrackError
from ..typed_config import ConfigSource, parse_dataclass, to_plain
from .tanet_c3d import MotionC3D

__all__ = ["TANetConfig", "TANetGenerator", "decoder_plan", "batch_statistics"]

UPSAMPLE = "U"


def decoder_plan(width: int) -> tuple[int | str, ...]:
    """The authors' ``cfg['D']`` scaled to ``width``: channels of each transposed conv, 'U' =
    x2 nearest upsampling (width 64: 512,512,512,U,512,512,512,U,256,256,256,U,128,128,U,64,64)."""
    m = (8, 8, 8, UPSAMPLE, 8, 8, 8, UPSAMPLE, 4, 4, 4, UPSAMPLE, 2, 2, UPSAMPLE, 1, 1)
    return tuple(v if v == UPSAMPLE else v * width for v in m)


@dataclass(frozen=True)
class TANetConfig:
    """Generator geometry and how its inputs are made. Defaults: the paper's model as the
    authors' ``test_got10k.py`` runs it, except ``clip`` and ``test_bn`` (see below)."""

    width: int = 64  # ResNet base width; the paper's ResNet-18 has 64
    input_size: int = 300  # frames and target patch are resized to input_size x input_size
    output_size: int = 300  # the attention map's side (authors: hard-coded 300)
    clip_len: int = 3  # frames in the motion clip (2 or 3: C3D must end with one time step)
    # "causal": clip = frames t-T+1 .. t (online use); "centered": t-1, t, t+1 (the authors'
    # test script; online, the missing future frame is replaced by the current one).
    clip: Literal["causal", "centered"] = "causal"
    # BatchNorm at inference: "running" statistics (eval mode) or the statistics of each call
    # ("batch": the authors' test script never calls .eval(); their released weights expect it).
    test_bn: Literal["running", "batch"] = "running"

    def __post_init__(self):
        if self.width < 1 or self.input_size < 32 or self.output_size < 1:
            raise LongtrackError(f"tanet config: width >= 1, input_size >= 32 and output_size >= 1 "
                                 f"needed, got {self.width}, {self.input_size}, {self.output_size}")
        if self.clip_len not in (2, 3):
            raise LongtrackError(f"tanet config: clip_len must be 2 or 3 (C3D's time axis), got {self.clip_len}")
        if self.clip == "centered" and self.clip_len != 3:
            raise LongtrackError("tanet config: a centered clip has 3 frames (t-1, t, t+1)")

    @property
    def decoder_in_channels(self) -> int:
        return 36 * self.width  # the authors' 1792 + 512 at width 64

    def clip_offsets(self) -> tuple[int, ...]:
        """Frame offsets from the current frame t that make its clip, oldest first."""
        if self.clip == "centered":
            return (-1, 0, 1)
        return tuple(range(-(self.clip_len - 1), 1))

    @classmethod
    def paper(cls) -> "TANetConfig":
        return cls()

    @classmethod
    def small(cls) -> "TANetConfig":
        """The CPU-sized generator of ``configs/tanet-synth.yaml`` (a test keeps them equal)."""
        return cls(width=8, input_size=128, output_size=128)

    @classmethod
    def from_dict(cls, values: dict, source: str = "tanet config") -> "TANetConfig":
        """Build from a plain mapping (YAML or weights file); unknown keys and wrong types are errors."""
        if not isinstance(values, dict):
            raise LongtrackError(f"{source}: expected a mapping, got {type(values).__name__}")
        return parse_dataclass(cls, values, ConfigSource(source))

    def to_dict(self) -> dict:
        return to_plain(self)


def _decoder(in_channels: int, plan) -> nn.Sequential:
    layers: list[nn.Module] = []
    for v in plan:
        if v == UPSAMPLE:
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        else:
            layers.append(nn.ConvTranspose2d(in_channels, v, kernel_size=3, stride=1, padding=1))
            in_channels = v
    return nn.Sequential(*layers)


class TANetGenerator(nn.Module):
    """``forward(frame, target, clip) -> dict``.

    Args:
        frame: ``[B, 3, S, S]`` the current frame; target: ``[B, 3, S, S]`` the first-frame target
            patch; clip: ``[B, T, 3, S, S]`` frames in time order (``S = input_size``); BGR, [0, 1].

    Returns:
        ``attention`` ``[B, 1, O, O]`` in (0, 1) (``O = output_size``); ``attention_logits`` the
        same before the sigmoid (for a stable BCE); ``logits`` ``[B, 1, 16g, 16g]`` the decoder's
        output before the resize (``g`` = layer3's grid); ``decoder_input`` ``[B, 36w, g, g]``;
        ``motion`` ``[B, 8w, 1, g', g']`` (C3D output); ``frame_features`` / ``target_features``:
        the ResNet's (layer2, layer3, layer4).
    """

    def __init__(self, config: TANetConfig | None = None):
        super().__init__()
        self.config = config = config or TANetConfig()
        w = config.width
        # torchvision-style ResNet-18 with BN in training mode when training (as the authors).
        self.encoder = ResNet(18, base_channels=w, out_indices=(1, 2, 3), norm_eval=False,
                              zero_init_residual=False)
        self.motion = MotionC3D(w)
        plan = decoder_plan(w)
        self.decoder = _decoder(config.decoder_in_channels, plan)
        self.head = nn.ConvTranspose2d(plan[-1], 1, kernel_size=1, padding=0)

    def forward(self, frame: torch.Tensor, target: torch.Tensor, clip: torch.Tensor) -> dict:
        if clip.dim() != 5 or clip.shape[2] != 3:
            raise LongtrackError(f"tanet: clip must be [B, T, 3, H, W], got {tuple(clip.shape)}")
        frame_feats = self.encoder(frame)
        target_feats = self.encoder(target)
        motion = self.motion(clip.transpose(1, 2))
        if motion.shape[2] != 1:
            raise LongtrackError(f"tanet: a {clip.shape[1]}-frame clip leaves {motion.shape[2]} time steps; "
                                 "C3D needs 2 or 3 frames")
        fused = [torch.cat([f, t], dim=1) for f, t in zip(frame_feats, target_feats)]
        grid = fused[1].shape[-2:]
        parts = [F.interpolate(fused[0], size=grid), fused[1], F.interpolate(fused[2], size=grid),
                 F.interpolate(motion.squeeze(2), size=grid)]
        decoder_input = torch.cat(parts, dim=1)
        logits = self.head(self.decoder(decoder_input))
        size = self.config.output_size
        # Nearest resizing picks pixels, so it commutes with the sigmoid: the authors'
        # resize(sigmoid(x)) equals sigmoid(resize(x)) exactly.
        attention_logits = F.interpolate(logits, size=(size, size))
        return {"attention": torch.sigmoid(attention_logits), "attention_logits": attention_logits,
                "logits": logits, "decoder_input": decoder_input, "motion": motion,
                "frame_features": frame_feats, "target_features": target_feats}


@contextlib.contextmanager
def batch_statistics(module: nn.Module):
    """Run ``module``'s BatchNorms on each call's own statistics (the authors' test script runs
    the generator without ``.eval()``) without changing their running statistics."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.training, m.momentum) for m in norms]
    try:
        for m in norms:
            m.train(True)
            m.momentum = 0.0  # running = (1 - 0) * running + 0 * batch: unchanged
        yield module
    finally:
        for m, (training, momentum) in zip(norms, saved):
            m.train(training)
            m.momentum = momentum
