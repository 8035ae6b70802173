"""Checkpoints: training state to resume from, and the small weights files trackers load.

Both are ``torch.save`` files of plain containers (dicts, lists, numbers, strings, tensors),
so they load with ``torch.load(weights_only=True)`` -- nothing in them can run code.
Every file carries a ``format`` marker, the config that made it and its provenance.

* ``save_checkpoint`` / ``load_checkpoint``: model, optimizer, scheduler, grad-scaler and RNG
  states, the step and the data position; written atomically (a temporary file, then
  ``os.replace``), so an interrupted save never leaves a half-written checkpoint.
* ``save_weights`` / ``load_weights``: config + the network's inference state only (+ the
  online settings tuned for it, in the config's ``tracker`` section), the files shipped in
  ``longtrack/weights``, written as a run's ``weights.pt`` and passed to ``--weights``.
  ``load_weights`` also reads a training checkpoint (which holds training-only parts too).
"""
from __future__ import annotations

import datetime
import os
import pickle
import shlex
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .errors import LongtrackError
from .fileio import atomic_path
from .git_state import git_commit

__all__ = ["FORMAT", "Weights", "provenance", "save_checkpoint", "load_checkpoint", "save_weights",
           "load_weights"]

FORMAT = "longtrack-checkpoint"
FORMAT_VERSION = 1
TRAINING = "training"
WEIGHTS = "weights"


@dataclass(frozen=True)
class Weights:
    """What a tracker needs from a weights or checkpoint file."""

    method: str
    config: dict  # the full training config (``config["model"]`` builds the model)
    state_dict: dict[str, torch.Tensor]
    provenance: dict = field(default_factory=dict)
    step: int | None = None
    path: str | None = None  # the file it was read from (names it in errors)

    @property
    def model_config(self) -> dict:
        return dict(self.config.get("model") or {})

    def tracker_config(self, source: str | None = None) -> dict:
        """Online settings tuned for these weights (e.g. a presence threshold chosen on a val
        split), from the config's ``tracker`` section; empty when there is none. ``source``
        names the file in the error a malformed section raises (default: ``path``)."""
        section = self.config.get("tracker") or {}
        if not isinstance(section, dict):
            raise LongtrackError(f"{source or self.path or 'weights'}: the config's tracker section must be a mapping")
        return dict(section)


def provenance() -> dict[str, Any]:
    """Where a file came from: longtrack and torch versions, git commit, time, command line."""
    from . import __version__

    return {
        "longtrack_version": __version__,
        "torch_version": str(torch.__version__),  # TorchVersion does not load weights-only
        "git_commit": git_commit(),
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
    }


def _save(obj: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
        with open(tmp, "rb") as fh:  # the data is on disk before the rename makes it visible
            os.fsync(fh.fileno())
    return path


def save_checkpoint(path: str | os.PathLike, *, method: str, config: dict, model: dict,
                    step: int, optimizer: dict | None = None, scheduler: dict | None = None,
                    scaler: dict | None = None, rng: Any = None, data: dict | None = None,
                    extra: dict | None = None) -> Path:
    """Write a training checkpoint atomically. All state arguments are ``state_dict()``s.

    ``rng`` holds the random states (see ``longtrack.train.seeding``); ``data`` the sampler
    position. Values must be plain containers, numbers, strings and tensors.
    """
    return _save({
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": TRAINING,
        "method": method, "config": config, "provenance": provenance(), "step": int(step),
        "model": model, "optimizer": optimizer, "scheduler": scheduler, "scaler": scaler,
        "rng": rng, "data": data or {}, "extra": extra or {},
    }, path)


def save_weights(path: str | os.PathLike, *, method: str, config: dict,
                 state_dict: dict[str, torch.Tensor], step: int | None = None,
                 source: dict | None = None) -> Path:
    """Write a weights file: config + model state (no optimizer), atomically.

    ``source``: provenance of what it came from (the training checkpoint's, or an official
    checkpoint's file name), kept beside this file's own provenance.
    """
    state = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    prov = provenance()
    if source:
        prov["source"] = source
    return _save({
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": WEIGHTS,
        "method": method, "config": config, "provenance": prov, "step": step, "model": state,
    }, path)


def _read(path: str | os.PathLike, map_location) -> dict:
    path = Path(path)
    if not path.is_file():
        raise LongtrackError(f"checkpoint {path} does not exist" if not path.exists()
                             else f"checkpoint {path} is not a file")
    if path.stat().st_size == 0:
        raise LongtrackError(f"checkpoint {path} is empty (an interrupted copy?)")
    try:
        with warnings.catch_warnings():  # foreign pickles warn before they fail: the error says it
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if "Unsupported global" in ln]
        reason = lines[0].split(" was not")[0] if lines else type(exc).__name__
        raise LongtrackError(
            f"{path} is not a longtrack checkpoint: it holds objects that weights-only loading "
            f"refuses ({reason[:160]})") from exc
    except Exception as exc:  # noqa: BLE001 - garbage bytes fail in any of pickle's ways
        raise LongtrackError(f"{path} is truncated or not a torch checkpoint "
                             f"({type(exc).__name__}: {str(exc).strip()[:160]})") from exc
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        hint = ""
        if isinstance(obj, dict) and ("state_dict" in obj or "net" in obj or "model" in obj):
            hint = "; an authors' checkpoint must first go through `longtrack convert`"
        raise LongtrackError(f"{path} is not a longtrack checkpoint (no '{FORMAT}' marker){hint}")
    version = obj.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise LongtrackError(f"{path} has checkpoint format version {version!r}; this longtrack "
                             f"reads up to {FORMAT_VERSION}: upgrade longtrack")
    for key in ("kind", "method", "config", "model"):
        if key not in obj:
            raise LongtrackError(f"{path} is a damaged longtrack checkpoint: '{key}' is missing")
    _check_finite(path, obj["model"])
    return obj


def _check_finite(path: Path, state: Any) -> None:
    """Refuse model weights holding NaN or infinity (a diverged run): a tracker built from them
    would answer NaN boxes, or nonsense, on every frame."""
    if not isinstance(state, dict):
        raise LongtrackError(f"{path} is a damaged longtrack checkpoint: its model state is not a mapping")
    bad = [(name, t) for name, t in state.items()
           if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        name, tensor = bad[0]
        count = int((~torch.isfinite(tensor)).sum())
        raise LongtrackError(f"{path} holds non-finite weights (a diverged training run?): {len(bad)} of "
                             f"{len(state)} tensors, e.g. {name} with {count} of {tensor.numel()} values NaN or "
                             "infinite")


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """Read a training checkpoint (``torch.load(weights_only=True)``).

    Returns the dict written by ``save_checkpoint``: ``method``, ``config``, ``step``,
    ``model``, ``optimizer``, ``scheduler``, ``scaler``, ``rng``, ``data``, ``provenance``.
    Raises ``LongtrackError`` naming the file for a missing, truncated, foreign or
    weights-only file.
    """
    obj = _read(path, map_location)
    if obj["kind"] != TRAINING:
        raise LongtrackError(f"{path} is a {obj['kind']} file, not a training checkpoint: "
                             "it cannot be resumed from")
    return obj


def load_weights(path: str | os.PathLike, method: str | None = None, map_location="cpu") -> Weights:
    """Read a weights file or a training checkpoint for inference.

    ``method``: when given, the file must have been made for that method.
    """
    obj = _read(path, map_location)
    if method is not None and obj["method"] != method:
        raise LongtrackError(f"{path} holds weights for method '{obj['method']}', not '{method}'")
    return Weights(method=obj["method"], config=obj["config"], state_dict=obj["model"],
                   provenance=obj.get("provenance") or {}, step=obj.get("step"), path=str(path))
