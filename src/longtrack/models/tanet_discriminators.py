"""TANet's two discriminators (paper Tables I and II; the authors' ``App_Discriminator`` and
``Motion_Discriminator`` in ``generator.py``), used only for adversarial training.

* Appearance: the frame and its attention map as one 4-channel image -> conv 7x7/2 (96) ->
  ReLU -> LRN(2) -> max-pool 3/2 -> conv 5x5/2 (256) -> ReLU -> LRN(2) -> max-pool 3/2 ->
  conv 3x3 (256) -> ReLU -> fc (256) -> ReLU -> dropout 0.5 -> fc (1).
* Motion: three frames and their three maps (maps repeated to 3 channels) stacked along time,
  ``[B, 3, 6, H, W]`` -> the discriminator's C3D (:class:`DiscriminatorC3D`) -> conv 3x3/2 (100)
  -> ReLU -> LRN(2) -> max-pool 3/2 -> fc (256) -> ReLU -> dropout 0.5 -> fc (1).

Widths scale with ``width / 64`` (``width`` = the generator's); the fc input sizes follow from
``input_size`` (57,600 and 900 at the paper's 300x300). Both return one logit per sample.
The authors end both with a ReLU before their sigmoid, which makes every probability >= 0.5
(a fake can never be called fake with confidence); ``relu_output=True`` reproduces that, the
default returns the plain logit.
"""
from __future__ import annotations

import torch
from torch import nn

from .tanet_c3d import DiscriminatorC3D

__all__ = ["scaled", "AppearanceDiscriminator", "MotionDiscriminator"]


def scaled(channels: int, width: int) -> int:
    """A paper channel count at generator width ``width`` (paper: 64), at least 1."""
    return max(1, round(channels * width / 64))


def _head(in_features: int, hidden: int, relu_output: bool) -> tuple[nn.Sequential, nn.Sequential]:
    fc4 = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True))
    fc5 = [nn.Dropout(0.5), nn.Linear(hidden, 1)]
    if relu_output:
        fc5.append(nn.ReLU(inplace=True))
    return fc4, nn.Sequential(*fc5)


class AppearanceDiscriminator(nn.Module):
    """``forward(frame [B, 3, S, S], attention [B, 1, S, S]) -> logit [B, 1]``."""

    def __init__(self, width: int = 64, input_size: int = 300, relu_output: bool = False):
        super().__init__()
        c1, c2, hidden = scaled(96, width), scaled(256, width), scaled(256, width)
        self.conv1 = nn.Sequential(nn.Conv2d(4, c1, kernel_size=7, stride=2), nn.ReLU(inplace=True),
                                   nn.LocalResponseNorm(2), nn.MaxPool2d(kernel_size=3, stride=2))
        self.conv2 = nn.Sequential(nn.Conv2d(c1, c2, kernel_size=5, stride=2), nn.ReLU(inplace=True),
                                   nn.LocalResponseNorm(2), nn.MaxPool2d(kernel_size=3, stride=2))
        self.conv3 = nn.Sequential(nn.Conv2d(c2, c2, kernel_size=3, stride=1), nn.ReLU(inplace=True))
        with torch.no_grad():
            flat = self._features(torch.zeros(1, 4, input_size, input_size)).shape[1]
        self.fc4, self.fc5 = _head(flat, hidden, relu_output)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.conv2(self.conv1(x))).flatten(1)

    def forward(self, frame: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        return self.fc5(self.fc4(self._features(torch.cat([frame, attention], dim=1))))


class MotionDiscriminator(nn.Module):
    """``forward(clip [B, T, 3, S, S], attention [B, T, 1, S, S]) -> logit [B, 1]`` (T = 3)."""

    def __init__(self, width: int = 64, input_size: int = 300, relu_output: bool = False, frames: int = 3):
        super().__init__()
        self.motionModel = DiscriminatorC3D(width)
        c2d, hidden = scaled(100, width), scaled(256, width)
        self.conv_2D = nn.Sequential(nn.Conv2d(self.motionModel.out_channels, c2d, kernel_size=3, stride=2),
                                     nn.ReLU(inplace=True), nn.LocalResponseNorm(2),
                                     nn.MaxPool2d(kernel_size=3, stride=2))
        with torch.no_grad():
            probe = torch.zeros(1, frames, 3, input_size, input_size)
            flat = self._features(probe, probe[:, :, :1]).shape[1]
        self.fc4, self.fc5 = _head(flat, hidden, relu_output)

    def _features(self, clip: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        maps = attention.expand(-1, -1, 3, -1, -1)  # the authors' masks are 3-channel images
        stacked = torch.cat([clip, maps], dim=1).transpose(1, 2)  # [B, 3, 2T, S, S]: frames then maps
        feats = self.motionModel(stacked)
        if feats.shape[2] != 1:
            raise ValueError(f"motion discriminator: {clip.shape[1]} frames leave {feats.shape[2]} time steps")
        return self.conv_2D(feats.squeeze(2)).flatten(1)

    def forward(self, clip: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        return self.fc5(self.fc4(self._features(clip, attention)))
