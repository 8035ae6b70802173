"""Each benchmark's own result format, read and written (atomically).

| dataset | files per sequence (under the tracker's folder) |
|---|---|
| lasot, lasot_ext, tlp, otb, uav, trackingnet, synthetic | ``<seq>.txt`` (x,y,w,h per frame, comma) |
| got10k | ``<seq>/<seq>_001.txt`` (``%.3f``; ``_002``... repetitions) + ``<seq>/<seq>_time.txt`` |
| votlt2018/2019/2020 | ``longterm/<seq>/<seq>_001.txt`` (``1`` = init, ``0`` = empty, x,y,w,h) + ``_001_confidence.value`` + ``_001_time.value`` |
| oxuva | ``<video>_<object>.csv`` (video,object,frame_num,present,score,xmin,xmax,ymin,ymax; relative) |

What a format has no column for is written beside it as one-value-per-line files named after the
box file: ``<stem>_confidence.value``, ``<stem>_present.value`` (1/0), ``<stem>_time.value``
(seconds). They never end in ``.txt``, so no official toolkit picks them up, and published raw
results without them still score (``scores`` / ``present`` are then None). The box file is
written last, so a run killed between files leaves an incomplete set that the runner redoes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets.sequence import Sequence
from ..errors import LongtrackError
from ..fileio import atomic_write_text
from . import oxuva_files
from .value_files import format_rows, format_values, read_boxes, read_time_columns, read_values

OPE_DATASETS = ("lasot", "lasot_ext", "tlp", "otb", "uav", "trackingnet", "synthetic")
VOT_DATASETS = ("votlt2018", "votlt2019", "votlt2020")


@dataclass
class SequenceResult:
    """A tracker's output on one sequence, as read back from its result files.

    Attributes:
        boxes: ``(N, 4)`` xywh in pixels (NaN where the format has no box: VOT's init / empty
            frames; rows past N are kept when the file is longer than the sequence).
        scores: ``(N,)`` confidences, or None when the files have none.
        present: ``(N,)`` bool presence decisions, or None.
        times: ``(N,)`` seconds per frame, or None.
        repetitions: the other runs of the same sequence (GOT-10k ``_002``..., VOT ``_002``...).
        relative_boxes: OxUvA only: ``(N, 4)`` ``xmin, xmax, ymin, ymax`` exactly as written.
    """

    boxes: np.ndarray
    scores: np.ndarray | None = None
    present: np.ndarray | None = None
    times: np.ndarray | None = None
    repetitions: list["SequenceResult"] = field(default_factory=list)
    relative_boxes: np.ndarray | None = None

    @property
    def runs(self) -> list["SequenceResult"]:
        return [self, *self.repetitions]


def _check_arrays(seq: Sequence, boxes, scores, present, times):
    n = len(seq)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    present = np.asarray(present, dtype=bool).reshape(-1)
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    for what, arr in (("boxes", boxes), ("scores", scores), ("present flags", present), ("times", times)):
        if len(arr) != n:
            raise LongtrackError(f"{seq.name}: {len(arr)} {what} for {n} frames")
    return boxes, scores, present, times


def _extras(stem: Path) -> dict[str, Path]:
    return {k: stem.parent / f"{stem.name}_{k}.value" for k in ("confidence", "present", "time")}


def _read_extras(stem: Path, n: int):
    files = _extras(stem)
    scores = read_values(files["confidence"], n) if files["confidence"].is_file() else None
    present = None
    if files["present"].is_file():
        flags = read_values(files["present"], n)
        if not np.all(np.isin(flags, (0.0, 1.0))):
            raise LongtrackError(f"{files['present']}: presence values must be 0 or 1")
        present = flags == 1.0
    times = read_values(files["time"], n) if files["time"].is_file() else None
    return scores, present, times


class OpeTextFormat:
    """``<tracker>/<seq>.txt`` + our ``.value`` extras (LaSOT, OTB, TLP, UAV, TrackingNet)."""

    def box_file(self, tracker_dir: Path, seq: Sequence) -> Path:
        return Path(tracker_dir) / f"{seq.name}.txt"

    def files(self, tracker_dir: Path, seq: Sequence) -> list[Path]:
        box = self.box_file(tracker_dir, seq)
        return [*_extras(box.with_suffix("")).values(), box]

    def write(self, tracker_dir, seq, boxes, scores, present, times) -> list[Path]:
        box = self.box_file(tracker_dir, seq)
        extras = _extras(box.with_suffix(""))
        atomic_write_text(extras["confidence"], format_values(scores))
        atomic_write_text(extras["present"], format_values(present.astype(np.float64)))
        atomic_write_text(extras["time"], format_values(times))
        atomic_write_text(box, format_rows(boxes))
        return self.files(tracker_dir, seq)

    def read(self, tracker_dir, seq) -> SequenceResult:
        box = self.box_file(tracker_dir, seq)
        if not box.is_file():
            raise LongtrackError(f"{box}: result file missing for sequence {seq.name}")
        scores, present, times = _read_extras(box.with_suffix(""), len(seq))
        return SequenceResult(read_boxes(box, len(seq)), scores, present, times)


class Got10kFormat:
    """``<tracker>/<seq>/<seq>_001.txt`` (+ repetitions) and ``<seq>_time.txt`` (got10k toolkit)."""

    def run_file(self, tracker_dir, seq, run: int = 1) -> Path:
        return Path(tracker_dir) / seq.name / f"{seq.name}_{run:03d}.txt"

    def files(self, tracker_dir, seq) -> list[Path]:
        box = self.run_file(tracker_dir, seq)
        extras = _extras(box.with_suffix(""))
        return [extras["confidence"], extras["present"], box.parent / f"{seq.name}_time.txt", box]

    def write(self, tracker_dir, seq, boxes, scores, present, times) -> list[Path]:
        box = self.run_file(tracker_dir, seq)
        extras = _extras(box.with_suffix(""))
        atomic_write_text(extras["confidence"], format_values(scores))
        atomic_write_text(extras["present"], format_values(present.astype(np.float64)))
        atomic_write_text(box.parent / f"{seq.name}_time.txt", format_rows(times[:, None], "%.8f"))
        atomic_write_text(box, format_rows(boxes, "%.3f"))
        return self.files(tracker_dir, seq)

    def read(self, tracker_dir, seq) -> SequenceResult:
        folder = Path(tracker_dir) / seq.name
        runs = sorted(p for p in folder.glob(f"{seq.name}_[0-9]*.txt")) if folder.is_dir() else []
        if not runs:
            raise LongtrackError(f"{folder}: no {seq.name}_001.txt result file")
        time_file = folder / f"{seq.name}_time.txt"
        times = read_time_columns(time_file, len(seq)) if time_file.is_file() else None
        results = []
        for i, run in enumerate(runs):
            boxes = read_boxes(run, len(seq))
            if len(boxes) != len(seq):
                raise LongtrackError(f"{run}: {len(boxes)} boxes but the sequence has {len(seq)} frames")
            scores, present, _ = _read_extras(run.with_suffix(""), len(seq))
            run_times = times[:, i] if times is not None and i < times.shape[1] else None
            results.append(SequenceResult(boxes, scores, present, run_times))
        first = results[0]
        first.repetitions = results[1:]
        return first


class VotLongTermFormat:
    """``<tracker>/longterm/<seq>/<seq>_001.txt`` + ``_001_confidence.value`` (vot-toolkit)."""

    def run_file(self, tracker_dir, seq, run: int = 1) -> Path:
        return Path(tracker_dir) / "longterm" / seq.name / f"{seq.name}_{run:03d}.txt"

    def files(self, tracker_dir, seq) -> list[Path]:
        box = self.run_file(tracker_dir, seq)
        extras = _extras(box.with_suffix(""))
        return [extras["confidence"], extras["time"], box]

    def write(self, tracker_dir, seq, boxes, scores, present, times) -> list[Path]:
        box = self.run_file(tracker_dir, seq)
        extras = _extras(box.with_suffix(""))
        # Frame 1 is the initialization marker with no confidence; a frame reported absent is
        # the empty region ``0`` (still with its confidence).
        lines = ["1"] + [format_rows(b[None]).strip() if p else "0"
                         for b, p in zip(boxes[1:], present[1:])]
        atomic_write_text(extras["confidence"], format_values(scores, missing_first=True))
        atomic_write_text(extras["time"], format_values(times))
        atomic_write_text(box, "".join(line + "\n" for line in lines))
        return self.files(tracker_dir, seq)

    def read(self, tracker_dir, seq) -> SequenceResult:
        folder = Path(tracker_dir) / "longterm" / seq.name
        runs = sorted(folder.glob(f"{seq.name}_[0-9][0-9][0-9].txt")) if folder.is_dir() else []
        if not runs:
            raise LongtrackError(f"{folder}: no {seq.name}_001.txt result file")
        results = [self._read_run(run, len(seq)) for run in runs]
        results[0].repetitions = results[1:]
        return results[0]

    @staticmethod
    def _read_run(path: Path, n: int) -> SequenceResult:
        from ..datasets.annotation_text import read_number_rows

        rows = read_number_rows(path, (1, 4), allow_nan=True, what="values (0, 1 or x,y,w,h)")
        if len(rows) != n:
            raise LongtrackError(f"{path}: {len(rows)} regions but the sequence has {n} frames")
        boxes = np.full((n, 4), np.nan)
        present = np.zeros(n, dtype=bool)
        for i, row in enumerate(rows):
            if len(row) == 4 and not np.isnan(row).any():
                boxes[i] = row
                # vot-toolkit writes a reported absence as a zero rectangle: empty, like `0`.
                present[i] = row[2] > 0 and row[3] > 0
        extras = _extras(path.with_suffix(""))
        # The toolkit reads a missing confidence (the init frame's empty line) as 0.
        scores = read_values(extras["confidence"], n, missing=0.0) if extras["confidence"].is_file() \
            else np.zeros(n)
        times = read_values(extras["time"], n) if extras["time"].is_file() else None
        return SequenceResult(boxes, scores, present, times)


class OxuvaFormat:
    """``<tracker>/<video>_<object>.csv`` prediction files (oxuva ``dump_predictions_csv``)."""

    def box_file(self, tracker_dir, seq) -> Path:
        return Path(tracker_dir) / f"{seq.name}.csv"

    def files(self, tracker_dir, seq) -> list[Path]:
        box = self.box_file(tracker_dir, seq)
        return [_extras(box.with_suffix(""))["time"], box]

    def write(self, tracker_dir, seq, boxes, scores, present, times) -> list[Path]:
        box = self.box_file(tracker_dir, seq)
        atomic_write_text(_extras(box.with_suffix(""))["time"], format_values(times))
        atomic_write_text(box, oxuva_files.format_predictions(seq, boxes, scores, present))
        return self.files(tracker_dir, seq)

    def read(self, tracker_dir, seq) -> SequenceResult:
        box = self.box_file(tracker_dir, seq)
        boxes, relative, scores, present = oxuva_files.read_predictions(box, seq)
        time_file = _extras(box.with_suffix(""))["time"]
        times = read_values(time_file, len(seq)) if time_file.is_file() else None
        return SequenceResult(boxes, scores, present, times, relative_boxes=relative)


_FORMATS = {**{d: OpeTextFormat() for d in OPE_DATASETS}, "got10k": Got10kFormat(),
            "oxuva": OxuvaFormat(), **{d: VotLongTermFormat() for d in VOT_DATASETS}}
DATASETS = tuple(_FORMATS)


def result_format(dataset: str):
    if dataset not in _FORMATS:
        raise LongtrackError(f"no result format for dataset {dataset!r}; known: {', '.join(_FORMATS)}")
    return _FORMATS[dataset]


def write_sequence_results(dataset: str, tracker_dir, seq: Sequence, boxes, scores, present,
                           times) -> list[Path]:
    """Write one sequence's results in ``dataset``'s own format under ``tracker_dir``.

    Args:
        boxes: ``(N, 4)`` xywh (frame 0: the initialization box), scores ``(N,)``, present
            ``(N,)`` bool, times ``(N,)`` seconds per frame.
    Returns the files written (each atomically; the box file last).
    """
    fmt = result_format(dataset)
    return fmt.write(Path(tracker_dir), seq, *_check_arrays(seq, boxes, scores, present, times))


def expected_result_files(dataset: str, tracker_dir, seq: Sequence) -> list[Path]:
    """Every file ``write_sequence_results`` writes for ``seq`` (all present = sequence done)."""
    return result_format(dataset).files(Path(tracker_dir), seq)


def read_sequence_results(dataset: str, tracker_dir, seq: Sequence) -> SequenceResult:
    """Read one sequence's results (our runs or published raw results) from ``tracker_dir``."""
    return result_format(dataset).read(Path(tracker_dir), seq)
