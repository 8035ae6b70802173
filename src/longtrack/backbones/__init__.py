"""CNN backbones and necks in plain PyTorch (no downloads): ResNet, FPN, DLA-34 with DCN IDA-up.

All keep the authors' state-dict key names; :mod:`.key_map` cuts the authors' detector
checkpoints into the sub-dicts these modules load. See docs/backbones.md.
"""
from .dla import DLABackbone, dla34
from .fpn import FPN
from .key_map import AUTHORS_DLA_UNUSED, RESNET_CLASSIFIER, sub_state_dict
from .resnet import ResNet, resnet18, resnet50

__all__ = ["AUTHORS_DLA_UNUSED", "DLABackbone", "FPN", "RESNET_CLASSIFIER", "ResNet", "dla34", "resnet18", "resnet50", "sub_state_dict"]
