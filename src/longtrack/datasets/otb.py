"""OTB-100 and UAV123 / UAV20L: one x,y,w,h line per frame, separators as the files have them.

OTB (``<seq>/groundtruth_rect.txt``, ``<seq>/img/0001.jpg``):

* comma, tab or space separators, CRLF line endings, trailing blank lines;
* two-target sequences have ``groundtruth_rect.1.txt`` / ``.2.txt`` and are named
  ``<seq>-1`` / ``<seq>-2`` (Jogging, Skating2; Human4's empty ``.1`` file is skipped, as
  the got10k toolkit does, leaving ``Human4-2``) -- the names published raw results use;
* sequences whose annotations cover only part of the image folder, with the frame ranges of
  the benchmark's configuration (OTB's ``configSeqs``, also in pytracking's otbdataset.py).

UAV (``anno/UAV123/<seq>.txt``, ``data_seq/UAV123/<folder>/000001.jpg``): ``NaN,NaN,NaN,NaN``
marks frames where the target is out of view (absent); the UAV123 sub-sequences ``<video>_<k>``
share their video's folder with the frame ranges of the benchmark's configuration.
"""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import LongtrackError
from .annotation_text import read_number_table, read_text
from .frame_files import frames_in_range, list_frames
from .reader_base import SequenceEntry, check_frames, first_frame_size, natural_key, no_sequences, split_error
from .sequence import Sequence
from .uav_ranges import UAV123_SUBSEQUENCES

OTB_LAYOUT = "<seq>/groundtruth_rect.txt (or groundtruth_rect.<k>.txt) with <seq>/img/"
UAV_LAYOUT = "anno/<version>/<seq>.txt and data_seq/UAV123/<video>/"
UAV_VERSIONS = ("UAV123", "UAV20L")

# name -> (first frame file number, last frame file number, annotation lines to skip at the start).
# Tiger1's first 5 frames are not used for OPE (OTB's initOmit; pytracking does the same).
OTB_FRAME_RANGES = {
    "David": (300, 770, 0), "BlurCar1": (247, 988, 0), "BlurCar3": (3, 359, 0),
    "BlurCar4": (18, 397, 0), "Football1": (1, 74, 0), "Freeman3": (1, 460, 0),
    "Freeman4": (1, 283, 0), "Diving": (1, 215, 0), "Tiger1": (6, 354, 5),
}
_GT_FILE = re.compile(r"groundtruth_rect(?:\.(\d+))?\.txt")


def index(root: Path, split: str | None = None) -> list[SequenceEntry]:
    if split is not None:
        raise split_error("otb", split, "none (OTB has no splits)")
    seq_root = _sequence_root(root)
    entries = []
    for folder in sorted((p for p in seq_root.iterdir() if p.is_dir()), key=lambda p: natural_key(p.name)):
        files = sorted((f for f in folder.iterdir() if _GT_FILE.fullmatch(f.name)), key=lambda f: f.name)
        numbered = [f for f in files if _GT_FILE.fullmatch(f.name).group(1)]
        if numbered and len(numbered) > 1:
            # Several targets: an empty numbered file is a known quirk (Human4), not a sequence.
            numbered = [f for f in numbered if read_text(f).strip()]
        for f in (numbered or files):
            k = _GT_FILE.fullmatch(f.name).group(1)
            name = f"{folder.name}-{k}" if k else folder.name
            entries.append(SequenceEntry(name, partial(load_otb_sequence, folder, f, name)))
    if not entries:
        raise no_sequences("otb", root, OTB_LAYOUT)
    return entries


def _sequence_root(root: Path) -> Path:
    """``root`` or its ``sequences/`` folder (the layout of the shared OTB fixture)."""
    if not any(root.glob("*/groundtruth_rect*.txt")) and (root / "sequences").is_dir():
        return root / "sequences"
    return root


def load_otb_sequence(folder: Path, gt_path: Path, name: str) -> Sequence:
    boxes = read_number_table(gt_path, 4, allow_nan=False, what="values (x,y,w,h)")
    frames = list_frames(folder / "img")
    meta = {"path": str(gt_path)}
    first, last, skip = OTB_FRAME_RANGES.get(folder.name, (None, None, 0))
    if skip:
        if len(boxes) != last:
            raise LongtrackError(f"{gt_path}: {folder.name} has {last} annotated frames, the file has {len(boxes)} lines")
        boxes = boxes[skip:]
    if first is not None:
        meta["frame_range"] = (first, last)
        if frames and len(frames) != len(boxes):
            frames = frames_in_range(frames, first, last, folder / "img")
    frames = check_frames(frames, len(boxes), folder / "img", f"lines in {gt_path.name}" + (
        f" after skipping {skip}" if skip else ""))
    return Sequence(name=name, frames=frames, boxes=boxes, absent=np.zeros(len(boxes), dtype=bool),
                    image_size=first_frame_size(frames), meta=meta)


def index_uav(root: Path, split: str | None = None) -> list[SequenceEntry]:
    version = split or "UAV123"
    if version not in UAV_VERSIONS:
        raise split_error("uav", version, ", ".join(UAV_VERSIONS))
    anno_dir = root / "anno" / version
    files = sorted(anno_dir.glob("*.txt"), key=lambda p: natural_key(p.stem)) if anno_dir.is_dir() else []
    if not files:
        raise no_sequences(f"uav ({version})", root, UAV_LAYOUT)
    return [SequenceEntry(f.stem, partial(load_uav_sequence, root, f, version)) for f in files]


def load_uav_sequence(root: Path, gt_path: Path, version: str) -> Sequence:
    name = gt_path.stem
    boxes = read_number_table(gt_path, 4, allow_nan=True, what="values (x,y,w,h)")
    nan = np.isnan(boxes)
    partial_rows = np.flatnonzero(nan.any(axis=1) & ~nan.all(axis=1))
    if len(partial_rows):
        raise LongtrackError(f"{gt_path}:{partial_rows[0] + 1}: a box is either four numbers or four NaN")
    folder_name, first, last = name, None, None
    if version == "UAV123" and name in UAV123_SUBSEQUENCES:
        folder_name, first, last = UAV123_SUBSEQUENCES[name]
    folder = root / "data_seq" / "UAV123" / folder_name
    frames = list_frames(folder)
    meta = {"path": str(gt_path), "video": folder_name, "version": version}
    if first is not None:
        meta["frame_range"] = (first, last)
        if frames:
            frames = frames_in_range(frames, first, last, folder)
    frames = check_frames(frames, len(boxes), folder, f"lines in {gt_path.name}")
    return Sequence(name=name, frames=frames, boxes=boxes, absent=nan.all(axis=1),
                    image_size=first_frame_size(frames), meta=meta)
