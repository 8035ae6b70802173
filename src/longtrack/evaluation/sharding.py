"""``--shard I/N``: split a benchmark's sequences into N disjoint parts for cluster job arrays.

Sequences are put in a stable order (by name) first, so that every job of an array agrees on
the split whatever order its reader returned them in; shard ``I`` holds positions ``p`` with
``p % N == I``. Round-robin (not contiguous blocks) spreads long and short sequences evenly.
"""
from __future__ import annotations

import re
from typing import Sequence as SequenceList, TypeVar

from ..errors import LongtrackError

T = TypeVar("T")
_SHARD = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")


def parse_shard(text: str) -> tuple[int, int]:
    """``"1/4"`` -> ``(1, 4)``; anything else (or ``I >= N``) is a LongtrackError."""
    match = _SHARD.fullmatch(text or "")
    if match is None:
        raise LongtrackError(f"--shard must look like I/N (e.g. 0/4), got {text!r}")
    return check_shard((int(match.group(1)), int(match.group(2))))


def check_shard(shard) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in shard)
    except (TypeError, ValueError):
        raise LongtrackError(f"shard must be (index, count), got {shard!r}") from None
    if count < 1 or not 0 <= index < count:
        raise LongtrackError(f"shard {index}/{count}: need 0 <= I < N and N >= 1")
    return index, count


def select_shard(items: SequenceList[T], shard=(0, 1), key=lambda item: item.name) -> list[T]:
    """The items of ``shard = (I, N)``: sorted stably by ``key``, then every N-th from I."""
    index, count = check_shard(shard)
    ordered = sorted(items, key=key)
    return ordered[index::count]
