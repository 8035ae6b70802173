"""The network a learned tracker runs: from a weights file, or randomly initialised.

Every learned tracker builds its model the same way -- a weights file (its config builds the
model, its state fills it, strictly: training writes the inference state only, so no key is
skipped), or with no file a random small network with a warning (the "untrained" row), or
``size="paper"|"small"`` for timing only -- so the rules and the error messages live here once.
"""
from __future__ import annotations

import warnings
from typing import Callable

from torch import nn

from ..checkpoint import Weights, load_weights
from ..errors import LongtrackError

__all__ = ["build_network"]

SHOWN_KEYS = 3  # keys named in a "do not fit" error


def build_network(method: str, model_class: Callable[..., nn.Module], config_class, weights: str | None,
                  size: str | None = None, part: str | None = None) -> tuple[nn.Module, Weights | None]:
    """``(model, loaded weights or None)``.

    ``config_class`` has ``paper()``, ``small()`` and ``from_dict(dict, source=...)``;
    ``part``: the network is that named part of the file's model (TANet's ``generator``): its
    config is ``model.<part>`` and its state the keys under ``<part>.``, every key of the file.
    """
    if size is not None:
        presets = {"paper": config_class.paper, "small": config_class.small}
        if size not in presets:
            raise LongtrackError(f"{method}: size must be one of {', '.join(presets)}, got {size!r}")
        warnings.warn(f"{method}: size={size!r} builds a randomly initialised network (for timing); "
                      "its predictions are meaningless", stacklevel=3)
        return model_class(presets[size]()), None
    if weights is None:
        warnings.warn(f"{method}: no weights file available; using a randomly initialised small network "
                      f"whose predictions are meaningless (pass --weights, or train one with "
                      f"`longtrack train configs/{method}-synth.yaml`)", stacklevel=3)
        return model_class(config_class.small()), None
    loaded = load_weights(weights, method=method)
    model_config, state, prefix = loaded.model_config, loaded.state_dict, ""
    if part is not None:
        model_config, prefix = model_config.get(part) or {}, f"{part}."
    source = f"{weights}: model config" + (f" {part}" if part else "")
    model = model_class(config_class.from_dict(model_config, source=source))
    expected = {prefix + k for k in model.state_dict()}
    unexpected, missing = sorted(set(state) - expected), sorted(expected - set(state))
    if unexpected or missing:
        raise LongtrackError(f"{weights}: weights do not fit the {method} model in its config "
                             f"({_keys('missing', missing)}{'; ' if missing and unexpected else ''}"
                             f"{_keys('unexpected', unexpected)})")
    try:
        model.load_state_dict({k[len(prefix):]: v for k, v in state.items()}, strict=True)
    except RuntimeError as exc:  # same keys, other shapes
        lines = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
        raise LongtrackError(f"{weights}: weights do not fit the {method} model in its config "
                             f"({(lines or [str(exc)])[0][:300]})") from exc
    return model, loaded


def _keys(label: str, keys: list[str]) -> str:
    if not keys:
        return ""
    more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    return f"{len(keys)} {label} key(s): {', '.join(keys[:SHOWN_KEYS])}{more}"
