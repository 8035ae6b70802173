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


def get_converter(method: str):
    """The converter function registered for ``method``."""
    if method not in CONVERTERS:
        raise LongtrackError(f"no converter for method {method!r}; known: {', '.join(sorted(CONVERTERS))}")
    module_name, attr = CONVERTERS[method].split(":")
    return getattr(importlib.import_module(module_name), attr)


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
