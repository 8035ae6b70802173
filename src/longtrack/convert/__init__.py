"""Converters from the authors' published checkpoints to longtrack weights.

Each entry maps a method name to ``"module:attribute"`` of a function
``convert(official: dict[str, Tensor], overrides: dict) -> (config: dict, state_dict: dict)``:
``official`` is the authors' state dict (already unwrapped from e.g. ``{"net": ...}``),
``overrides`` are config values the checkpoint's shapes cannot tell (``--set KEY=VALUE``).
A converter maps every key or raises ``LongtrackError``; it never leaves a parameter unset.
"""
from __future__ import annotations

import importlib

import torch

from ..errors import LongtrackError

CONVERTERS: dict[str, str] = {
    "globaltrack": "longtrack.convert.globaltrack:convert",
    "procontext": "longtrack.convert.procontext:convert",
    "tanet": "longtrack.convert.tanet:convert",
    "dmtrack": "longtrack.convert.dmtrack:convert",
}

# Online settings a converted file carries in its config's ``tracker`` section, so that the
# authors' weights track as the authors' tracker does (ProContEXT: their sample_target crops).
CONVERTED_TRACKER_CONFIG: dict[str, dict] = {
    "procontext": {"crop": "authors"},
}


def get_converter(method: str):
    """The converter function registered for ``method``."""
    if method not in CONVERTERS:
        raise LongtrackError(f"no converter for method {method!r}; known: {', '.join(sorted(CONVERTERS))}")
    module_name, attr = CONVERTERS[method].split(":")
    return getattr(importlib.import_module(module_name), attr)


def rename_keys(official: dict, map_key, unused_prefixes: tuple[str, ...] = ()) -> dict:
    """The authors' tensors under our names (``map_key(key)``), without the documented unused ones
    (``unused_prefixes``). An error names the keys that have no counterpart."""
    unknown = sorted(k for k in official if not k.startswith(unused_prefixes) and not map_key(k))
    if unknown:
        raise LongtrackError(f"{len(unknown)} checkpoint key(s) have no counterpart: {', '.join(unknown[:8])}")
    return {map_key(k): v for k, v in official.items() if not k.startswith(unused_prefixes)}


def load_mapped(model: torch.nn.Module, mapped: dict) -> dict:
    """Load tensors already under our names into ``model`` and return its state dict. Every shape must
    match and every tensor of ours must be set: a converter never leaves a parameter at random."""
    ours = model.state_dict()
    bad = [f"{k} {tuple(v.shape)} vs ours {tuple(ours[k].shape)}"
           for k, v in mapped.items() if k in ours and tuple(v.shape) != tuple(ours[k].shape)]
    if bad:
        raise LongtrackError(f"shape mismatch: {'; '.join(bad[:4])}")
    missing, extra = sorted(set(ours) - set(mapped)), sorted(set(mapped) - set(ours))
    if missing or extra:
        raise LongtrackError(f"checkpoint does not cover the model: missing {missing[:8]}, extra {extra[:8]}")
    model.load_state_dict({k: v.to(ours[k].dtype) if v.is_floating_point() else v for k, v in mapped.items()},
                          strict=True)
    return model.state_dict()


def unwrap_official(obj) -> dict:
    """The state dict inside an authors' file: the file itself, or its ``net``/``model``/``state_dict``
    entry (the pytracking/OSTrack trainers save ``{"net": state_dict, ...}``)."""
    if isinstance(obj, dict):
        for key in ("net", "model", "state_dict"):
            if isinstance(obj.get(key), dict):
                return obj[key]
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise LongtrackError("the file holds no state dict (expected tensors, or a 'net'/'model'/'state_dict' entry)")
