"""Small text helpers shared by the result formats: number formatting, one-value-per-line files.

One-value-per-line files (VOT's ``*.value`` convention) carry what a benchmark's own result format
has no column for: confidence, presence and per-frame time. An empty line means "no value" (VOT
writes it for the initialization frame).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets.annotation_text import read_number_table, read_text
from ..errors import LongtrackError


def format_number(value: float) -> str:
    """Shortest text that reads back to the same float64 (no exponent); ``nan`` for NaN."""
    value = float(value)
    if np.isnan(value):
        return "nan"
    return np.format_float_positional(value, unique=True, trim="-")


def format_rows(rows: np.ndarray, fmt: str | None = None, sep: str = ",") -> str:
    """Lines of separated numbers (``fmt``: a %-format like ``%.3f``; default: exact)."""
    rows = np.asarray(rows, dtype=np.float64)
    if fmt is None:
        lines = (sep.join(format_number(v) for v in row) for row in rows)
    else:
        lines = (sep.join(fmt % v for v in row) for row in rows)
    return "".join(line + "\n" for line in lines)


def format_values(values, missing_first: bool = False) -> str:
    """One value per line; ``missing_first`` leaves line 1 empty (VOT's init frame)."""
    lines = [format_number(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]
    if missing_first and lines:
        lines[0] = ""
    return "".join(line + "\n" for line in lines)


def read_values(path: Path, length: int, missing: float = np.nan) -> np.ndarray:
    """Read a one-value-per-line file of exactly ``length`` lines (trailing blank lines ignored;
    an empty line is ``missing``). Bad values raise a ``LongtrackError`` naming the line."""
    lines = read_text(path).split("\n")
    while len(lines) > length and not lines[-1].strip():
        lines.pop()
    if len(lines) != length:
        raise LongtrackError(f"{path}: {len(lines)} lines but the sequence has {length} frames")
    out = np.empty(length, dtype=np.float64)
    for i, line in enumerate(lines):
        token = line.strip()
        if not token:
            out[i] = missing
            continue
        try:
            out[i] = float(token)
        except ValueError:
            raise LongtrackError(f"{path}:{i + 1}: not a number: {token[:20]!r}") from None
    return out


def read_boxes(path: Path, min_length: int) -> np.ndarray:
    """An ``(N, 4)`` box file (comma, tab or space separated; NaN allowed); fewer lines than
    ``min_length`` is an error, more are kept (the scorer decides)."""
    boxes = read_number_table(path, 4, allow_nan=True, what="values (x,y,w,h)")
    if len(boxes) < min_length:
        raise LongtrackError(f"{path}: {len(boxes)} boxes but the sequence has {min_length} frames")
    return boxes


def read_time_columns(path: Path, length: int) -> np.ndarray:
    """GOT-10k ``<seq>_time.txt``: one line per frame, one column per repetition -> ``(N, R)``."""
    text = read_text(path).rstrip("\n")
    rows = [line.split(",") for line in text.split("\n")] if text else []
    if len(rows) != length or len({len(r) for r in rows}) > 1:
        raise LongtrackError(f"{path}: expected {length} lines with the same number of columns")
    try:
        return np.array([[float(v) for v in r] for r in rows], dtype=np.float64).reshape(length, -1)
    except ValueError as exc:
        raise LongtrackError(f"{path}: {exc}") from None
