"""TANet's switching thresholds per local tracker: the shipped table and the lookup order.

Algorithm 2's ``beta1`` (the confidence below which a local frame counts as low) was set for
SiamRPN++, whose score lives in [0, 1] with the target near 1. Other local trackers report other
scales (OpenCV's ok flag is 0 or 1; NanoTrack's score stays near 0.9 even without the target),
so the thresholds are tuned per local tracker on real-train (``longtrack tune-switching``) and
stored in ``weights/tanet-switching.json``:

    {"format": 1, "local_trackers": {"csrt": {"beta1": ..., "beta2": ..., "verify_threshold": ...,
                                              "tuned_on": "...", ...}}}

A value is taken, in this order, from: the explicit argument of ``TANetTracker`` (or
``--option``), the table's entry for the local tracker's name, the paper's values
(:data:`PAPER_SWITCHING`, with a warning that the local tracker has no tuned entry).
"""
from __future__ import annotations

import json
import math
import warnings
from importlib import resources
from pathlib import Path

from ..errors import LongtrackError
from ..fileio import atomic_write_text

__all__ = ["PAPER_SWITCHING", "SWITCHING_KEYS", "TABLE_FORMAT", "shipped_table_path", "read_table",
           "switching_thresholds", "write_entry"]

TABLE_FORMAT = 1
SWITCHING_KEYS = ("beta1", "beta2", "verify_threshold")
# beta1 and beta2: the paper's Algorithm 2 (SiamRPN++). verify_threshold (NCC with the
# first-frame target) is longtrack's, not the paper's: its value before any tuning.
PAPER_SWITCHING = {"beta1": 0.8, "beta2": 5, "verify_threshold": 0.5}


def shipped_table_path() -> str:
    return str(resources.files("longtrack.weights").joinpath("tanet-switching.json"))


def _damaged(path, why: str) -> LongtrackError:
    return LongtrackError(f"{path}: damaged TANet switching table ({why}); restore it from the repository "
                          "or rewrite its entries with longtrack tune-switching --write")


def _checked_entry(path, name: str, entry) -> dict:
    if not isinstance(entry, dict):
        raise _damaged(path, f"entry {name!r} is not an object")
    for key in SWITCHING_KEYS:
        if key not in entry:
            raise _damaged(path, f"entry {name!r} lacks {key}")
    beta1, beta2, verify = entry["beta1"], entry["beta2"], entry["verify_threshold"]
    if isinstance(beta1, bool) or not isinstance(beta1, (int, float)) or not math.isfinite(beta1):
        raise _damaged(path, f"entry {name!r}: beta1 must be a finite number, got {beta1!r}")
    if isinstance(beta2, bool) or not isinstance(beta2, int) or beta2 < 1:
        raise _damaged(path, f"entry {name!r}: beta2 must be an integer >= 1, got {beta2!r}")
    if isinstance(verify, bool) or not isinstance(verify, (int, float)) or not -1.0 <= verify <= 1.0:
        raise _damaged(path, f"entry {name!r}: verify_threshold must be an NCC in [-1, 1], got {verify!r}")
    return entry


def read_table(path: str | None = None) -> dict[str, dict]:
    """``{local tracker name: entry}`` of a switching table (default: the shipped one); a file
    that is not the table's JSON, or an entry without valid thresholds, is one clear error."""
    path = shipped_table_path() if path is None else str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise LongtrackError(f"cannot read the TANet switching table {path}: {exc.strerror or exc}") from exc
    try:
        table = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _damaged(path, f"not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(table, dict) or table.get("format") != TABLE_FORMAT:
        raise _damaged(path, f"expected an object with \"format\": {TABLE_FORMAT}")
    entries = table.get("local_trackers")
    if not isinstance(entries, dict):
        raise _damaged(path, "\"local_trackers\" must be an object")
    return {name: _checked_entry(path, name, entry) for name, entry in entries.items()}


def switching_thresholds(local_tracker: str, explicit: dict | None = None, table: str | None = None) -> dict:
    """``{"beta1", "beta2", "verify_threshold"}`` for ``local_tracker``: each from ``explicit``
    when given there (not None), else from the table's entry, else the paper's value (warned)."""
    explicit = {k: v for k, v in (explicit or {}).items() if v is not None}
    if all(key in explicit for key in SWITCHING_KEYS):
        return {key: explicit[key] for key in SWITCHING_KEYS}  # the table is not even read
    entry = read_table(table).get(local_tracker)
    if entry is None:
        missing = [key for key in SWITCHING_KEYS if key not in explicit]
        warnings.warn(f"tanet: no tuned switching thresholds for local tracker {local_tracker!r} in "
                      f"{table or shipped_table_path()}; using the paper's "
                      + ", ".join(f"{key}={PAPER_SWITCHING[key]}" for key in missing)
                      + f" (tune them: longtrack tune-switching --local {local_tracker} "
                        "--root ../shared/data/real-train --write)", stacklevel=2)
        entry = PAPER_SWITCHING
    return {key: explicit.get(key, entry[key]) for key in SWITCHING_KEYS}


def write_entry(path: str, local_tracker: str, entry: dict) -> None:
    """Set ``local_tracker``'s entry of the table at ``path`` (created when missing), atomically;
    the other entries are kept as they are."""
    _checked_entry(path, local_tracker, entry)
    entries = read_table(path) if Path(path).exists() else {}
    entries[local_tracker] = entry
    table = {"format": TABLE_FORMAT,
             "about": "TANet's switching thresholds per local tracker, tuned on real-train by "
                      "longtrack tune-switching (docs/methods/tanet.md)",
             "local_trackers": dict(sorted(entries.items()))}
    atomic_write_text(path, json.dumps(table, indent=1) + "\n")
