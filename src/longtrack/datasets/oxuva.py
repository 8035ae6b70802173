"""OxUvA: annotation CSV + task CSV (oxuva/long-term-tracking-benchmark, python/oxuva).

* ``annotations.csv`` (no header): video_id, object_id, class_id, class_name, contains_cuts,
  always_visible, frame_num, object_presence (``present``/``absent``), xmin, xmax, ymin, ymax
  -- coordinates relative to the image, boxes of absent rows ignored (as the official loader).
  A track's first row is its initialisation frame; the rest (~1 Hz) are the scored labels.
* ``tasks.csv`` (no header): video_id, object_id, init_frame, last_frame, xmin, xmax, ymin, ymax.
* images ``images/<subset>/<video>/<frame:06d>.jpeg`` (optional).

``--root`` holds either ``annotations.csv`` / ``tasks.csv`` directly (the shared fixtures) or the
official ``annotations/<split>.csv``, ``tasks/<split>.csv``, ``images/<split>/``. One ``Sequence``
per task, named ``<video>_<object>``, covering frames init_frame..last_frame; ``labelled`` marks
the annotated frames. Boxes are pixels when the image size is known (from the first frame's
header), else relative; ``meta["box_units"]`` says which and ``meta["relative_boxes"]`` keeps the
file's xmin, xmax, ymin, ymax (NaN where unlabelled) for the official unit-square scoring.
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import LongtrackError
from .annotation_text import read_text
from .frame_files import image_size
from .reader_base import SequenceEntry, no_sequences, split_error
from .sequence import Sequence

SPLITS = ("dev", "test")
LAYOUT = "annotations.csv and/or tasks.csv, or annotations/<split>.csv and tasks/<split>.csv"
ANNOTATION_FIELDS = ("video_id", "object_id", "class_id", "class_name", "contains_cuts", "always_visible",
                     "frame_num", "object_presence", "xmin", "xmax", "ymin", "ymax")
TASK_FIELDS = ("video_id", "object_id", "init_frame", "last_frame", "xmin", "xmax", "ymin", "ymax")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FRAME = re.compile(r"[0-9]+")


@dataclass
class _Track:
    rows: dict[int, tuple[bool, tuple[float, float, float, float]]] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    first_line: int = 0


@dataclass(frozen=True)
class _Task:
    init: int
    last: int
    box: tuple[float, float, float, float]
    line: int


def index(root: Path, split: str | None = None) -> list[SequenceEntry]:
    annotations_path, tasks_path, images_dir = _locate(root, split)
    tracks = read_annotations(annotations_path) if annotations_path else {}
    tasks = read_tasks(tasks_path) if tasks_path else {key: _task_from_track(t) for key, t in tracks.items()}
    if not tasks:
        raise no_sequences("oxuva", root, LAYOUT)
    return [SequenceEntry(f"{video}_{obj}", partial(_load, video, obj, task, tracks.get((video, obj)),
                                                    tasks_path or annotations_path, images_dir))
            for (video, obj), task in tasks.items()]


def _locate(root: Path, split: str | None) -> tuple[Path | None, Path | None, Path]:
    if split is not None and split not in SPLITS:
        raise split_error("oxuva", split, ", ".join(SPLITS))
    flat_annotations, flat_tasks = root / "annotations.csv", root / "tasks.csv"
    if flat_annotations.is_file() or flat_tasks.is_file():
        subset = split or "dev"
        images = root / "images" / subset if (root / "images" / subset).is_dir() else root / "images"
        return (flat_annotations if flat_annotations.is_file() else None,
                flat_tasks if flat_tasks.is_file() else None, images)
    candidates = [split] if split else [s for s in SPLITS if (root / "tasks" / f"{s}.csv").is_file()
                                        or (root / "annotations" / f"{s}.csv").is_file()]
    if not candidates:
        raise no_sequences("oxuva", root, LAYOUT)
    subset = candidates[0]
    annotations, tasks = root / "annotations" / f"{subset}.csv", root / "tasks" / f"{subset}.csv"
    if not annotations.is_file() and not tasks.is_file():
        raise no_sequences(f"oxuva ({subset})", root, LAYOUT)
    return (annotations if annotations.is_file() else None, tasks if tasks.is_file() else None,
            root / "images" / subset)


def _csv_rows(path: Path, fields: tuple[str, ...]):
    """Yield ``(line number, row dict)``; blank lines and a header row are skipped."""
    lines = read_text(path).split("\n")
    for lineno, row in enumerate(csv.reader(lines), start=1):
        if not row or all(not v.strip() for v in row):
            continue
        if lineno == 1 and row[0].strip() == fields[0]:
            continue
        if len(row) != len(fields):
            raise LongtrackError(f"{path}:{lineno}: expected {len(fields)} columns ({', '.join(fields)}), found {len(row)}")
        yield lineno, dict(zip(fields, (v.strip() for v in row)))


def _number(value: str, column: str, path: Path, lineno: int) -> float:
    if not _NUMBER.fullmatch(value):
        raise LongtrackError(f"{path}:{lineno}: {column} is not a number: {value[:20]!r}")
    number = float(value)
    if math.isinf(number):
        raise LongtrackError(f"{path}:{lineno}: {column} is out of range: {value[:20]!r}")
    return number


def _frame(value: str, column: str, path: Path, lineno: int) -> int:
    if not _FRAME.fullmatch(value):
        raise LongtrackError(f"{path}:{lineno}: {column} must be a frame number, got {value[:20]!r}")
    return int(value)


def _box(row: dict, path: Path, lineno: int) -> tuple[float, float, float, float]:
    return tuple(_number(row[k], k, path, lineno) for k in ("xmin", "xmax", "ymin", "ymax"))


def read_annotations(path: Path) -> dict[tuple[str, str], _Track]:
    tracks: dict[tuple[str, str], _Track] = {}
    for lineno, row in _csv_rows(path, ANNOTATION_FIELDS):
        key = (row["video_id"], row["object_id"])
        track = tracks.setdefault(key, _Track(first_line=lineno))
        t = _frame(row["frame_num"], "frame_num", path, lineno)
        if t in track.rows:
            raise LongtrackError(f"{path}:{lineno}: frame {t} of {key[0]}_{key[1]} is annotated twice")
        presence = row["object_presence"]
        if presence not in ("present", "absent"):
            raise LongtrackError(f"{path}:{lineno}: object_presence must be present or absent, got {presence[:20]!r}")
        if presence == "present" or any(row[k] for k in ("xmin", "xmax", "ymin", "ymax")):
            box = _box(row, path, lineno)
        else:
            box = (np.nan,) * 4  # an absent row may leave its box empty
        track.rows[t] = (presence == "present", box)
        if not track.info:
            track.info = {k: row[k] for k in ("class_id", "class_name", "contains_cuts", "always_visible")}
    if not tracks:
        raise LongtrackError(f"{path}: no annotation rows")
    for key, track in tracks.items():
        if len(track.rows) < 2:
            raise LongtrackError(f"{path}:{track.first_line}: track {key[0]}_{key[1]} has {len(track.rows)} "
                                 f"annotated frame; a track needs its initial frame and at least one label")
    return tracks


def read_tasks(path: Path) -> dict[tuple[str, str], _Task]:
    tasks: dict[tuple[str, str], _Task] = {}
    for lineno, row in _csv_rows(path, TASK_FIELDS):
        key = (row["video_id"], row["object_id"])
        if key in tasks:
            raise LongtrackError(f"{path}:{lineno}: task {key[0]}_{key[1]} is listed twice")
        init = _frame(row["init_frame"], "init_frame", path, lineno)
        last = _frame(row["last_frame"], "last_frame", path, lineno)
        if last < init:
            raise LongtrackError(f"{path}:{lineno}: last_frame {last} is before init_frame {init}")
        tasks[key] = _Task(init, last, _box(row, path, lineno), lineno)
    if not tasks:
        raise LongtrackError(f"{path}: no task rows")
    return tasks


def _task_from_track(track: _Track) -> _Task:
    frames = sorted(track.rows)
    return _Task(frames[0], frames[-1], track.rows[frames[0]][1], track.first_line)


def _load(video: str, obj: str, task: _Task, track: _Track | None, source: Path, images_dir: Path) -> Sequence:
    name = f"{video}_{obj}"
    n = task.last - task.init + 1
    relative = np.full((n, 4), np.nan)  # xmin, xmax, ymin, ymax as in the file
    labelled = np.zeros(n, dtype=bool)
    absent = np.zeros(n, dtype=bool)
    relative[0], labelled[0] = task.box, True
    meta = {"video": video, "object": obj, "init_frame": task.init, "last_frame": task.last, "path": str(source)}
    if track is not None:
        _check_task_matches_track(name, task, track, source)
        for t, (present, box) in track.rows.items():
            relative[t - task.init] = box
            labelled[t - task.init] = True
            absent[t - task.init] = not present
        meta.update(track.info)

    frames, size = _frames(images_dir / video, task, source)
    if size is not None:
        w, h = size
        xmin, xmax, ymin, ymax = relative.T
        boxes = np.stack([xmin * w, ymin * h, (xmax - xmin) * w, (ymax - ymin) * h], axis=1)
    else:
        boxes = np.stack([relative[:, 0], relative[:, 2], relative[:, 1] - relative[:, 0],
                          relative[:, 3] - relative[:, 2]], axis=1)
    meta["box_units"] = "pixels" if size is not None else "relative"
    meta["relative_boxes"] = relative
    return Sequence(name=name, frames=frames, boxes=boxes, absent=absent, labelled=labelled,
                    image_size=size, meta=meta)


def _check_task_matches_track(name: str, task: _Task, track: _Track, source: Path) -> None:
    frames = sorted(track.rows)
    if frames[0] != task.init:
        raise LongtrackError(f"{source}:{task.line}: task {name} starts at frame {task.init} but its "
                             f"annotations start at frame {frames[0]}")
    if frames[-1] > task.last:
        raise LongtrackError(f"{source}:{task.line}: task {name} ends at frame {task.last} but it is "
                             f"annotated up to frame {frames[-1]}")
    if not np.allclose(track.rows[frames[0]][1], task.box, rtol=0, atol=1e-9):
        raise LongtrackError(f"{source}:{task.line}: task {name}'s initial box differs from its first annotation")


def _frames(video_dir: Path, task: _Task, source: Path) -> tuple[list[Path], tuple[int, int] | None]:
    if not video_dir.is_dir():
        return [], None
    frames = [video_dir / f"{t:06d}.jpeg" for t in range(task.init, task.last + 1)]
    for f in (frames[0], frames[-1]):
        if not f.is_file():
            raise LongtrackError(f"{video_dir}: frame {f.name} of task {video_dir.name} "
                                 f"({task.init}..{task.last}, {source.name}) is missing")
    return frames, image_size(frames[0])
