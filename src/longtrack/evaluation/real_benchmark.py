"""The real-video benchmark of docs/benchmark-real.md: sequences read from one or more dataset
roots, each with its own reader (``--data DATASET=DIR``), tracked and scored as one set.

By default: ``../shared/data/real-val`` (LaSOT layout, target-absent frames labelled) and
``../shared/data/real`` read twice, as OTB (Crossing, Skiing) and as VOT (bag), paths relative
to the repository root the page is made from. Whatever a sequence's layout, its results are
written in the LaSOT result format and scored with the LaSOT toolkit's conventions
(``RESULT_DATASET``): one protocol, so that every sequence counts the same in the means.

The benchmark id names the data by content (sequence names, lengths, ground truth, absence),
so a result folder or kept row made on other data is never mixed in.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets.sequence import Sequence
from ..errors import LongtrackError

RESULT_DATASET = "lasot"  # result format and scoring of every sequence, whatever its reader
DEFAULT_PARTS = (("lasot", "../shared/data/real-val"), ("otb", "../shared/data/real"),
                 ("votlt2020", "../shared/data/real"))


@dataclass(frozen=True)
class DataPart:
    """One ``--data DATASET=DIR``: the reader and the root it reads, and what it found there."""

    dataset: str
    root: Path
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class RealBenchmark:
    parts: tuple[DataPart, ...]
    digest: str  # of the ground truth of every sequence, in order

    @property
    def id(self) -> str:
        return f"real-{self.digest[:8]}"

    @property
    def dataset(self) -> str:
        return RESULT_DATASET

    @property
    def title(self) -> str:
        return "every tracker on real videos"

    @property
    def standard(self) -> bool:
        return [(p.dataset, str(p.root)) for p in self.parts] == [(d, r) for d, r in DEFAULT_PARTS]

    def describe(self, sequences: list[Sequence]) -> str:
        """The page's paragraph on the data: every part, its sequences, frames and absences."""
        by_name = {s.name: s for s in sequences}
        lines = []
        for part in self.parts:
            seqs = [by_name[n] for n in part.names]
            frames, absent = sum(len(s) for s in seqs), sum(int(s.absent.sum()) for s in seqs)
            lines.append(f"| `{part.root}` | {part.dataset} | {len(seqs)} | {frames} | {absent} | "
                         f"{', '.join(part.names)} |")
        total = sum(len(s) for s in sequences)
        absent = sum(int(s.absent.sum()) for s in sequences)
        reappear = sum(int(np.sum(~s.absent[1:] & s.absent[:-1])) for s in sequences)
        with_absence = [s.name for s in sequences if s.absent.any()]
        extra = "" if self.standard else " **Not the default data** (`--data` was given)."
        polygons = [s.name for s in sequences if s.polygons is not None]
        if polygons:
            extra = (f" Polygon ground truth ({', '.join(polygons)}) is scored as its axis-aligned bounding "
                     "box." + extra)
        return "\n".join([
            f"`{self.id}`: {len(sequences)} real sequences, {total} frames, the target absent (out of view "
            f"or fully occluded) in {absent} of them ({100 * absent / max(total, 1):.1f}%, all in "
            f"{', '.join(with_absence) or 'none'}), {reappear} re-appearances after an absence. Every tracker "
            f"sees the same frames; no weights or setting of this project was trained or tuned on them.{extra}", "",
            "| Root | Read as | Sequences | Frames | Absent | Names |", "|---|---|---:|---:|---:|---|", *lines])

    def sources_line(self) -> str:
        parts = "; ".join(f"`{p.root}` read as {p.dataset}" for p in self.parts)
        return (f"Sequences: {parts}. Every sequence's results are in the LaSOT result format whatever its "
                "layout, scored with the LaSOT toolkit's conventions (those of `longtrack score --dataset "
                f"{RESULT_DATASET}`) per sequence, then averaged over all sequences.")


def parse_parts(items: list[str] | None) -> list[tuple[str, str]]:
    """``["lasot=DIR", ...]`` -> ``[("lasot", "DIR"), ...]``; None -> ``DEFAULT_PARTS``."""
    from ..datasets import DATASET_NAMES

    if not items:
        return list(DEFAULT_PARTS)
    out = []
    for item in items:
        dataset, sep, root = item.partition("=")
        if not sep or not root:
            raise LongtrackError(f"--data must look like DATASET=DIR, got {item!r}")
        if dataset not in DATASET_NAMES:
            raise LongtrackError(f"--data {item}: unknown dataset {dataset!r}; choose one of: "
                                 f"{', '.join(DATASET_NAMES)}")
        out.append((dataset, root))
    return out


def load_real_benchmark(parts: list[tuple[str, str]], progress: bool = False
                        ) -> tuple[RealBenchmark, list[Sequence]]:
    """Read every part; sequence names must be unique across parts (they name the result files)."""
    from ..datasets import load_dataset

    loaded, sequences, seen = [], [], {}
    for dataset, root in parts:
        seqs = load_dataset(dataset, root, progress=progress)
        if not seqs:
            raise LongtrackError(f"--data {dataset}={root}: no sequences there")
        for seq in seqs:
            if seq.name in seen:
                raise LongtrackError(f"sequence {seq.name} is in both {seen[seq.name]} and {dataset}={root}; "
                                     "names must be unique across --data roots")
            seen[seq.name] = f"{dataset}={root}"
            if not seq.labelled.all():
                raise LongtrackError(f"--data {dataset}={root}: {seq.name} is not annotated in every frame; "
                                     "the real benchmark scores dense ground truth only")
        loaded.append(DataPart(dataset, Path(root), tuple(s.name for s in seqs)))
        sequences += seqs
    return RealBenchmark(tuple(loaded), _digest(sequences)), sequences


def _digest(sequences: list[Sequence]) -> str:
    digest = hashlib.sha256()
    for seq in sequences:
        digest.update(f"{seq.name}\0{len(seq)}\0".encode("utf-8"))
        digest.update(np.ascontiguousarray(np.nan_to_num(seq.boxes, nan=-1.0), dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(seq.absent, dtype=bool).tobytes())
    return digest.hexdigest()
