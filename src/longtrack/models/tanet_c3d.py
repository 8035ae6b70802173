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

Speed (same function, same weights): PyTorch's CPU ``conv3d`` is several times slower than
``conv2d``. A 3x3x3 convolution with temporal padding 1 over a single time step only ever
meets its kernel's middle temporal slice, so it runs as a 2-D convolution with that slice;
over a few time steps with few input channels, the three neighbouring frames are stacked as
channels of one 2-D convolution. Both agree with ``conv3d`` to float rounding
(tests/models/test_tanet_parts.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["c3d_widths", "conv3d_k3", "MotionC3D", "DiscriminatorC3D"]

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
        return self.relu(conv3d_k3(getattr(self, name), x))


# Below this many input channels, stacking time into channels beats conv3d on the CPU.
_STACK_BELOW_CHANNELS = 32


def conv3d_k3(conv: nn.Conv3d, x: torch.Tensor) -> torch.Tensor:
    """``conv(x)`` for a 3x3x3, padding-1, stride-1 ``Conv3d``, computed with ``conv2d``.

    ``x``: ``[B, C, T, H, W]`` -> ``[B, O, T, H, W]``.
    """
    batch, channels, steps, height, width = x.shape
    weight = conv.weight
    if steps == 1:  # the zero temporal padding meets the outer kernel slices only
        return F.conv2d(x[:, :, 0], weight[:, :, 1], conv.bias, padding=1).unsqueeze(2)
    if channels >= _STACK_BELOW_CHANNELS or x.device.type != "cpu":
        return conv(x)
    padded = F.pad(x, (0, 0, 0, 0, 1, 1))
    # [B, C, 3 (kernel time), T, H, W] -> [B*T, C*3, H, W]: channel c*3 + dt = frame t+dt-1, channel c
    stacked = torch.stack([padded[:, :, dt:dt + steps] for dt in range(3)], dim=2)
    stacked = stacked.permute(0, 3, 1, 2, 4, 5).reshape(batch * steps, channels * 3, height, width)
    out = F.conv2d(stacked, weight.reshape(weight.shape[0], channels * 3, 3, 3), conv.bias, padding=1)
    return out.reshape(batch, steps, -1, height, width).transpose(1, 2)


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
