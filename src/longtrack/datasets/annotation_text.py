"""Strict, fast parsing of the plain-text annotation files every benchmark ships.

What real files do and is accepted:

* separators: comma, semicolon, tab or spaces, mixed freely (``1, 2\\t3 4``); one comma or
  semicolon may be surrounded by any blanks;
* line endings: LF, CRLF or lone CR; a UTF-8 byte-order mark; trailing blank lines;
* any decimal notation Python writes (``12``, ``12.5``, ``.5``, ``1e-3``); ``NaN`` only where
  the caller allows it (VOT / UAV empty frames);
* zero-size boxes (they are numbers like any other).

What is rejected with a :class:`LongtrackError` naming the file and the 1-based line: a wrong
number of values on a line, an empty value (``1,,2``, a trailing comma), anything that is not a
number (letters, ``inf``, ``1_000``), blank lines before the end, an empty file, and line
counts that disagree with the frames or flag files of the same sequence. Nothing is padded or
truncated.

Plain decimals are parsed vectorised (``fast_numbers``); anything else (exponents, NaN, a damaged
line) goes through a line-by-line parser that uses ``float()`` and names the first bad line.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Collection

import numpy as np

from ..errors import LongtrackError
from .fast_numbers import parse_plain_decimals

__all__ = [
    "read_text",
    "read_number_table",
    "read_number_rows",
    "read_flags",
    "check_length",
]

_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NAN = r"[+-]?[nN][aA][nN]"
_SEP = r"(?:[ \t]*[,;][ \t]*|[ \t]+)"
_SPLIT = re.compile(_SEP)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_TOKEN = {False: re.compile(_NUMBER), True: re.compile(f"(?:{_NUMBER}|{_NAN})")}


def read_text(path: str | Path) -> str:
    """Read a text file as UTF-8 (BOM dropped), with line endings normalised to ``\\n``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LongtrackError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise LongtrackError(f"{path}: is a folder, expected a text file") from None
    except OSError as exc:
        raise LongtrackError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LongtrackError(f"{path}:{line}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise LongtrackError(f"{path}:{line}: NUL byte, not a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _content_lines(text: str, path: Path) -> list[str]:
    """The lines of ``text`` without trailing blank lines; an empty file is an error."""
    lines = text.split("\n")
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    if not lines:
        raise LongtrackError(f"{path}: file is empty")
    return lines


def _parse_line(line: str, lineno: int, path: Path, allow_nan: bool) -> list[float]:
    """Split and convert one line, raising with its number on the first bad value."""
    stripped = line.strip(" \t")
    if not stripped:
        raise LongtrackError(f"{path}:{lineno}: blank line inside the annotations")
    token_re = _TOKEN[allow_nan]
    values = []
    for col, token in enumerate(_SPLIT.split(stripped), start=1):
        if token == "":
            raise LongtrackError(f"{path}:{lineno}: empty value in column {col} (doubled or trailing separator)")
        if not token_re.fullmatch(token):
            shown = token if len(token) <= 20 else token[:20] + "..."
            raise LongtrackError(f"{path}:{lineno}: column {col} is not a number: {shown!r}")
        value = float(token)
        if math.isinf(value):  # e.g. 1e309: a valid-looking number that no box can have
            raise LongtrackError(f"{path}:{lineno}: column {col} is out of range: {token[:20]!r}")
        values.append(value)
    return values


def read_number_table(path: str | Path, width: int, *, allow_nan: bool = False,
                      what: str = "values") -> np.ndarray:
    """Read a file of ``width`` numbers per line into an ``(N, width)`` float64 array.

    ``what`` names the columns in error messages (e.g. ``"x,y,w,h"``).
    """
    path = Path(path)
    lines = _content_lines(read_text(path), path)
    parsed = parse_plain_decimals("\n".join(lines))
    if parsed is not None:
        values, line_of_value, _ = parsed
        if np.all(np.bincount(line_of_value, minlength=len(lines)) == width):
            return values.reshape(-1, width)
    # Line by line: exponents, NaN, or a damaged line to name.
    rows = []
    for lineno, line in enumerate(lines, start=1):
        row = _parse_line(line, lineno, path, allow_nan)
        if len(row) != width:
            raise LongtrackError(f"{path}:{lineno}: expected {width} {what}, found {len(row)}")
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(-1, width)


def read_number_rows(path: str | Path, widths: Collection[int], *, allow_nan: bool = False,
                     what: str = "values") -> list[list[float]]:
    """Read lines whose number of values may vary (VOT: ``0``, 4 or 8 values) as lists."""
    path = Path(path)
    rows = []
    for lineno, line in enumerate(_content_lines(read_text(path), path), start=1):
        row = _parse_line(line, lineno, path, allow_nan)
        if len(row) not in widths:
            allowed = " or ".join(str(w) for w in sorted(widths))
            raise LongtrackError(f"{path}:{lineno}: expected {allowed} {what}, found {len(row)}")
        rows.append(row)
    return rows


def read_flags(path: str | Path, *, length: int | None = None, allowed: Collection[int] = (0, 1),
               what: str = "flags") -> np.ndarray:
    """Read per-frame integer labels: one per line, or all on one separated line (LaSOT).

    Returns an ``(N,)`` int64 array; values outside ``allowed`` and a count different from
    ``length`` (when given) are errors.
    """
    path = Path(path)
    lines = _content_lines(read_text(path), path)
    parsed = parse_plain_decimals("\n".join(lines))
    values = None
    if parsed is not None:
        numbers, line_of_value, has_dot = parsed
        per_line = np.bincount(line_of_value, minlength=len(lines))
        if (len(lines) == 1 or np.all(per_line == 1)) and not has_dot.any() and np.isin(numbers, list(allowed)).all():
            values = numbers.astype(np.int64)
    if values is None:  # name the bad line (or read what the fast grammar does not cover)
        values = _parse_flags(lines, path, allowed, what)
    if length is not None:
        check_length(path, len(values), length, what)
    return values


def _parse_flags(lines: list[str], path: Path, allowed: Collection[int], what: str) -> np.ndarray:
    single_line = len(lines) == 1
    out = []
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip(" \t")
        if not stripped:
            raise LongtrackError(f"{path}:{lineno}: blank line inside the {what}")
        tokens = _SPLIT.split(stripped)
        if not single_line and len(tokens) != 1:
            raise LongtrackError(f"{path}:{lineno}: expected one value per line, found {len(tokens)}")
        for col, token in enumerate(tokens, start=1):
            where = f"{path}:{lineno}" + (f": value {col}" if single_line else "")
            if token == "":
                raise LongtrackError(f"{where}: empty value (doubled or trailing separator)")
            if not _INTEGER.fullmatch(token):
                shown = token if len(token) <= 20 else token[:20] + "..."
                raise LongtrackError(f"{where}: not an integer {what[:-1] if what.endswith('s') else what}: {shown!r}")
            value = int(token)
            if value not in allowed:
                choices = ", ".join(str(v) for v in sorted(allowed))
                raise LongtrackError(f"{where}: {what} value {value} is not one of {choices}")
            out.append(value)
    return np.array(out, dtype=np.int64)


def check_length(path: str | Path, found: int, expected: int, what: str, against: str = "frames") -> None:
    """Raise when a per-frame file has a different count than the sequence it belongs to."""
    if found != expected:
        raise LongtrackError(f"{path}: {found} {what} but the sequence has {expected} {against}")
