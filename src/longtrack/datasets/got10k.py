"""GOT-10k: ``<split>/list.txt`` and one folder per sequence holding ``groundtruth.txt``
(x,y,w,h), ``absence.label`` (1 = absent), ``cover.label`` (visible fraction bin 0..8),
``cut_by_image.label``, ``meta_info.ini`` (``[METAINFO]`` then ``key: value`` lines, with
``resolution: (W, H)``) and the frames ``00000001.jpg``....

The test split ships only the first frame's box and no label files: such sequences are labelled
at frame 1 only (boxes NaN elsewhere), never padded.
"""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import LongtrackError
from .annotation_text import read_flags, read_number_table, read_text
from .frame_files import list_frames
from .reader_base import SequenceEntry, check_frames, first_box_only, first_frame_size, no_sequences, read_name_list, split_error
from .sequence import Sequence

SPLITS = ("val", "test", "train")
LAYOUT = "list.txt and <seq>/groundtruth.txt, or val/ test/ train/ folders holding them"
_RESOLUTION = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)")


def index(root: Path, split: str | None = None) -> list[SequenceEntry]:
    folder = _split_folder(root, split)
    names = read_name_list(folder / "list.txt")
    return [SequenceEntry(n, partial(load_sequence, folder / n, folder.name)) for n in names]


def _split_folder(root: Path, split: str | None) -> Path:
    """``root/<split>`` when it exists, else ``root`` itself when it holds ``list.txt``; without a
    split, ``val`` (the split with public ground truth, the got10k toolkit's default) or the only
    split present."""
    if split is not None and split not in SPLITS:
        raise split_error("got10k", split, ", ".join(SPLITS))
    if split is not None and (root / split / "list.txt").is_file():
        return root / split
    if (root / "list.txt").is_file():
        return root
    present = [s for s in SPLITS if (root / s / "list.txt").is_file()]
    if split is None and present:
        return root / ("val" if "val" in present else present[0])
    raise no_sequences("got10k", root, LAYOUT)


def load_sequence(folder: Path, split_name: str = "") -> Sequence:
    name = folder.name
    gt_path = folder / "groundtruth.txt"
    boxes = read_number_table(gt_path, 4, allow_nan=False, what="values (x,y,w,h)")
    frames = list_frames(folder, (".jpg",))
    meta = {"path": str(folder), "split": split_name}
    info = folder / "meta_info.ini"
    if info.is_file():
        meta.update(read_meta_info(info))
    image_size = meta.get("resolution") or first_frame_size(frames or [])

    if len(boxes) == 1 and frames is not None and len(frames) > 1 and not (folder / "absence.label").exists():
        return first_box_only(name, frames, boxes[0], image_size, meta)  # the test split

    n = len(boxes)
    attributes = {}
    absent = np.zeros(n, dtype=bool)
    label_files = {"absence": (0, 1), "cover": tuple(range(9)), "cut_by_image": (0, 1)}
    for label, allowed in label_files.items():
        path = folder / f"{label}.label"
        if not path.is_file():
            if split_name != "test":
                raise LongtrackError(f"{path}: label file missing (GOT-10k {split_name or 'sequences'} have "
                                     f"absence.label, cover.label and cut_by_image.label)")
            continue
        values = read_flags(path, length=n, allowed=allowed, what=f"{label} labels")
        attributes[label] = values.astype(bool) if allowed == (0, 1) else values
    if "absence" in attributes:
        absent = attributes.pop("absence")
    frames = check_frames(frames, n, folder, f"lines in {gt_path.name}")
    return Sequence(name=name, frames=frames, boxes=boxes, absent=absent, attributes=attributes,
                    image_size=image_size, meta=meta)


def read_meta_info(path: Path) -> dict:
    """``meta_info.ini``: ``key: value`` lines after ``[METAINFO]``; ``resolution`` -> (W, H)."""
    info: dict = {}
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.strip()
        if not line or line.startswith(("[", "#", ";")):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise LongtrackError(f"{path}:{lineno}: expected 'key: value', got {line[:40]!r}")
        info[key.strip()] = value.strip()
    if "resolution" in info:
        match = _RESOLUTION.fullmatch(info["resolution"])
        if not match:
            raise LongtrackError(f"{path}: resolution must look like (W, H), got {info['resolution']!r}")
        info["resolution"] = (int(match.group(1)), int(match.group(2)))
    return info
