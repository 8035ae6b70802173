"""The authors' DMTrack "GlobalSearch" checkpoint (mmdetection 2.0 keys) -> our :class:`DMTrack`.

Our module names are the authors', so every key maps onto itself:

* ``backbone.base.*``, ``backbone.dla_up.*`` -> the same (DLA-34 trunk, deformable IDA-up);
* ``neck.lateral_convs.N.conv.*``, ``neck.fpn_convs.N.conv.*`` -> the same (mmdet FPN);
* ``template.fpn_modulator.N.*``, ``controller.controller_{cls,reg}{1,2}.*``,
  ``cond_modulator.downsampler_{cls,reg}.*``, ``bbox_head.{cls,reg}_convs.N.{conv,gn}.*``,
  ``bbox_head.fcos_{cls,reg,centerness}.*``, ``bbox_head.scales.N.scale`` -> the same;
* ``backbone.ida_up.*`` is dropped: the authors build this final IDAUp but its call is commented
  out of ``DLA.forward`` (it never affects an output; ``longtrack.backbones.key_map``).

The shapes give every width; the GlobalSearch detector has no re-id branch, so the converted
config has ``reid_dim: 0`` (the tracker then associates by motion and IoU only). GroupNorm's group
count and the inference settings are not stored in weights (defaults: the paper's; ``--set``).
"""
from __future__ import annotations

import re

from ..backbones.key_map import AUTHORS_DLA_UNUSED
from ..errors import LongtrackError
from . import load_mapped, rename_keys
from ..models.dmtrack import DMTrack, DMTrackConfig

__all__ = ["UNUSED_PREFIXES", "map_key", "infer_config", "convert"]

# Keys of the authors' checkpoint that their forward never uses.
UNUSED_PREFIXES = tuple(f"backbone.{p}" for p in AUTHORS_DLA_UNUSED)
_OUR_PREFIXES = ("backbone.base.", "backbone.dla_up.", "neck.", "template.fpn_modulator.", "controller.",
                 "cond_modulator.", "bbox_head.")


def map_key(key: str) -> str | None:
    """Our name for one of the authors' keys; ``""`` for a known-unused key; None if unknown."""
    if key.startswith(UNUSED_PREFIXES):
        return ""
    return key if key.startswith(_OUR_PREFIXES) else None


def _shape(official: dict, key: str) -> tuple[int, ...]:
    if key not in official:
        raise LongtrackError(f"not a DMTrack GlobalSearch checkpoint: key {key!r} is missing")
    return tuple(official[key].shape)


def infer_config(official: dict, overrides: dict | None = None) -> DMTrackConfig:
    """The network configuration that the checkpoint's shapes imply (plus ``overrides``)."""
    channels = [_shape(official, "backbone.base.level0.0.weight")[0], _shape(official, "backbone.base.level1.0.weight")[0]]
    channels += [_shape(official, f"backbone.base.level{i}.project.0.weight")[0] for i in range(2, 6)]
    stacked = 1 + max((int(m.group(1)) for k in official if (m := re.match(r"bbox_head\.cls_convs\.(\d+)\.", k))),
                      default=-1)
    if "controller.controller_cls1.weight" not in official:
        raise LongtrackError("not a DMTrack GlobalSearch checkpoint: no controller (dynamic conv) keys")
    values = {
        "dla_channels": channels,
        "head_channels": _shape(official, "neck.fpn_convs.0.conv.weight")[0],
        "mid_channels": _shape(official, "cond_modulator.downsampler_cls.weight")[0],
        "stacked_convs": stacked,
        "num_classes": _shape(official, "bbox_head.fcos_cls.weight")[0],
        "correlation": "dynamic",
        "reid_dim": 0,
    }
    values.update(overrides or {})
    return DMTrackConfig.from_dict(values, source="dmtrack converter")


def convert(official: dict, overrides: dict | None = None) -> tuple[dict, dict]:
    """Map every key of the authors' state dict onto a freshly built model.

    Returns ``(config as a plain dict, our state dict)``. Raises ``LongtrackError`` naming any key
    without a counterpart, any shape mismatch, and any of our tensors left unset.
    """
    config = infer_config(official, overrides)
    if config.reid_dim:
        raise LongtrackError("the authors' checkpoint has no re-id branch: reid_dim must stay 0")
    state_dict = load_mapped(DMTrack(config), rename_keys(official, map_key, UNUSED_PREFIXES))
    return config.to_dict(), state_dict
