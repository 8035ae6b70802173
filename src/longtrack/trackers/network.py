"""The network a learned tracker runs: from a weights file, or randomly initialised.

Every learned tracker builds its model the same way -- a weights file (its config builds the
model, its state fills it, strictly), or with no file a random small network with a warning
(the "untrained" row), or ``size="paper"|"small"`` for timing only -- so the rules and the
error messages live here once.
"""
from __future__ import annotations

import warnings
from typing import Callable

from torch import nn

from ..checkpoint import Weights, load_weights
from ..errors import LongtrackError

__all__ = ["build_network"]


def build_network(method: str, model_class: Callable[..., nn.Module], config_class, weights: str | None,
                  size: str | None = None, skip_prefixes: tuple[str, ...] = ()) -> tuple[nn.Module, Weights | None]:
    """``(model, loaded weights or None)``.

    ``config_class`` has ``paper()``, ``small()`` and ``from_dict(dict, source=...)``;
    ``skip_prefixes``: state keys of training-only parts (e.g. a re-id classifier) to drop.
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
    model = model_class(config_class.from_dict(loaded.model_config, source=f"{weights}: model config"))
    state = {k: v for k, v in loaded.state_dict.items() if not k.startswith(skip_prefixes)}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise LongtrackError(f"{weights}: weights do not fit the {method} model in its config "
                             f"({str(exc).splitlines()[0]})") from exc
    return model, loaded
