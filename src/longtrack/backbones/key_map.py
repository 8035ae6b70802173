"""Mapping the authors' checkpoint keys onto our backbone and neck modules.

Our modules use the authors' own key names, so a converter only has to cut a sub-dict out of
the full detector's state dict and strip its prefix:

* GlobalTrack (mmdet v1 ``ResNet`` + ``FPN``): ``backbone.*`` -> :class:`~.resnet.ResNet`,
  ``neck.*`` -> :class:`~.fpn.FPN`; every key maps, nothing is dropped.
* DMTrack (mmdet 2.0 ``DLA`` + ``FPN``): ``backbone.*`` -> :class:`~.dla.DLABackbone` except
  ``backbone.ida_up.*`` (:data:`AUTHORS_DLA_UNUSED`): the authors build a final ``IDAUp`` whose
  call is commented out of ``DLA.forward``, so those tensors never affect the output;
  ``neck.*`` -> :class:`~.fpn.FPN`.
* TANet (torchvision-style ``ResNet`` as ``encoder.*``): -> :class:`~.resnet.ResNet` except the
  ImageNet classifier ``encoder.fc.*`` (:data:`RESNET_CLASSIFIER`), which its forward never uses.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

# Key prefixes (after removing "backbone.") of tensors the authors' DLA holds but never uses.
AUTHORS_DLA_UNUSED: tuple[str, ...] = ("ida_up.",)
# The classifier of a torchvision-style ResNet checkpoint; our ResNet is a feature extractor.
RESNET_CLASSIFIER: tuple[str, ...] = ("fc.",)


def sub_state_dict(
    state_dict: Mapping[str, torch.Tensor], prefix: str, drop: Sequence[str] = ()
) -> dict[str, torch.Tensor]:
    """The entries whose key starts with ``prefix``, with it removed; keys that then start
    with any of ``drop`` are left out. ``prefix`` usually ends with a dot (``"backbone."``)."""
    out = {}
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            continue
        short = key[len(prefix):]
        if not any(short.startswith(d) for d in drop):
            out[short] = value
    return out
