"""TLP: ``<seq>/groundtruth_rect.txt`` with lines ``frame,x,y,w,h,isLost`` and
``<seq>/img/00001.jpg``...; absent = isLost. The frame column must count 1, 2, 3... so that a
missing or duplicated line is an error rather than a shifted annotation."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from ..errors import LongtrackError
from .annotation_text import read_number_table
from .frame_files import list_frames
from .reader_base import SequenceEntry, check_frames, first_frame_size, natural_key, no_sequences, split_error
from .sequence import Sequence

LAYOUT = "<seq>/groundtruth_rect.txt (frame,x,y,w,h,isLost) with <seq>/img/"


def index(root: Path, split: str | None = None) -> list[SequenceEntry]:
    if split is not None:
        raise split_error("tlp", split, "none (TLP has no splits)")
    folders = sorted((p.parent for p in root.glob("*/groundtruth_rect.txt")), key=lambda p: natural_key(p.name))
    if not folders:
        raise no_sequences("tlp", root, LAYOUT)
    return [SequenceEntry(f.name, partial(load_sequence, f)) for f in folders]


def load_sequence(folder: Path) -> Sequence:
    gt_path = folder / "groundtruth_rect.txt"
    table = read_number_table(gt_path, 6, what="values (frame,x,y,w,h,isLost)")
    frame_numbers = table[:, 0]
    wrong = np.flatnonzero(frame_numbers != np.arange(1, len(table) + 1))
    if len(wrong):
        line = wrong[0] + 1
        raise LongtrackError(f"{gt_path}:{line}: frame number {frame_numbers[wrong[0]]:g}, expected {line}")
    lost = table[:, 5]
    bad = np.flatnonzero((lost != 0) & (lost != 1))
    if len(bad):
        raise LongtrackError(f"{gt_path}:{bad[0] + 1}: isLost must be 0 or 1, got {lost[bad[0]]:g}")
    frames = check_frames(list_frames(folder / "img"), len(table), folder / "img", f"lines in {gt_path.name}")
    return Sequence(name=folder.name, frames=frames, boxes=table[:, 1:5], absent=lost == 1,
                    image_size=first_frame_size(frames), meta={"path": str(gt_path)})
