"""Training methods: a name -> ``"module:build"`` registry.

``build(cfg: TrainConfig, device: torch.device) -> TrainingSetup`` makes the model, the
criterion, the dataset and the collate function of one method. A method module may define
``ModelConfig``, a frozen dataclass: the config's ``model`` section is parsed into it (unknown
keys rejected). A config's ``method`` may also be ``"package.module:build"`` for your own.
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Callable

from ...errors import LongtrackError

# Built-in methods. Each entry's module defines build() and, usually, ModelConfig.
METHODS: dict[str, str] = {
    "globaltrack": "longtrack.train.methods.globaltrack:build",
    "dmtrack": "longtrack.train.methods.dmtrack:build",
    "procontext": "longtrack.train.methods.procontext:build",
    "tanet": "longtrack.train.methods.tanet:build",
    "gtelt": "longtrack.train.methods.gtelt:build",
}


@dataclass(frozen=True)
class MethodSpec:
    name: str
    build: Callable
    model_config: type | None  # the dataclass of the config's model section


def method_names() -> list[str]:
    return sorted(METHODS)


def resolve_method(method: str) -> MethodSpec:
    """Import the method's module: a registered name or ``"module:build"``."""
    target = METHODS.get(method, method)
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise LongtrackError(f"unknown method '{method}'; registered: {', '.join(method_names()) or 'none'}"
                             " (or give your own as 'package.module:build')")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise LongtrackError(f"method '{method}': module '{module_name}' not found") from exc
        raise
    build = getattr(module, attr, None)
    if not callable(build):
        raise LongtrackError(f"method '{method}': '{module_name}' has no callable '{attr}'")
    model_config = getattr(module, "ModelConfig", None)
    if model_config is not None and not dataclasses.is_dataclass(model_config):
        raise LongtrackError(f"method '{method}': {module_name}.ModelConfig must be a dataclass")
    return MethodSpec(method, build, model_config)
