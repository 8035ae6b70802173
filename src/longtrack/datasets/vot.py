"""VOT / VOT-LT (2018, 2019, 2020) sequence folders.

A sequence folder holds ``groundtruth.txt`` -- per frame ``x,y,w,h``, an 8-value polygon
``x1,y1,...,x4,y4``, or an empty region written ``0`` or as a row of NaN (target absent) -- and
optionally a ``sequence`` properties file (``width``, ``height``, ``length``,
``channels.color=color/%08d.jpg``, ``fps``...), ``*.tag`` / ``*.label`` per-frame 0/1 files, and
the images in ``color/`` or directly in the folder. ``--root`` may be a VOT workspace (with
``sequences/list.txt``), a folder with ``list.txt``, a folder of sequence folders, or one
sequence folder.

Polygons become the axis-aligned box of their corners (min/max) in ``boxes``, the polygon
itself is kept in ``polygons``. Tag files shorter than the sequence are completed with 0, as
the VOT toolkit does (recorded in ``meta["tags_padded"]``); longer ones are errors.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from ..errors import LongtrackError
from .annotation_text import read_flags, read_number_rows, read_text
from .frame_files import list_frames
from .reader_base import (SequenceEntry, check_frames, first_frame_size, natural_key, no_sequences,
                          read_name_list, split_error)
from .sequence import Sequence

LAYOUT = ("a VOT workspace (sequences/list.txt), a folder with list.txt or sequence folders "
          "(<seq>/groundtruth.txt), or one sequence folder")


def index(root: Path, split: str | None = None, challenge: str = "votlt2020") -> list[SequenceEntry]:
    if split is not None:
        raise split_error(challenge, split, "none (a VOT dataset is one set of sequences)")
    if (root / "groundtruth.txt").is_file():
        return [SequenceEntry(root.name, partial(load_sequence, root, challenge))]
    seq_root = root / "sequences" if (root / "sequences").is_dir() else root
    if (seq_root / "list.txt").is_file():
        names = read_name_list(seq_root / "list.txt")
        missing = [n for n in names if not (seq_root / n).is_dir()]
        if missing:
            raise LongtrackError(f"{seq_root / 'list.txt'}: sequence folder {seq_root / missing[0]} not found")
    else:
        names = sorted((p.parent.name for p in seq_root.glob("*/groundtruth.txt")), key=natural_key)
    if not names:
        raise no_sequences(challenge, root, LAYOUT)
    return [SequenceEntry(n, partial(load_sequence, seq_root / n, challenge)) for n in names]


def read_properties(path: Path) -> dict[str, str]:
    """The ``sequence`` file: ``key=value`` lines (as vot-toolkit's read_properties)."""
    props = {}
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise LongtrackError(f"{path}:{lineno}: expected key=value, got {line[:40]!r}")
        props[key.strip()] = value.strip()
    return props


def _int_property(props: dict, key: str, path: Path) -> int | None:
    if key not in props:
        return None
    try:
        value = int(props[key])
    except ValueError:
        raise LongtrackError(f"{path}: {key} must be an integer, got {props[key]!r}") from None
    if value <= 0:
        raise LongtrackError(f"{path}: {key} must be positive, got {value}")
    return value


def load_sequence(folder: Path, challenge: str = "votlt2020") -> Sequence:
    gt_path = folder / "groundtruth.txt"
    props_path = folder / "sequence"
    props = read_properties(props_path) if props_path.is_file() else {}
    boxes, polygons, empty = read_regions(gt_path)
    n = len(boxes)
    length = _int_property(props, "length", props_path)
    if length is not None and length != n:
        raise LongtrackError(f"{gt_path}: {n} regions but {props_path} says length={length}")
    width, height = _int_property(props, "width", props_path), _int_property(props, "height", props_path)

    frames = _frames(folder, props)
    frames = check_frames(frames, n, folder, f"regions in {gt_path.name}")
    image_size = (width, height) if width and height else first_frame_size(frames)
    attributes, padded = _tags(folder, n)
    meta = {"path": str(folder), "challenge": challenge, "properties": props}
    if padded:
        meta["tags_padded"] = padded
    return Sequence(name=folder.name, frames=frames, boxes=boxes, absent=empty, attributes=attributes,
                    image_size=image_size, polygons=polygons, meta=meta)


def read_regions(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Parse a VOT ``groundtruth.txt``.

    Returns ``boxes (N, 4)`` xywh (NaN for empty frames), ``polygons (N, 8)`` or None when
    every region is a rectangle (rectangles become their 4 corners when others are polygons),
    and ``empty (N,)`` bool.
    """
    head = read_text(path).lstrip()[:1]
    if head in ("m", "M"):
        raise LongtrackError(f"{path}: segmentation masks are not supported (VOT-LT uses rectangles)")
    rows = read_number_rows(path, (1, 4, 8), allow_nan=True, what="values (0, x,y,w,h or a polygon x1,y1,...,x4,y4)")
    n = len(rows)
    boxes = np.full((n, 4), np.nan)
    corners = np.full((n, 8), np.nan)
    empty = np.zeros(n, dtype=bool)
    any_polygon = False
    for i, row in enumerate(rows):
        values = np.asarray(row)
        nan = np.isnan(values)
        if len(row) == 1:
            if row[0] != 0 and not nan[0]:
                raise LongtrackError(f"{path}:{i + 1}: a one-value region must be 0 (empty), got {row[0]:g}")
            empty[i] = True
        elif nan.all():
            empty[i] = True
        elif nan.any():
            raise LongtrackError(f"{path}:{i + 1}: a region is either all numbers or all NaN")
        elif len(row) == 4:
            x, y, w, h = values
            boxes[i] = values
            corners[i] = (x, y, x + w, y, x + w, y + h, x, y + h)
        else:
            any_polygon = True
            xs, ys = values[0::2], values[1::2]
            boxes[i] = (xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min())
            corners[i] = values
    return boxes, (corners if any_polygon else None), empty


def _frames(folder: Path, props: dict) -> list[Path] | None:
    """Image files of the folder named by ``channels.color`` (``color/%08d.jpg``), else of
    ``color/`` or of the sequence folder itself; ordered by frame number."""
    pattern = props.get("channels.color")
    if pattern:
        pattern_path = folder / pattern
        return list_frames(pattern_path.parent if "%" in pattern_path.name else pattern_path)
    if (folder / "color").is_dir():
        return list_frames(folder / "color")
    return list_frames(folder)


def _tags(folder: Path, n: int) -> tuple[dict, list[str]]:
    attributes, padded = {}, []
    for path in sorted(list(folder.glob("*.tag")) + list(folder.glob("*.label"))):
        if not read_text(path).strip():  # an empty tag file: the tag is never set
            values = np.zeros(0, dtype=np.int64)
        else:
            values = read_flags(path, what="tag values")
        if len(values) > n:
            raise LongtrackError(f"{path}: {len(values)} tag values but the sequence has {n} frames")
        if len(values) < n:
            padded.append(path.stem)
            values = np.concatenate([values, np.zeros(n - len(values), dtype=values.dtype)])
        attributes[path.stem] = values.astype(bool)
    return attributes, padded
