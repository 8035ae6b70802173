"""The random initialisation the CNN backbones share (torchvision's and the authors')."""
from __future__ import annotations

from torch import nn

__all__ = ["he_init_conv_bn"]


def he_init_conv_bn(module: nn.Module) -> None:
    """Every conv He-normal (fan-out, ReLU gain), every BatchNorm the identity (weight 1, bias 0)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
