"""LaSOT and LaSOT-ext, in both layouts a user may have.

* The dataset itself: ``<class>/<class>-<n>/groundtruth.txt`` (x,y,w,h per frame),
  ``full_occlusion.txt`` and ``out_of_view.txt`` (one comma-separated line of 0/1),
  ``nlp.txt`` (the language description), ``img/00000001.jpg``...; absent = full occlusion or
  out of view.
* The evaluation toolkit's folder (HengLan/LaSOT_Evaluation_Toolkit): ``annos/<seq>.txt`` and
  ``annos/absent/<seq>.txt`` (one 0/1 per line); images are used when the dataset layout sits
  in the same root.

An optional ``testing_set.txt`` at the root selects the test split (and gives the order every
mean uses); ``training_set.txt`` the train split.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from ..errors import LongtrackError
from .annotation_text import read_flags, read_number_table, read_text
from .frame_files import list_frames
from .reader_base import (SequenceEntry, check_frames, first_frame_size, natural_key, no_sequences,
                          read_name_list, split_error)
from .sequence import Sequence

LAYOUT = ("<class>/<class>-<n>/groundtruth.txt (+ full_occlusion.txt, out_of_view.txt, img/) "
          "or annos/<seq>.txt + annos/absent/<seq>.txt (evaluation toolkit)")
SPLITS = ("test", "train", "all")


def class_of(name: str) -> str:
    """LaSOT names are ``<class>-<n>``: ``airplane-13`` -> ``airplane``."""
    return name.rsplit("-", 1)[0]


def index(root: Path, split: str | None = None, dataset: str = "lasot") -> list[SequenceEntry]:
    toolkit = (root / "annos").is_dir()
    found = _toolkit_names(root) if toolkit else _dataset_names(root)
    names = _select_split(root, split, found, dataset)
    if not names:
        raise no_sequences(dataset, root, LAYOUT)
    load = _load_toolkit if toolkit else load_sequence_dir
    return [SequenceEntry(n, partial(load, root, n)) for n in names]


def _dataset_names(root: Path) -> set[str]:
    return {p.parent.name for p in root.glob("*/*/groundtruth.txt") if class_of(p.parent.name) == p.parent.parent.name}


def _toolkit_names(root: Path) -> set[str]:
    return {p.stem for p in (root / "annos").glob("*.txt")}


def _select_split(root: Path, split: str | None, found: set[str], dataset: str) -> list[str]:
    test_list = root / "testing_set.txt"
    train_list = root / "training_set.txt"
    if split is None:
        split = "test" if test_list.is_file() else "all"
    if split == "all":
        return sorted(found, key=natural_key)
    if split not in ("test", "train"):
        raise split_error(dataset, split, ", ".join(SPLITS))
    if split == "test" or train_list.is_file():
        list_file = test_list if split == "test" else train_list
        if not list_file.is_file():
            raise LongtrackError(f"{dataset}: split {split!r} needs {list_file}")
        names = read_name_list(list_file)
        missing = [n for n in names if n not in found]
        if missing:
            raise LongtrackError(
                f"{list_file}: {len(missing)} listed sequences have no annotations under {root} "
                f"(first: {missing[0]})")
        return names
    if not test_list.is_file():  # train = everything that is not in the test list
        raise LongtrackError(f"{dataset}: split 'train' needs {train_list} or {test_list}")
    test = set(read_name_list(test_list))
    return sorted((n for n in found if n not in test), key=natural_key)


def load_sequence_dir(root: Path, name: str) -> Sequence:
    """One sequence in the dataset layout: ``root/<class>/<name>/``."""
    folder = root / class_of(name) / name
    gt_path = folder / "groundtruth.txt"
    boxes = read_number_table(gt_path, 4, allow_nan=True, what="values (x,y,w,h)")
    n = len(boxes)
    full_occlusion = read_flags(folder / "full_occlusion.txt", length=n, what="full-occlusion flags")
    out_of_view = read_flags(folder / "out_of_view.txt", length=n, what="out-of-view flags")
    frames = check_frames(list_frames(folder / "img"), n, folder / "img", f"lines in {gt_path.name}")
    meta = {"class": class_of(name), "path": str(folder)}
    nlp = folder / "nlp.txt"
    if nlp.is_file():
        meta["nlp"] = read_text(nlp).strip()
    return Sequence(
        name=name, frames=frames, boxes=boxes,
        absent=(full_occlusion == 1) | (out_of_view == 1),
        attributes={"full_occlusion": full_occlusion.astype(bool), "out_of_view": out_of_view.astype(bool)},
        image_size=first_frame_size(frames), meta=meta)


def _load_toolkit(root: Path, name: str) -> Sequence:
    gt_path = root / "annos" / f"{name}.txt"
    boxes = read_number_table(gt_path, 4, allow_nan=True, what="values (x,y,w,h)")
    absent_path = root / "annos" / "absent" / f"{name}.txt"
    if not absent_path.is_file():
        raise LongtrackError(f"{absent_path}: absence file missing for {gt_path}")
    absent = read_flags(absent_path, length=len(boxes), what="absence flags")
    folder = root / class_of(name) / name
    frames = check_frames(list_frames(folder / "img"), len(boxes), folder / "img", f"lines in {gt_path}")
    return Sequence(
        name=name, frames=frames, boxes=boxes, absent=absent == 1,
        image_size=first_frame_size(frames),
        meta={"class": class_of(name), "path": str(gt_path)})


def index_ext(root: Path, split: str | None = None) -> list[SequenceEntry]:
    """LaSOT-ext (the 150-sequence extension subset): same layouts, every sequence is a test one."""
    return index(root, split, dataset="lasot_ext")

