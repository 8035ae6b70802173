"""TrackingNet: chunks ``TEST/`` and ``TRAIN_0/`` ... ``TRAIN_11/``, each with
``anno/<seq>.txt`` (x,y,w,h per frame) and ``frames/<seq>/0.jpg, 1.jpg, ...`` (numbered from 0,
not zero-padded: ordered by number).

The test annotations give the first frame only: such sequences are labelled at frame 0 alone
(boxes NaN after it, the length taken from the frames), never padded with guesses.
"""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import LongtrackError
from .annotation_text import read_number_table
from .frame_files import frame_number, list_frames
from .reader_base import SequenceEntry, check_frames, first_box_only, first_frame_size, natural_key, no_sequences, split_error
from .sequence import Sequence

LAYOUT = "TEST/anno/<seq>.txt + TEST/frames/<seq>/ (or TRAIN_<i>/...), or a chunk folder with anno/ and frames/"
_TRAIN_CHUNK = re.compile(r"TRAIN_\d+")


def index(root: Path, split: str | None = None) -> list[SequenceEntry]:
    chunks = _chunks(root, split)
    entries = []
    for chunk in chunks:
        files = sorted((chunk / "anno").glob("*.txt"), key=lambda p: natural_key(p.stem))
        entries += [SequenceEntry(f.stem, partial(load_sequence, chunk, f.stem)) for f in files]
    if not entries:
        raise no_sequences("trackingnet", root, LAYOUT)
    return entries


def _chunks(root: Path, split: str | None) -> list[Path]:
    """The chunk folders of a split: ``test`` (default) -> TEST, ``train`` -> every TRAIN_i,
    ``TRAIN_i`` -> that one; a root that is itself a chunk (has ``anno/``) is used as is."""
    if (root / "anno").is_dir() and split is None:
        return [root]
    wanted = (split or "test")
    if wanted.lower() == "test":
        return [root / "TEST"]
    if wanted.lower() == "train":
        return sorted((p for p in root.iterdir() if _TRAIN_CHUNK.fullmatch(p.name) and p.is_dir()),
                      key=lambda p: natural_key(p.name))
    if _TRAIN_CHUNK.fullmatch(wanted):
        return [root / wanted]
    raise split_error("trackingnet", wanted, "test, train or TRAIN_<i>")


def load_sequence(chunk: Path, name: str) -> Sequence:
    gt_path = chunk / "anno" / f"{name}.txt"
    boxes = read_number_table(gt_path, 4, what="values (x,y,w,h)")
    frames = list_frames(chunk / "frames" / name, (".jpg",))
    meta = {"path": str(gt_path), "chunk": chunk.name}
    if frames:
        numbers = [frame_number(f) for f in frames]
        if numbers != list(range(len(frames))):
            gap = next(i for i, k in enumerate(numbers) if k != i)
            raise LongtrackError(f"{chunk / 'frames' / name}: frames must be 0.jpg ... {len(frames) - 1}.jpg; "
                                 f"{gap}.jpg is missing")
    if frames and len(boxes) == 1 and len(frames) > 1:
        return first_box_only(name, frames, boxes[0], first_frame_size(frames), meta)  # the test split
    frames = check_frames(frames, len(boxes), chunk / "frames" / name, f"lines in {gt_path.name}")
    return Sequence(name=name, frames=frames, boxes=boxes, absent=np.zeros(len(boxes), dtype=bool),
                    image_size=first_frame_size(frames), meta=meta)
