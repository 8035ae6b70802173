"""The two C3D stacks of TANet (Wang et al., TNNLS): the generator's motion branch and the
motion discriminator's feature extractor.

Both are C3D (Tran et al. 2015) convolutions: eight 3x3x3 ``Conv3d`` (padding 1, with bias),
each followed by ReLU, named ``conv1, conv2, conv3a, conv3b, conv4a, conv4b, conv5a, conv5b``
as in the authors' ``C3D`` / ``Dis_C3D`` (so their state-dict keys load unchanged). They differ
only in pooling, exactly as the authors' forward passes run them:

* generator (``C3D``): pool1 (1,2,2), pool2 (2,2,2); pool3 and pool4 are *not* applied;
  pool5 = MaxPool3d(2, 2, padding 1). A 2- or 3-frame clip ends with one time step.
* discriminator (``Dis_C3D``): pool1 (1,2,2), pool2 (2,2,2), pool3 (2,2,2), pool4 = kernel
  (1,2,2) with stride (2,2,2); no pool5. A 6-frame clip ends with one time step.

The authors also build ``fc6``/``fc7``/``fc8`` (the Sports-1M classifier) in both, but return
before using them; we do not build them (the converter drops their keys).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["c3d_widths", "MotionC3D", "DiscriminatorC3D"]

_NAMES = ("conv1", "conv2", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a", "conv5b")


def c3d_widths(width: int) -> tuple[int, ...]:
    """Output channels of conv1..conv5b for base ``width`` (paper: 64 -> 64,128,256,256,512 x4)."""
    return tuple(width * m for m in (1, 2, 4, 4, 8, 8, 8, 8))


class _C3DConvs(nn.Module):
    """The eight named Conv3d layers; subclasses decide where to pool."""

    def __init__(self, width: int, in_channels: int = 3):
        super().__init__()
        channels = (in_channels, *c3d_widths(width))
        for name, cin, cout in zip(_NAMES, channels[:-1], channels[1:]):
            self.add_module(name, nn.Conv3d(cin, cout, kernel_size=3, padding=1))
        self.relu = nn.ReLU()
        self.out_channels = channels[-1]

    def conv(self, name: str, x: torch.Tensor) -> torch.Tensor:
        return self.relu(getattr(self, name)(x))


class MotionC3D(_C3DConvs):
    """Generator motion branch: ``[B, 3, T, H, W]`` (T = 2 or 3) -> ``[B, 8w, 1, H', W']`` with
    ``H' = floor(floor(floor(H/2)/2)/2) + 1`` (75 -> 38 at 300x300)."""

    def __init__(self, width: int):
        super().__init__(width)
        self.pool1 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
        self.pool2 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.pool5 = nn.MaxPool3d(kernel_size=2, stride=2, padding=1)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        h = self.pool1(self.conv("conv1", clip))
        h = self.pool2(self.conv("conv2", h))
        for name in _NAMES[2:]:  # the authors commented out pool3 and pool4
            h = self.conv(name, h)
        return self.pool5(h)


class DiscriminatorC3D(_C3DConvs):
    """Motion-discriminator features: ``[B, 3, 6, H, W]`` -> ``[B, 8w, 1, H', W']``
    (300 -> 18 spatially)."""

    def __init__(self, width: int):
        super().__init__(width)
        self.pool1 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
        self.pool2 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.pool3 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.pool4 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=2)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        h = self.pool1(self.conv("conv1", clip))
        h = self.pool2(self.conv("conv2", h))
        h = self.pool3(self.conv("conv3b", self.conv("conv3a", h)))
        h = self.pool4(self.conv("conv4b", self.conv("conv4a", h)))
        return self.conv("conv5b", self.conv("conv5a", h))
