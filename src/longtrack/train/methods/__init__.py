"""Training methods: a name -> ``"module:build"`` registry.

``build(cfg: TrainConfig, device: torch.device) -> TrainingSetup`` makes the model, the
criterion, the dataset and the collate function of one method. A method module may define
``ModelConfig``, a frozen dataclass: the config's ``model`` section is parsed into it (unknown
keys rejected). A config's ``method`` may also be ``"package.module:build"`` for your own --
which imports and calls any installed module, so a config naming one is code: it is refused
unless allowed (``longtrack train --allow-code-methods``, or ``LONGTRACK_ALLOW_CODE_METHODS=1``,
which ``torchrun`` passes to every process).
"""
from __future__ import annotations

import dataclasses
import importlib
import os
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


ALLOW_CODE_METHODS_ENV = "LONGTRACK_ALLOW_CODE_METHODS"


def method_names() -> list[str]:
    return sorted(METHODS)


def code_methods_allowed() -> bool:
    """Whether ``method: package.module:build`` may be imported (see the module docstring)."""
    return os.environ.get(ALLOW_CODE_METHODS_ENV, "").strip().lower() in ("1", "true", "yes")


def allow_code_methods() -> None:
    """Allow ``package.module:build`` methods in this process and the processes it starts."""
    os.environ[ALLOW_CODE_METHODS_ENV] = "1"


def resolve_method(method: str) -> MethodSpec:
    """Import the method's module: a registered name or ``"module:build"``."""
    target = METHODS.get(method, method)
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise LongtrackError(f"unknown method '{method}'; registered: {', '.join(method_names()) or 'none'}"
                             " (or give your own as 'package.module:build')")
    if method not in METHODS and not code_methods_allowed():
        raise LongtrackError(f"method '{method}' is not a built-in method ({', '.join(method_names())}): it would "
                             "import and run the module it names; if you trust it, pass --allow-code-methods "
                             f"(or set {ALLOW_CODE_METHODS_ENV}=1)")
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
