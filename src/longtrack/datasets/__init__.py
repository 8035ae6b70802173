"""Dataset readers: one module per benchmark format, all yielding ``Sequence``.

``load_dataset(name, root)`` is the one entry point; the registry below maps each benchmark
name to its reader's ``index`` function (imported lazily, as ``"module:function"``).
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import LongtrackError
from .sequence import Sequence

__all__ = ["Sequence", "DATASET_NAMES", "DATASETS", "DatasetSpec", "load_dataset", "dataset_spec"]


@dataclass(frozen=True)
class DatasetSpec:
    """A benchmark: its name, the reader's ``index(root, split, **options)`` and its splits."""

    name: str
    index: str  # "longtrack.datasets.<module>:<function>"
    description: str
    splits: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)

    def entries(self, root: Path, split: str | None):
        module_name, attr = self.index.split(":")
        index = getattr(importlib.import_module(module_name), attr)
        return index(root, split, **self.options)


_M = "longtrack.datasets."
DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("lasot", _M + "lasot:index", "LaSOT (dataset or evaluation-toolkit layout)", ("test", "train", "all")),
    DatasetSpec("lasot_ext", _M + "lasot:index_ext", "LaSOT extension subset (LaSOT layouts)", ("test", "train", "all")),
    DatasetSpec("tlp", _M + "tlp:index", "TLP (groundtruth_rect.txt with frame and isLost columns)"),
    DatasetSpec("oxuva", _M + "oxuva:index", "OxUvA (annotation + task CSV, ~1 Hz labels)", ("dev", "test")),
    DatasetSpec("votlt2018", _M + "vot:index", "VOT-LT 2018 (VOT sequence folders)", (), {"challenge": "votlt2018"}),
    DatasetSpec("votlt2019", _M + "vot:index", "VOT-LT 2019 (VOT sequence folders)", (), {"challenge": "votlt2019"}),
    DatasetSpec("votlt2020", _M + "vot:index", "VOT-LT 2020 (VOT sequence folders)", (), {"challenge": "votlt2020"}),
    DatasetSpec("trackingnet", _M + "trackingnet:index", "TrackingNet (TEST and TRAIN_i chunks)", ("test", "train", "TRAIN_<i>")),
    DatasetSpec("got10k", _M + "got10k:index", "GOT-10k (list.txt, .label files, meta_info.ini)", ("val", "test", "train")),
    DatasetSpec("otb", _M + "otb:index", "OTB-100 (groundtruth_rect.txt, img/)"),
    DatasetSpec("uav", _M + "otb:index_uav", "UAV123 / UAV20L (anno/<version>/, data_seq/UAV123/)", ("UAV123", "UAV20L")),
    DatasetSpec("synthetic", _M + "synthetic:index", "the synthetic long-term world (LaSOT layout + meta.json)", ("train", "val", "test")),
)}
DATASET_NAMES = tuple(DATASETS)


def dataset_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise LongtrackError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")
    return DATASETS[name]


def load_dataset(name: str, root: str | Path, split: str | None = None,
                 sequences: Iterable[str] | str | None = None, *,
                 progress: bool | None = None) -> list[Sequence]:
    """Read a benchmark's sequences from ``root`` (the folder the user has; see docs/datasets.md).

    Args:
        name: one of ``DATASET_NAMES``.
        root: the benchmark folder.
        split: the benchmark's split (None: its evaluation default, see docs/datasets.md).
        sequences: names to load (an iterable or a comma-separated string); None loads all.
        progress: show a progress bar (None: only on a terminal).

    Returns the sequences in the benchmark's own order (its list file where it has one).
    Unknown names, a missing root and any damaged file raise ``LongtrackError``.
    """
    spec = dataset_spec(name)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise LongtrackError(f"{name}: root folder {root} does not exist (datasets: {', '.join(DATASET_NAMES)})")
    entries = spec.entries(root, split)
    if sequences is not None:
        wanted = [s.strip() for s in sequences.split(",")] if isinstance(sequences, str) else list(sequences)
        by_name = {e.name: e for e in entries}
        missing = [s for s in wanted if s not in by_name]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise LongtrackError(f"{name}: {len(missing)} sequence(s) not found under {root}: {shown} "
                                 f"({len(entries)} available, e.g. {', '.join(e.name for e in entries[:3])})")
        entries = [by_name[s] for s in dict.fromkeys(wanted)]
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    return [e.load() for e in tqdm(entries, desc=f"loading {name}", unit="seq", disable=not show or len(entries) < 2)]
