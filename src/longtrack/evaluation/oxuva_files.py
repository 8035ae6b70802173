"""OxUvA prediction CSV files (``python/oxuva/io_pred.py``): one file per track, rows
``video, object, frame_num, present, score, xmin, xmax, ymin, ymax`` with coordinates relative to
the image. The official loader accepts an optional header row, any of ``true/false/1/0/t/f/yes/no``
for ``present``, and empty box fields on absent rows; frames may be missing (the evaluation then
uses the last earlier prediction).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..datasets.annotation_text import read_text
from ..datasets.sequence import Sequence
from ..errors import LongtrackError
from .value_files import format_number

FIELDS = ("video", "object", "frame_num", "present", "score", "xmin", "xmax", "ymin", "ymax")
_TRUE = ("t", "true", "y", "yes", "1")
_FALSE = ("f", "false", "n", "no", "0")


def _track_ids(seq: Sequence) -> tuple[str, str, int]:
    try:
        return str(seq.meta["video"]), str(seq.meta["object"]), int(seq.meta["init_frame"])
    except KeyError as exc:
        raise LongtrackError(f"{seq.name}: not an OxUvA track (meta has no {exc})") from None


def format_predictions(seq: Sequence, boxes: np.ndarray, scores: np.ndarray, present: np.ndarray) -> str:
    """The CSV text (no header, as ``oxuva.dump_predictions_csv``) for frames after the
    initialization frame; pixel boxes become relative with the sequence's image size."""
    video, obj, init = _track_ids(seq)
    if seq.image_size is None:
        raise LongtrackError(f"{seq.name}: the image size is unknown; cannot write relative boxes")
    w, h = (float(v) for v in seq.image_size)
    lines = []
    for i in range(1, len(seq)):
        x, y, bw, bh = boxes[i]
        rel = (x / w, (x + bw) / w, y / h, (y + bh) / h)
        lines.append(",".join([video, obj, str(init + i), "true" if present[i] else "false",
                               format_number(scores[i]), *(format_number(v) for v in rel)]))
    return "".join(line + "\n" for line in lines)


def _parse_rows(path: Path):
    rows = [r for r in csv.reader(read_text(path).split("\n")) if r and any(v.strip() for v in r)]
    if rows and {v.strip() for v in rows[0]} == set(FIELDS):
        header = [v.strip() for v in rows[0]]
        rows = [dict(zip(header, r)) for r in rows[1:]]
    else:
        rows = [dict(zip(FIELDS, r)) if len(r) == len(FIELDS) else len(r) for r in rows]
    frames, flags, scores, rel = [], [], [], []
    for lineno, row in enumerate(rows, start=1):
        if isinstance(row, int):
            raise LongtrackError(f"{path}: row {lineno} has {row} columns, expected {len(FIELDS)}")
        try:
            flag = row["present"].strip().lower()
            if flag not in _TRUE + _FALSE:
                raise ValueError(f"present must be true or false, got {row['present']!r}")
            present = flag in _TRUE
            frames.append(int(row["frame_num"]))
            flags.append(present)
            scores.append(float(row["score"]))
            rel.append([float(row[k]) for k in ("xmin", "xmax", "ymin", "ymax")] if present
                       else [np.nan] * 4)
        except (ValueError, KeyError) as exc:
            raise LongtrackError(f"{path}: row {lineno}: {exc}") from None
    return (np.array(frames, dtype=np.int64), np.array(flags, dtype=bool),
            np.array(scores, dtype=np.float64), np.array(rel, dtype=np.float64).reshape(-1, 4))


def read_predictions(path: Path, seq: Sequence):
    """Read a track's predictions densely over the sequence's frames.

    Every frame takes the last prediction at or before it (the official
    ``subset_using_previous_if_missing``); a scored frame (labelled, after the first) without any
    is an error, as in the official loader.

    Returns ``boxes (N, 4)`` in the sequence's box units, ``relative (N, 4)`` (xmin, xmax, ymin,
    ymax), ``scores (N,)`` and ``present (N,)``; frames before the first prediction are NaN / False.
    """
    path = Path(path)
    if not path.is_file():
        raise LongtrackError(f"{path}: prediction file missing for track {seq.name}")
    _, _, init = _track_ids(seq)
    frames, flags, scores, rel = _parse_rows(path)
    if len(frames) == 0:
        raise LongtrackError(f"{path}: no predictions")
    # Later rows for the same frame win (the official loader fills a dict).
    order = np.argsort(frames, kind="stable")
    frames, flags, scores, rel = frames[order], flags[order], scores[order], rel[order]
    last_of_frame = np.append(frames[1:] != frames[:-1], True)
    frames, flags, scores, rel = (a[last_of_frame] for a in (frames, flags, scores, rel))

    idx = np.searchsorted(frames, init + np.arange(len(seq)), side="right") - 1
    scored = seq.labelled.copy()
    scored[:1] = False
    if np.any(scored & (idx < 0)):
        first = int(init + np.flatnonzero(scored & (idx < 0))[0])
        raise LongtrackError(f"{path}: no prediction at or before frame {first} (first is {frames[0]})")
    have = idx >= 0
    take = np.maximum(idx, 0)
    relative = np.where(have[:, None], rel[take], np.nan)
    out_scores = np.where(have, scores[take], np.nan)
    out_present = have & flags[take]
    xmin, xmax, ymin, ymax = relative.T
    if seq.image_size is not None:
        w, h = (float(v) for v in seq.image_size)
        boxes = np.stack([xmin * w, ymin * h, (xmax - xmin) * w, (ymax - ymin) * h], axis=1)
    else:
        boxes = np.stack([xmin, ymin, xmax - xmin, ymax - ymin], axis=1)
    return boxes, relative, out_scores, out_present
