"""Per-frame results as CSV: header ``frame,x,y,w,h,score,present``; with several targets
``frame,target,x,y,w,h,score,present`` (``target`` = 0-based order of the given boxes).

``frame`` counts from 0 (the initial frame, whose box is the given one); ``present`` is 1 or 0.
Files are written atomically, so a half-written result never looks complete.
"""
from __future__ import annotations

import csv
import math
import os
from typing import Iterable, Sequence, TextIO

from .contract import Prediction
from .errors import LongtrackError
from .fileio import atomic_open

HEADER = ["frame", "x", "y", "w", "h", "score", "present"]
TARGETS_HEADER = ["frame", "target", "x", "y", "w", "h", "score", "present"]


def write_predictions_csv(path: str | os.PathLike, predictions: Iterable[Prediction]) -> int:
    """Write ``predictions`` (one per frame, in order) to ``path``; return how many were written."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        return write_predictions(fh, predictions)


def write_predictions(fh: TextIO, predictions: Iterable[Prediction]) -> int:
    """Write the header and one row per prediction to an open text stream (e.g. stdout)."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    for count, pred in enumerate(predictions, start=1):
        x, y, w, h = pred.box
        writer.writerow([count - 1, f"{x:.3f}", f"{y:.3f}", f"{w:.3f}", f"{h:.3f}", f"{pred.score:.5f}",
                         int(pred.present)])
    return count


def write_target_predictions_csv(path: str | os.PathLike, frames: Iterable[Sequence[Prediction]]) -> int:
    """Write one row per target per frame (``frames``: each frame's predictions in target order)
    to ``path`` with ``TARGETS_HEADER``; return how many frames were written."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        return write_target_predictions(fh, frames)


def write_target_predictions(fh: TextIO, frames: Iterable[Sequence[Prediction]]) -> int:
    """``write_target_predictions_csv`` to an open text stream (e.g. stdout)."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(TARGETS_HEADER)
    count = 0
    for count, preds in enumerate(frames, start=1):
        for target, pred in enumerate(preds):
            x, y, w, h = pred.box
            writer.writerow([count - 1, target, f"{x:.3f}", f"{y:.3f}", f"{w:.3f}", f"{h:.3f}",
                             f"{pred.score:.5f}", int(pred.present)])
    return count


def read_predictions_csv(path: str | os.PathLike) -> list[Prediction]:
    """Read a file written by ``write_predictions_csv``; frames must run 0, 1, 2, ... in order.

    Raises ``LongtrackError`` naming the file and line of anything malformed.
    """
    try:
        fh = open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise LongtrackError(f"cannot read predictions {path}: {exc.strerror or exc}") from None
    predictions: list[Prediction] = []
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != HEADER:
            raise LongtrackError(f"{path}:1: expected the header {','.join(HEADER)}, got {header}")
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(HEADER):
                raise LongtrackError(f"{path}:{line}: expected {len(HEADER)} values, got {len(row)}")
            try:
                frame = int(row[0])
                x, y, w, h, score = (float(v) for v in row[1:6])
                present = int(row[6])
            except ValueError:
                raise LongtrackError(f"{path}:{line}: not a number in {','.join(row)}") from None
            if frame != len(predictions):
                raise LongtrackError(f"{path}:{line}: frame {frame} where frame {len(predictions)} was expected")
            if present not in (0, 1):
                raise LongtrackError(f"{path}:{line}: present must be 0 or 1, got {present}")
            if not math.isfinite(score):
                raise LongtrackError(f"{path}:{line}: score is not a finite number")
            predictions.append(Prediction((x, y, w, h), score, bool(present)))
    return predictions
