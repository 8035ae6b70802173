"""The fixed synthetic long-term benchmark ``synth-lt``: sequences ``0..num-1`` of the ``lt``
preset's test split, written once (LaSOT layout) into a cache folder and reused.

The folder name carries the generator version, so numbers made with another version never
mix: ``~/.cache/longtrack/synth-lt-v<version>`` (``$XDG_CACHE_HOME`` is honoured). Quick checks
may use another preset, frame size or length; their benchmark id then says so.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LongtrackError
from ..fileio import atomic_write_text

STANDARD_PRESET = "lt"
SPLIT = "test"


@dataclass(frozen=True)
class SynthBenchmark:
    """Which sequences: ``preset``'s test split, indices ``0..num-1``, optional overrides."""

    num: int = 10
    preset: str = STANDARD_PRESET
    size: tuple[int, int] | None = None  # (width, height); None = the preset's
    num_frames: int | None = None

    @property
    def standard(self) -> bool:
        return self.preset == STANDARD_PRESET and self.size is None and self.num_frames is None

    @property
    def id(self) -> str:
        """``synth-lt-v1.0.0``; non-standard variants append their overrides."""
        from ..synth import GENERATOR_VERSION

        text = f"synth-{self.preset}-v{GENERATOR_VERSION}"
        if self.size is not None:
            text += f"-{self.size[0]}x{self.size[1]}"
        if self.num_frames is not None:
            text += f"-f{self.num_frames}"
        return text

    @property
    def dataset(self) -> str:
        """The result format and scoring of its sequences."""
        return "synthetic"

    @property
    def title(self) -> str:
        return "every tracker on the synthetic long-term test set"

    def describe(self, sequences) -> str:
        """The page's paragraph on the data: sequences, frames, absences, distractors."""
        frames = sum(len(s) for s in sequences)
        absent = sum(int(s.absent.sum()) for s in sequences)
        reappear = sum(int(np.sum(~s.absent[1:] & s.absent[:-1])) for s in sequences)
        distractors = sum(sum(o.get("role") == "distractor" for o in s.meta.get("objects", [])) for s in sequences)
        extra = "" if self.standard else (
            f" **Not the standard benchmark**: preset `{self.preset}`"
            + (f", size {self.size[0]}x{self.size[1]}" if self.size else "")
            + (f", {self.num_frames} frames per sequence" if self.num_frames else "") + ".")
        return (f"`{self.id}`: sequences 0..{self.num - 1} of the synthetic world's test split, "
                f"preset `{self.preset}` (see docs/synthetic.md): {len(sequences)} sequences, "
                f"{frames} frames, target absent (out of view or fully occluded) in {absent} of them "
                f"({100 * absent / max(frames, 1):.1f}%), {reappear} re-appearances after an absence, "
                f"{distractors} same-class distractors in all. Every tracker sees the same frames.{extra}")

    def sources_line(self, root: Path) -> str:
        return (f"Sequences: `{root}` (written by `longtrack benchmark-page` on first use); results in the "
                "LaSOT result format, scored with `longtrack score --dataset synthetic`.")


def default_cache_root(benchmark: SynthBenchmark) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "longtrack" / benchmark.id


def ensure_written(benchmark: SynthBenchmark, root: Path, progress: bool = True) -> list[str]:
    """Write the benchmark's missing sequences under ``root``; return their names in index order.

    A sequence folder appears whole or not at all (``write_lasot``), so an interrupted call is
    simply repeated. A folder written by another generator version or preset is an error.
    """
    from tqdm import tqdm

    from ..synth import make_sequence, write_lasot

    if benchmark.num < 1:
        raise LongtrackError(f"--num must be 1 or more, got {benchmark.num}")
    root = Path(root).expanduser()
    sequences = [make_sequence(benchmark.preset, SPLIT, i, size=benchmark.size, num_frames=benchmark.num_frames)
                 for i in range(benchmark.num)]
    missing = [s for s in sequences if not _check_existing(root, s)]
    total = sum(len(s) for s in missing)
    if missing:
        with tqdm(total=total, unit="frame", desc=f"writing {benchmark.id}", disable=not progress,
                  file=sys.stderr) as bar:
            for seq in missing:
                bar.set_postfix_str(seq.name)
                write_lasot(seq, root, progress=bar.update)
    names = [s.name for s in sequences]
    _update_list(root / "list.txt", names)
    return names


def _check_existing(root: Path, seq) -> bool:
    """True when ``seq`` is already on disk as this generator would write it."""
    folder = root / seq.class_name / seq.name
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LongtrackError(f"{meta_path}: unreadable ({exc}); delete {folder} to rewrite it") from None
    expected = seq.meta()
    for key in ("version", "preset", "split", "index", "seed", "size", "num_frames"):
        if meta.get(key) != expected[key]:
            raise LongtrackError(f"{folder}: written with {key}={meta.get(key)!r}, this benchmark needs "
                                 f"{expected[key]!r}; use another --root or delete the folder")
    return True


def _update_list(path: Path, names: list[str]) -> None:
    """``list.txt`` holds the longest index prefix written so far (a smaller ``--num`` keeps it)."""
    old = path.read_text(encoding="utf-8").split() if path.is_file() else []
    if old[:len(names)] == names and len(old) >= len(names):
        return
    atomic_write_text(path, "".join(f"{n}\n" for n in names))
    os.chmod(path, 0o644)
