"""CNN backbones and necks in plain PyTorch (no downloads): ResNet, FPN, DLA-34 with DCN IDA-up.

The DLA module needs :mod:`longtrack.ops.deform_conv`; it is imported lazily by name so that
``from longtrack.backbones import ResNet`` does not pull it in.
"""
from .fpn import FPN
from .key_map import AUTHORS_DLA_UNUSED, sub_state_dict
from .resnet import ResNet, resnet18, resnet50

__all__ = ["FPN", "ResNet", "resnet18", "resnet50", "sub_state_dict", "AUTHORS_DLA_UNUSED"]
