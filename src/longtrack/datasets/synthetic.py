"""The synthetic long-term world on disk (``longtrack synth --out DIR``): the LaSOT dataset layout
(``<class>/<class>-<n>/`` with ``groundtruth.txt``, ``full_occlusion.txt``, ``out_of_view.txt``,
``img/``) plus a ``meta.json`` per sequence with the generator parameters, the events and every
object's boxes and visibility, and an optional ``list.txt`` at the root giving the order.

``Sequence.meta`` holds the whole ``meta.json``, with each object's ``boxes`` as an ``(N, 4)``
array and ``visible`` as an ``(N,)`` bool array (checked against the sequence length).
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import LongtrackError
from .annotation_text import read_text
from .lasot import class_of, load_sequence_dir
from .reader_base import SequenceEntry, natural_key, no_sequences, read_name_list
from .sequence import Sequence

LAYOUT = "<class>/<class>-<n>/ with groundtruth.txt, full_occlusion.txt, out_of_view.txt, meta.json (longtrack synth)"
SPLITS = ("train", "val", "test")


def index(root: Path, split: str | None = None) -> list[SequenceEntry]:
    if split is not None and split not in SPLITS:
        raise LongtrackError(f"synthetic: unknown split {split!r}; choose {', '.join(SPLITS)}")
    if (root / "list.txt").is_file():
        names = read_name_list(root / "list.txt")
        for n in names:
            if not (root / class_of(n) / n / "groundtruth.txt").is_file():
                raise LongtrackError(f"{root / 'list.txt'}: {n} has no {root / class_of(n) / n / 'groundtruth.txt'} "
                                     "(a `longtrack synth` stopped before it finished? rerun it)")
    else:
        names = sorted((p.parent.name for p in root.glob("*/*/meta.json")
                        if class_of(p.parent.name) == p.parent.parent.name), key=natural_key)
    if split is not None:
        names = [n for n in names if read_meta(root / class_of(n) / n / "meta.json").get("split") == split]
    if not names:
        raise no_sequences("synthetic" + (f" ({split})" if split else ""), root, LAYOUT)
    return [SequenceEntry(n, partial(load_sequence, root, n)) for n in names]


def read_meta(path: Path) -> dict:
    try:
        meta = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise LongtrackError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(meta, dict):
        raise LongtrackError(f"{path}: expected a JSON object")
    return meta


def load_sequence(root: Path, name: str) -> Sequence:
    seq = load_sequence_dir(root, name)
    meta_path = root / class_of(name) / name / "meta.json"
    meta = read_meta(meta_path)
    n = len(seq)
    objects = meta.get("objects", [])
    if not isinstance(objects, list):
        raise LongtrackError(f"{meta_path}: 'objects' must be a list")
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise LongtrackError(f"{meta_path}: objects[{i}] must be an object")
        if "boxes" in obj:
            boxes = np.asarray(obj["boxes"], dtype=np.float64)
            if boxes.shape != (n, 4):
                raise LongtrackError(f"{meta_path}: objects[{i}].boxes has shape {boxes.shape}, expected ({n}, 4)")
            obj["boxes"] = boxes
        if "visible" in obj:
            visible = np.asarray(obj["visible"], dtype=bool)
            if visible.shape != (n,):
                raise LongtrackError(f"{meta_path}: objects[{i}].visible has {visible.size} flags, expected {n}")
            obj["visible"] = visible
    seq.meta = {**seq.meta, **meta, "objects": objects, "events": meta.get("events", [])}
    size = meta.get("size")
    if seq.image_size is None and isinstance(size, (list, tuple)) and len(size) == 2:
        seq.image_size = (int(size[0]), int(size[1]))
    return seq
