"""What every reader shares: the index entry type, name lists, natural ordering and the frame
checks that turn a length mismatch into an error."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import LongtrackError
from .annotation_text import read_text
from .frame_files import image_size
from .sequence import Sequence


@dataclass(frozen=True)
class SequenceEntry:
    """One sequence found by a reader's ``index``: its name and how to load it (lazily, so that
    selecting a few sequences of a large benchmark reads only their files)."""

    name: str
    load: Callable[[], Sequence]


def natural_key(name: str):
    """Sort key that orders ``car-2`` before ``car-10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"([0-9]+)", name)]


def read_name_list(path: Path) -> list[str]:
    """Sequence names, one per line (``list.txt``, ``testing_set.txt``); blank lines skipped."""
    names = [line.strip() for line in read_text(path).split("\n")]
    names = [n for n in names if n]
    seen = set()
    for n in names:
        if n in seen:
            raise LongtrackError(f"{path}: sequence {n!r} is listed twice")
        seen.add(n)
    if not names:
        raise LongtrackError(f"{path}: the sequence list is empty")
    return names


def check_frames(frames: list[Path] | None, count: int, where: Path | str, what: str = "annotations") -> list[Path]:
    """The frame list when it has one image per annotation, ``[]`` when there are no images
    (no folder, or a folder without image files).

    Images are optional (scoring needs only annotations), but when they are there they must
    match the annotations one to one: never pad, never truncate.
    """
    if not frames:
        return []
    if len(frames) != count:
        raise LongtrackError(f"{where}: {len(frames)} images but {count} {what}")
    return frames


def first_frame_size(frames: list[Path]) -> tuple[int, int] | None:
    """Image size from the first frame's header, or None without frames."""
    return image_size(frames[0]) if frames else None


def first_box_only(name: str, frames: list[Path], first_box, image_size, meta: dict) -> Sequence:
    """A test-split sequence whose annotation gives the first box only (GOT-10k, TrackingNet): that
    frame is labelled; the others are unknown, not absent."""
    n = len(frames)
    boxes = np.full((n, 4), np.nan)
    boxes[0] = first_box
    labelled = np.zeros(n, dtype=bool)
    labelled[0] = True
    meta["annotated"] = "first frame only"
    return Sequence(name=name, frames=frames, boxes=boxes, absent=np.zeros(n, dtype=bool), labelled=labelled,
                    image_size=image_size, meta=meta)


def no_sequences(dataset: str, root: Path, layout: str) -> LongtrackError:
    return LongtrackError(f"no {dataset} sequences found under {root}; expected {layout}")


def split_error(dataset: str, split: str, choices: str) -> LongtrackError:
    return LongtrackError(f"{dataset}: unknown split {split!r}; choose {choices}")
