"""The authors' GlobalTrack checkpoint (mmdetection v1 ``QG_RCNN``) -> our :class:`GlobalTrack`.

Our modules carry the authors' key names, so every key maps to itself:

* ``backbone.*`` (mmdet ``ResNet``: ``conv1``, ``bn1``, ``layerN.M.conv1..3|bn1..3|downsample.0|1``),
* ``neck.*`` (``lateral_convs.N.conv``, ``fpn_convs.N.conv``),
* ``rpn_head.rpn_conv|rpn_cls|rpn_reg``, ``bbox_head.shared_fcs.N|fc_cls|fc_reg``,
* ``rpn_modulator.proj_modulator.N|proj_out.N``, ``rcnn_modulator.proj_z|proj_x|proj_out``.

A ``module.`` prefix (a checkpoint saved from a DataParallel wrapper) is removed. The depth, widths,
RoI size and number of pyramid levels come from the shapes; anchor and input settings are the
paper's unless overridden (``--set max_size=[640,480]``). An unknown key, a missing tensor or a
shape that does not fit is an error.
"""
from __future__ import annotations

import re

import torch

from ..errors import LongtrackError
from ..models.globaltrack import GlobalTrack, GlobalTrackConfig

__all__ = ["infer_config", "convert"]

_DEPTHS = {(3, 4, 6, 3): 50, (3, 4, 23, 3): 101}  # Bottleneck blocks per stage -> depth


def _shape(official: dict, key: str) -> tuple[int, ...]:
    if key not in official:
        raise LongtrackError(f"not a GlobalTrack (QG_RCNN) checkpoint: key {key!r} is missing")
    return tuple(official[key].shape)


def _depth(official: dict) -> int:
    blocks = []
    for stage in range(1, 5):
        indices = {int(m.group(1)) for k in official if (m := re.match(rf"backbone\.layer{stage}\.(\d+)\.", k))}
        blocks.append(len(indices))
    if tuple(blocks) not in _DEPTHS or "backbone.layer1.0.conv3.weight" not in official:
        raise LongtrackError(f"unsupported ResNet in the checkpoint: blocks per stage {blocks} "
                             "(GlobalTrack uses a Bottleneck ResNet-50 or -101)")
    return _DEPTHS[tuple(blocks)]


def infer_config(official: dict, overrides: dict | None = None) -> GlobalTrackConfig:
    """The network configuration that the checkpoint's shapes imply (plus ``overrides``)."""
    num_levels = len({k.split(".")[2] for k in official if k.startswith("rpn_modulator.proj_modulator.")})
    if num_levels == 0:
        raise LongtrackError("not a GlobalTrack (QG_RCNN) checkpoint: no rpn_modulator.proj_modulator.* keys")
    values = {
        "depth": _depth(official),
        "base_channels": _shape(official, "backbone.conv1.weight")[0],
        "fpn_channels": _shape(official, "neck.lateral_convs.0.conv.weight")[0],
        "fc_channels": _shape(official, "bbox_head.shared_fcs.0.weight")[0],
        "roi_size": _shape(official, "rpn_modulator.proj_modulator.0.weight")[-1],
    }
    default = GlobalTrackConfig()
    if num_levels != len(default.anchor_strides):
        raise LongtrackError(f"checkpoint modulates {num_levels} pyramid levels; GlobalTrack uses "
                             f"{len(default.anchor_strides)} (P2-P6)")
    values.update(overrides or {})
    config = GlobalTrackConfig.from_dict(values, source="globaltrack checkpoint config (--set)")
    num_anchors = _shape(official, "rpn_head.rpn_cls.weight")[0]
    if num_anchors != config.num_anchors:
        raise LongtrackError(f"the checkpoint's RPN predicts {num_anchors} anchors per cell, the config "
                             f"{config.num_anchors}: set anchor_scales / anchor_ratios")
    return config


def convert(official: dict[str, torch.Tensor], overrides: dict | None = None) -> tuple[dict, dict]:
    """Authors' state dict -> ``(model config dict, our state dict)``; every key is checked."""
    official = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in official.items()}
    config = infer_config(official, overrides)
    expected = GlobalTrack(config).state_dict()
    unknown = sorted(set(official) - set(expected))
    if unknown:
        raise LongtrackError(f"{len(unknown)} checkpoint key(s) have no place in GlobalTrack, e.g. {unknown[0]!r}")
    missing = sorted(set(expected) - set(official))
    if missing:
        raise LongtrackError(f"the checkpoint lacks {len(missing)} tensor(s) of GlobalTrack, e.g. {missing[0]!r}")
    for key, value in official.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise LongtrackError(f"{key}: shape {tuple(value.shape)} in the checkpoint, "
                                 f"{tuple(expected[key].shape)} in GlobalTrack at the inferred config")
    state = {k: official[k].detach().clone().to(expected[k].dtype) for k in expected}
    return config.to_dict(), state
