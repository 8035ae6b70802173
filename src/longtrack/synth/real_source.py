"""Where the ``lt-real`` world's appearance comes from: the annotated sequences of a training root.

A source root is a LaSOT-layout folder (``<class>/<class>-<n>/img/``, ``groundtruth.txt``, flag
files; ``../shared/data/real-train`` is one) or a GOT-10k one (``list.txt`` or ``train/list.txt``),
read through the project's dataset readers. Evaluation sets are refused
(``longtrack.datasets.evaluation_only``). The default root is ``../shared/data/real-train`` beside
the repository, found only when the package runs from a checkout that has it.

The index keeps, per sequence, the frames whose box is usable as a cut-out: present, inside the
frame, at least ``MIN_SIDE`` pixels a side, and among the larger half of such boxes (small boxes
would be enlarged the most). It is made once per root and process.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LongtrackError

MIN_SIDE = 8.0  # pixels: smaller boxes hold too little of the object to enlarge
REPOSITORY = Path(__file__).resolve().parents[3]
DEFAULT_ROOT = REPOSITORY.parent / "shared" / "data" / "real-train"

_LOCK = threading.Lock()
_INDEXES: dict[str, "SourceIndex"] = {}


@dataclass(frozen=True)
class SourceSequence:
    """One real sequence: frame paths, boxes (N, 4) xywh, and which frames can be cut from."""

    name: str
    class_name: str
    frames: tuple[str, ...]
    boxes: np.ndarray
    present: np.ndarray  # (N,) bool: the box is a real box (not absent, positive size)
    usable: np.ndarray   # indices of frames whose box may be cut out, ascending

    def __len__(self) -> int:
        return len(self.frames)


@dataclass(frozen=True)
class SourceIndex:
    root: Path
    sequences: tuple[SourceSequence, ...]   # sorted by (class, name): a deterministic order
    by_class: dict[str, tuple[SourceSequence, ...]]

    @property
    def classes(self) -> list[str]:
        return sorted(self.by_class)


def resolve_source_root(root) -> Path:
    """The source root as a resolved folder (``None``: the repository's ``../shared/data/real-train``)."""
    if root is None:
        if not DEFAULT_ROOT.is_dir():
            raise LongtrackError("the lt-real preset needs a source root (--source-root DIR, a LaSOT or GOT-10k "
                                 f"training root); the default {DEFAULT_ROOT} does not exist")
        root = DEFAULT_ROOT
    path = Path(root).expanduser()
    if not path.is_dir():
        raise LongtrackError(f"lt-real source root {path} does not exist or is not a folder")
    return path.resolve()


def load_source_index(root=None) -> SourceIndex:
    """The index of a source root (cached per resolved path for the life of the process)."""
    from ..datasets.evaluation_only import refuse_for_training

    path = resolve_source_root(root)
    refuse_for_training(path, "lt-real source root")
    key = str(path)
    with _LOCK:
        if key not in _INDEXES:
            _INDEXES[key] = _build_index(path)
        return _INDEXES[key]


def _build_index(root: Path) -> SourceIndex:
    sequences = []
    for seq in _read_sequences(root):
        entry = _index_sequence(seq)
        if entry is not None:
            sequences.append(entry)
    if not sequences:
        raise LongtrackError(f"lt-real source root {root}: no sequence has a box of at least "
                             f"{MIN_SIDE:.0f}x{MIN_SIDE:.0f} pixels inside its frame")
    sequences.sort(key=lambda s: (s.class_name, _natural(s.name)))
    by_class: dict[str, list[SourceSequence]] = {}
    for s in sequences:
        by_class.setdefault(s.class_name, []).append(s)
    return SourceIndex(root, tuple(sequences), {k: tuple(v) for k, v in by_class.items()})


def _read_sequences(root: Path):
    """Every sequence of the root, through the reader its layout calls for."""
    from ..datasets import load_dataset

    lasot = any(p.parent.name.rsplit("-", 1)[0] == p.parent.parent.name for p in root.glob("*/*/groundtruth.txt"))
    if lasot:
        has_lists = (root / "testing_set.txt").is_file() or (root / "training_set.txt").is_file()
        return load_dataset("lasot", root, split="train" if has_lists else "all")
    if (root / "list.txt").is_file() or (root / "train" / "list.txt").is_file():
        split = "train" if (root / "train" / "list.txt").is_file() else None
        return load_dataset("got10k", root, split=split)
    raise LongtrackError(f"lt-real source root {root} holds no sequences; expected the LaSOT layout "
                         "(<class>/<class>-<n>/groundtruth.txt, img/) or GOT-10k (list.txt or train/list.txt)")


def _index_sequence(seq) -> SourceSequence | None:
    if not seq.frames:
        return None
    boxes = np.asarray(seq.boxes, dtype=np.float64)
    finite = np.isfinite(boxes).all(axis=1)
    safe = np.where(finite[:, None], boxes, 0.0)
    present = finite & ~seq.absent & (safe[:, 2] > 0) & (safe[:, 3] > 0)
    width, height = seq.image_size or _image_size(seq.frames[0])
    inside = (safe[:, 0] >= -1) & (safe[:, 1] >= -1) & (safe[:, 0] + safe[:, 2] <= width + 1) \
        & (safe[:, 1] + safe[:, 3] <= height + 1)
    big = np.minimum(safe[:, 2], safe[:, 3]) >= MIN_SIDE
    usable = np.nonzero(present & inside & big)[0]
    if len(usable) == 0:
        return None
    area = safe[usable, 2] * safe[usable, 3]
    usable = usable[area >= np.median(area)]  # the larger half: least enlarged
    class_name = seq.meta.get("class") or seq.meta.get("object_class") or "object"
    return SourceSequence(seq.name, _clean_class(class_name), tuple(str(p) for p in seq.frames), safe,
                          present, usable)


def _image_size(path) -> tuple[int, int]:
    from ..video import read_image

    image = read_image(path)
    return image.shape[1], image.shape[0]


def _clean_class(name: str) -> str:
    """A class name usable as a LaSOT folder name (``sea lion`` -> ``sea_lion``)."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_") or "object"


def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]
