"""Where a learned tracker's online option comes from: the caller, else the weights, else a default.

Online settings tuned for one set of weights (a presence threshold chosen on a val split by
``longtrack tune-presence --write``, DMTrack's thresholds by ``longtrack calibrate dmtrack``,
TANet's attention threshold by ``longtrack calibrate tanet --write``) travel in the
weights file's config, ``tracker`` section; every tracker reads them through this one rule.
"""
from __future__ import annotations

from typing import Any

from ..checkpoint import Weights

__all__ = ["resolve_option"]


def resolve_option(name: str, explicit: Any, loaded: Weights | None, default: Any) -> Any:
    """``explicit`` when given (not None), else ``loaded``'s ``tracker.<name>`` when the file
    has one (not None), else ``default``."""
    if explicit is not None:
        return explicit
    if loaded is not None:
        tuned = loaded.tracker_config().get(name)
        if tuned is not None:
            return tuned
    return default
