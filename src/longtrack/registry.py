"""Registry of trackers: name -> how to build it, its paper, its shipped weights.

Entries name their factory as ``"module:attribute"`` so that listing trackers does not import
torch or OpenCV. Each factory is called as ``factory(weights=..., device=..., **options)``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import resources

from .errors import LongtrackError


@dataclass(frozen=True)
class TrackerSpec:
    name: str
    factory: str  # "package.module:callable"
    paper: str
    default_weights: str | None = None  # file name inside the package's ``weights`` folder
    needs_weights: bool = False  # a learned tracker: its weights decide its quality
    options: dict = field(default_factory=dict)
    # weights="none" builds the network at random initialisation (an "untrained" row); False
    # for a network that exists only as its files (nanotrack's ONNX pair).
    random_init: bool = True

    def weights_path(self) -> str | None:
        """Path of the shipped default weights, or None when this tracker ships none."""
        if self.default_weights is None:
            return None
        path = resources.files("longtrack.weights").joinpath(self.default_weights)
        return str(path) if path.is_file() else None

    def build(self, weights: str | None = None, device: str = "cpu", **options):
        module_name, attr = self.factory.split(":")
        factory = getattr(importlib.import_module(module_name), attr)
        kwargs = {**self.options, **options}
        if weights is None:
            weights = self.weights_path()
        return factory(weights=weights, device=device, **kwargs)


_REGISTRY: dict[str, TrackerSpec] = {}


def register_tracker(spec: TrackerSpec) -> TrackerSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"tracker {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def tracker_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_tracker_spec(name: str) -> TrackerSpec:
    _load_builtin()
    if name in _REGISTRY:
        return _REGISTRY[name]
    wrapper, sep, inner = name.partition(":")
    if sep and f"{wrapper}:*" in _REGISTRY:  # wrappers such as tanet:<local tracker>
        base = _REGISTRY[f"{wrapper}:*"]
        get_tracker_spec(inner)  # the wrapped tracker must exist
        return TrackerSpec(name, base.factory, base.paper, base.default_weights, base.needs_weights,
                           {**base.options, "local_tracker": inner}, base.random_init)
    raise LongtrackError(f"unknown tracker {name!r}; known: {', '.join(sorted(_REGISTRY))}")


def _load_builtin() -> None:
    from .trackers import BUILTIN_TRACKERS

    for spec in BUILTIN_TRACKERS:
        if spec.name not in _REGISTRY:
            _REGISTRY[spec.name] = spec
