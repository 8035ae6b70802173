"""Run a tracker over a benchmark and write its results in the benchmark's own format.

One sequence is one unit of work. Its predictions stay in memory until the sequence is
finished; then ``result_formats.write_sequence_results`` writes every file atomically (box file
last). So a run killed at any moment leaves each sequence either complete or without files,
and rerunning the same command skips the complete ones (resume). With ``workers > 1``, spawned
processes each build the tracker once and take sequences one at a time (torch/OpenCV on one
thread each). ``shard=(I, N)`` runs only every N-th sequence (``sharding.select_shard``).

Runs into one folder may overlap (two terminals, a cluster array on a shared file system):
the run record is created exclusively once the tracker is built (``run_record``), so another
model is refused, and each sequence is claimed before it is tracked (``claims``), so two runs
of the same model share the work and never track a sequence twice.
"""
from __future__ import annotations


import os
import pickle
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..datasets.sequence import Sequence
from ..errors import LongtrackError
from ..fileio import clean_stale_temporaries
from ..registry import TrackerSpec, get_tracker_spec
from . import result_formats
from .claims import try_claim
from .run_progress import RunBars
from .run_record import check_or_write_record, check_record, make_record, weights_identity
from .sharding import select_shard
from .track_sequence import SequenceFailed, build_tracker, resolve_weights, track_sequence

TICK_FRAMES = 25  # a worker reports progress every this many frames


@dataclass
class RunSummary:
    """What a run did. ``failed`` maps a sequence name to its error (nothing was written for it)."""

    tracker_dir: Path
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # complete before this run (resumed)
    failed: dict[str, str] = field(default_factory=dict)
    busy: dict[str, str] = field(default_factory=dict)  # left to the live run that claimed them
    frames: int = 0  # frames tracked by this run
    seconds: float = 0.0  # tracker time of those frames

    @property
    def ok(self) -> bool:
        return not self.failed


def is_complete(dataset: str, tracker_dir: Path, seq: Sequence) -> bool:
    """True when every result file of ``seq`` exists and reads back with one row per frame."""
    if not all(p.is_file() for p in result_formats.expected_result_files(dataset, tracker_dir, seq)):
        return False
    try:
        result = result_formats.read_sequence_results(dataset, tracker_dir, seq)
    except LongtrackError:
        return False  # e.g. a result of an older, different version of the sequence
    return len(result.boxes) == len(seq)


def run_tracker_on_dataset(tracker_name: str, dataset: str, sequences: list[Sequence], out_dir,
                           weights: str | None = None, device: str = "cpu", workers: int = 1,
                           shard=(0, 1), progress: bool = True, name: str | None = None,
                           options: dict | None = None) -> RunSummary:
    """Track every sequence of ``shard`` not yet complete under ``out_dir/<name>/``.

    Args:
        tracker_name: a registered tracker (``longtrack trackers``).
        dataset: the benchmark name (decides the result format).
        sequences: from ``longtrack.datasets.load_dataset`` (frames are decoded lazily).
        weights: None = the shipped default; ``"none"`` = random initialisation; else a path.
        workers: processes (1 = in this process).
        shard: ``(I, N)``: only sequences at stable positions ``p % N == I``.
        name: the result folder's name (default: the tracker name).
        options: keyword arguments for the tracker's factory over its registered ones (an
            ablation variant, e.g. ``{"association": "top1"}``); kept in the run record.
    Returns a ``RunSummary``; tracker errors are in ``failed`` (the caller reports them).
    Raises ``LongtrackError`` when the folder holds another model's results, or the tracker
    cannot be built. ``KeyboardInterrupt`` stops the run; finished sequences stay written.
    """
    spec = get_tracker_spec(tracker_name)
    if options:
        spec = replace(spec, options={**spec.options, **options})
    result_formats.result_format(dataset)  # an unknown dataset fails before any work
    if int(workers) < 1:
        raise LongtrackError(f"--workers must be 1 or more, got {workers}")
    tracker_dir = Path(out_dir) / result_folder_name(name or tracker_name)
    weights_path = resolve_weights(spec, weights)
    if weights_path is not None and not Path(weights_path).exists():  # a file, or a folder (nanotrack)
        raise LongtrackError(f"{tracker_name}: weights {weights_path} not found")
    record = make_record(tracker_name, dataset, weights_identity(weights_path, spec.needs_weights),
                         device, workers, options=options or {})
    check_record(tracker_dir, record)  # another model's folder is refused before any building
    clean_stale_temporaries(tracker_dir, recursive=True)  # left by a run that was killed

    summary = RunSummary(tracker_dir)
    todo = []
    for seq in select_shard(sequences, shard):
        if is_complete(dataset, tracker_dir, seq):
            summary.skipped.append(seq.name)
        else:
            todo.append(seq)
    if not todo:
        return summary
    bars = RunBars(tracker_dir.name, todo, len(summary.skipped), progress)
    try:
        if int(workers) == 1:
            _run_here(spec, weights, device, dataset, tracker_dir, record, todo, summary, bars)
        else:
            _run_pool(spec, weights, device, dataset, tracker_dir, record, todo, summary, bars, int(workers))
    finally:
        bars.close()
    return summary


def result_folder_name(name: str) -> str:
    """``name`` when it is one folder name (``--name`` must not point outside ``--out``)."""
    text = str(name)
    if (not text.strip() or text in (".", "..") or "/" in text or "\\" in text
            or any(ord(c) < 32 or ord(c) == 127 for c in text)):
        raise LongtrackError(f"--name must be one folder name (no '/', '..' or control characters), got {text!r}")
    return text


def _record(summary: RunSummary, outcome: tuple, bars: RunBars) -> None:
    kind, seq_name, detail = outcome
    if kind == "ok":
        frames, seconds = detail
        summary.done.append(seq_name)
        summary.frames += frames
        summary.seconds += seconds
    elif kind == "skipped":  # completed by another run since this one started
        summary.skipped.append(seq_name)
    elif kind == "busy":
        summary.busy[seq_name] = detail
        bars.write(f"longtrack eval: {seq_name} is being tracked by another run ({detail}); left to it")
    else:
        summary.failed[seq_name] = detail
        bars.write(f"longtrack eval: {summary.tracker_dir.name} failed on {detail} (nothing written for it)")
    bars.sequence_done(seq_name, detail if kind == "ok" else None)


def _run_one(tracker, dataset, tracker_dir, seq, on_frame) -> tuple:
    try:
        out = track_sequence(tracker, seq, on_frame)
    except SequenceFailed as exc:
        return ("failed", seq.name, str(exc))
    result_formats.write_sequence_results(dataset, tracker_dir, seq, out.boxes, out.scores, out.present,
                                          out.times)
    return ("ok", seq.name, (len(seq), float(out.times.sum())))


def _run_claimed(tracker, dataset, tracker_dir, seq, on_frame) -> tuple:
    """Track ``seq`` when this process can claim it (``claims``); else report who has it."""
    claim = try_claim(tracker_dir, seq.name)
    if isinstance(claim, str):
        return ("busy", seq.name, claim)
    try:
        if is_complete(dataset, tracker_dir, seq):  # finished by another run meanwhile
            return ("skipped", seq.name, None)

        def tick(count: int) -> None:
            claim.heartbeat()
            on_frame(count)

        return _run_one(tracker, dataset, tracker_dir, seq, tick)
    finally:
        claim.release()


def _build_message(spec: TrackerSpec, exc: Exception) -> str:
    if isinstance(exc, LongtrackError):
        return str(exc)
    return f"cannot build tracker {spec.name}: {type(exc).__name__}: {' '.join(str(exc).split())}"


def _run_here(spec, weights, device, dataset, tracker_dir, record, todo, summary, bars) -> None:
    try:
        tracker = build_tracker(spec, weights, device)
    except Exception as exc:  # noqa: BLE001 - one line, and no run record for a run that never ran
        raise LongtrackError(_build_message(spec, exc)) from exc
    check_or_write_record(tracker_dir, record)
    for seq in todo:
        bars.start(seq)
        _record(summary, _run_claimed(tracker, dataset, tracker_dir, seq, bars.frames), bars)


# --- worker processes (spawned: they import this module afresh) ---------------------------
_WORKER: dict = {}


def _worker_init(spec: TrackerSpec, weights, device: str, ticks) -> None:
    # Set before torch / OpenCV spawn their thread pools in this process.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    _WORKER.update(spec=spec, weights=weights, device=device, ticks=ticks, tracker=None, parent=os.getppid())


def _worker_tracker():
    if _WORKER["tracker"] is None:
        _WORKER["tracker"] = build_tracker(_WORKER["spec"], _WORKER["weights"], _WORKER["device"])
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
        if "cv2" in sys.modules:
            sys.modules["cv2"].setNumThreads(1)
    return _WORKER["tracker"]


def _worker_ready() -> str | None:
    """Build the tracker in this worker: None, or the error that stops the run."""
    try:
        _worker_tracker()
    except Exception as exc:  # noqa: BLE001 - reported once by the parent, which stops the run
        return _build_message(_WORKER["spec"], exc)
    return None


def _worker_run(dataset: str, tracker_dir: Path, seq: Sequence) -> tuple:
    try:
        tracker = _worker_tracker()
    except Exception as exc:  # noqa: BLE001 - reported once by the parent, which stops the run
        return ("fatal", seq.name, _build_message(_WORKER["spec"], exc))
    ticks, pending = _WORKER["ticks"], [0]

    def on_frame(count: int) -> None:
        if os.getppid() != _WORKER["parent"]:
            # The run was killed: its pool workers would otherwise track on as orphans.
            os._exit(1)
        pending[0] += count
        if pending[0] >= TICK_FRAMES:
            ticks.put(pending[0])
            pending[0] = 0

    outcome = _run_claimed(tracker, dataset, tracker_dir, seq, on_frame)
    if pending[0]:
        ticks.put(pending[0])
    return outcome


def _run_pool(spec, weights, device, dataset, tracker_dir, record, todo, summary, bars, workers) -> None:
    import multiprocessing

    try:
        pickle.dumps(todo[0])
    except Exception as exc:  # noqa: BLE001 - e.g. a Sequence with an in-memory frame loader
        raise LongtrackError(f"sequence {todo[0].name} cannot be sent to a worker process ({exc}); "
                             "use workers=1") from None
    ctx = multiprocessing.get_context("spawn")
    ticks = ctx.Queue()
    pool = ProcessPoolExecutor(min(workers, len(todo)), mp_context=ctx, initializer=_worker_init,
                               initargs=(spec, weights, device, ticks))
    try:
        try:  # one worker builds the tracker before the record is written (and any sequence sent)
            problem = pool.submit(_worker_ready).result()
        except BrokenProcessPool:
            raise LongtrackError(f"a worker process died while building tracker {spec.name} "
                                 "(out of memory?)") from None
        if problem is not None:
            raise LongtrackError(problem)
        check_or_write_record(tracker_dir, record)
        futures = {pool.submit(_worker_run, dataset, tracker_dir, seq): seq for seq in todo}
        bars.start(None)
        while futures:
            finished, _ = wait(futures, timeout=0.5, return_when=FIRST_COMPLETED)
            bars.drain(ticks)
            for future in finished:
                seq = futures.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    raise LongtrackError(f"a worker process died while tracking {seq.name} "
                                         "(out of memory?); rerun to resume") from None
                if outcome[0] == "fatal":
                    raise LongtrackError(outcome[2])
                _record(summary, outcome, bars)
        bars.drain(ticks)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        ticks.close()
