"""The authors' TANet generator checkpoint (``ca2_Generator.state_dict()``, saved by their
``train.py`` as ``TANet_model.pkl``) -> our :class:`TANetGenerator`.

Their keys and ours:

* ``encoder.*`` (torchvision-style ResNet-18) -> ``encoder.*`` (same names); ``encoder.fc.*``
  (ImageNet classifier) is dropped: their forward never uses it;
* ``motionModel.conv{1,2,3a,3b,4a,4b,5a,5b}.*`` -> ``motion.*``; ``motionModel.fc6/fc7/fc8.*``
  are dropped: ``C3D.forward`` returns before them;
* ``decoder.N.*`` -> ``decoder.N.*`` (the same Sequential indices, 'U' layers hold no weights);
* ``mymodules.0.*`` (the 1x1 transposed conv before the sigmoid) -> ``head.*``.

The width comes from the shapes. What weights cannot tell is set to the authors' test script:
300x300 input and output, the centered clip (t-1, t, t+1) and BatchNorm on each call's own
statistics (``test_bn: batch``); ``--set`` overrides any of them.
"""
from __future__ import annotations

import re

from ..errors import LongtrackError
from . import load_mapped, rename_keys
from ..models.tanet import TANetConfig, TANetGenerator

__all__ = ["UNUSED_PREFIXES", "map_key", "infer_config", "convert"]

# Tensors the authors' model holds but its forward never reads.
UNUSED_PREFIXES = ("encoder.fc.", "motionModel.fc6.", "motionModel.fc7.", "motionModel.fc8.")
# The authors' inference settings (test_got10k.py).
AUTHORS_INFERENCE = {"input_size": 300, "output_size": 300, "clip_len": 3, "clip": "centered", "test_bn": "batch"}

_C3D = re.compile(r"motionModel\.(conv(?:1|2|3a|3b|4a|4b|5a|5b)\.(?:weight|bias))")
_DECODER = re.compile(r"decoder\.(\d+)\.(weight|bias)")
_HEAD = re.compile(r"mymodules\.0\.(weight|bias)")
_ENCODER = re.compile(r"encoder\.((?:conv1|bn1|layer[1-4]\.\d+\.(?:conv[12]|bn[12]|downsample\.[01]))"
                      r"\.(?:weight|bias|running_mean|running_var|num_batches_tracked))")


def map_key(key: str) -> str | None:
    """Our name for one of the authors' keys; None when it has no counterpart (unused or foreign)."""
    if key.startswith(UNUSED_PREFIXES):
        return None
    for pattern, template in ((_ENCODER, "encoder.{}"), (_C3D, "motion.{}")):
        m = pattern.fullmatch(key)
        if m:
            return template.format(m.group(1))
    m = _DECODER.fullmatch(key)
    if m:
        return f"decoder.{m.group(1)}.{m.group(2)}"
    m = _HEAD.fullmatch(key)
    return f"head.{m.group(1)}" if m else None


def infer_config(official: dict, overrides: dict | None = None) -> TANetConfig:
    """The generator configuration the checkpoint's shapes imply, plus ``overrides``."""
    key = "encoder.conv1.weight"
    if key not in official:
        raise LongtrackError(f"not a TANet generator checkpoint: key {key!r} is missing")
    values = {"width": int(official[key].shape[0]), **AUTHORS_INFERENCE}
    values.update(overrides or {})
    return TANetConfig.from_dict(values, source="tanet converter")


def convert(official: dict, overrides: dict | None = None) -> tuple[dict, dict]:
    """Map every used key of the authors' state dict onto a freshly built generator.

    Returns ``({"generator": config}, state dict)`` with our keys under ``generator.`` (the
    layout of every TANet weights file, as the training run's ``TANetGAN`` writes it). Raises ``LongtrackError`` naming keys
    without a counterpart (other than the documented unused classifiers), shape mismatches and
    any of our tensors left unset.
    """
    config = infer_config(official, overrides)
    state_dict = load_mapped(TANetGenerator(config), rename_keys(official, map_key, UNUSED_PREFIXES))
    return {"generator": config.to_dict()}, {f"generator.{k}": v for k, v in state_dict.items()}
