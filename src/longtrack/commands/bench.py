"""``longtrack bench``: frames per second of each tracker, overall and by phase, on a fixed
number of threads, after a warm-up, as the median of repeats with its spread; the load average
of the run; optionally beside peers (OpenCV's CSRT and NanoTrack) timed in the same rounds.

Each measured tracker runs in a fresh process of its own (its peak memory is its own); the
protocol of one measurement is ``longtrack.benchmarking``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import sys
from dataclasses import dataclass
from pathlib import Path

PEERS = ("csrt", "nanotrack")
# A wrapper (``tanet:*``) whose bare name is not yet a tracker is benched around this local tracker.
WRAPPER_FALLBACK_LOCAL = "csrt"
SIZES = ("shipped", "paper", "small")
# Thread pools that read their size from the environment when a process starts (OpenMP, BLAS).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trackers", nargs="+", default=None,
                        help="tracker names (default: every registered tracker, tanet included; "
                             "nanotrack when --weights nanotrack=DIR is given)")
    parser.add_argument("--device", default="cpu", help="torch device for learned trackers (cpu, cuda)")
    parser.add_argument("--sizes", default="shipped,paper",
                        help="comma-separated sizes of learned trackers: shipped (their shipped weights), "
                             "paper, small (random initialisation, for timing); default shipped,paper")
    parser.add_argument("--weights", action="append", metavar="TRACKER=PATH",
                        help="weights for a tracker's shipped-size row (repeatable); nanotrack needs "
                             "nanotrack=DIR, the folder of its two ONNX files")
    parser.add_argument("--frames", type=int, default=30, help="timed frames per repeat (default 30)")
    parser.add_argument("--paper-frames", type=int, default=4,
                        help="timed frames per repeat at paper size (slow on a CPU; default 4)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per tracker (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed warm-up frames (default 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and OpenCV threads in each measuring process (default 1)")
    parser.add_argument("--frame-size", default="640x480", help="WxH of the synthetic clip (default 640x480)")
    parser.add_argument("--sequence", default=None, metavar="DIR",
                        help="time on a real clip instead: a sequence folder in the LaSOT layout "
                             "(ROOT/<class>/<class>-<n>/ with img/ and groundtruth.txt)")
    parser.add_argument("--start", type=int, default=0,
                        help="with --sequence: the first frame (the first annotated one at or after it)")
    parser.add_argument("--peer", action="store_true",
                        help="also time OpenCV's CSRT and NanoTrack (needs --weights nanotrack=DIR) after "
                             "each repeat, and print each tracker's FPS over theirs")
    parser.add_argument("--bf16", action="store_true", help="run under bf16 autocast")
    parser.add_argument("--json", default=None, help="write the results as JSON here (atomic)")


@dataclass(frozen=True)
class BenchJob:
    """One measurement: what to build and what to time it on (sent to its own process)."""

    tracker: str
    size: str  # "shipped", "paper", "small" or "default" (trackers without sizes)
    weights: str | None  # given with --weights (None: the shipped ones)
    device: str
    bf16: bool
    threads: int
    warmup: int
    clip: tuple  # ("synthetic", timed frames, (w, h)) or ("sequence", folder, timed frames, start)

    @property
    def label(self) -> str:
        return self.tracker if self.size == "default" else f"{self.tracker} ({self.size})"


# -- the measuring process ----------------------------------------------------------------------
_STATE: dict = {}  # the measuring process's tracker, clip and settings, between calls


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _autocast():
    import torch

    job = _STATE["job"]
    cuda = job.device.startswith("cuda")
    return torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=job.bf16)


def _worker_start(job: BenchJob) -> dict:
    """Fix the threads, load the clip, build the tracker and warm it up."""
    try:
        import warnings

        import torch

        from ..benchmarking import set_threads, sequence_clip, synthetic_clip, warm_up
        from ..registry import get_tracker_spec

        # A sized build is random-initialised on purpose: only its time is measured here.
        warnings.filterwarnings("ignore", message=".*randomly initialised.*")
        threads = set_threads(job.threads)
        kind, *where = job.clip
        clip = synthetic_clip(where[0], where[1]) if kind == "synthetic" else sequence_clip(*where)
        spec = get_tracker_spec(job.tracker)
        options = {"size": job.size} if job.size in ("paper", "small") else {}
        _STATE.clear()
        _STATE.update(job=job, clip=clip)
        cuda = job.device.startswith("cuda")
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        _STATE["sync"] = torch.cuda.synchronize if cuda else (lambda: None)
        with _autocast():
            tracker = spec.build(weights=job.weights, device=job.device, **options)
            warm_up(tracker, clip, job.warmup)
        _STATE["tracker"] = tracker
        if options:
            weights = "random"
        else:
            path = job.weights or spec.weights_path()
            weights = Path(path).name if path else ("random" if spec.needs_weights else "-")
        return {"built_as": str(getattr(tracker, "name", job.tracker)), "threads": threads,
                "weights": weights, "clip": clip.source}
    except Exception as exc:  # noqa: BLE001 - sent back to the parent as one line
        return {"error": _one_line(exc)}


def _worker_repeat():
    from ..benchmarking import time_repeat

    try:
        with _autocast():
            return time_repeat(_STATE["tracker"], _STATE["clip"], _STATE["sync"])
    except Exception as exc:  # noqa: BLE001 - sent back to the parent as one line
        return {"error": _one_line(exc)}


def _worker_finish() -> dict:
    import resource

    import torch

    cuda = _STATE["job"].device.startswith("cuda")
    return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None}


# -- the parent ---------------------------------------------------------------------------------
class WorkerFailed(Exception):
    pass


@contextlib.contextmanager
def _thread_environment(threads: int):
    """The thread variables set while a process starts (it reads them then), restored after."""
    saved = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    os.environ.update({k: str(threads) for k in THREAD_VARIABLES})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Worker:
    """A process holding one built, warmed-up tracker; each ``repeat()`` times one pass."""

    def __init__(self, job: BenchJob):
        self.job = job
        with _thread_environment(job.threads):
            self._pool = mp.get_context("spawn").Pool(1)
        try:
            self.info = self._call(_worker_start, job)
        except BaseException:
            self._pool.terminate()
            raise

    def _call(self, function, *args):
        out = self._pool.apply(function, args)
        if isinstance(out, dict) and "error" in out:
            raise WorkerFailed(out["error"])
        return out

    def repeat(self):
        return self._call(_worker_repeat)

    def finish(self) -> dict:
        try:
            return self._call(_worker_finish)
        finally:
            self._pool.terminate()

    def terminate(self) -> None:
        self._pool.terminate()


def _result(job: BenchJob, info: dict, memory: dict, repeats: list, peer_repeats: dict):
    from ..benchmarking import BenchResult, peer_comparison, summarize

    fps, init_ms, phases = summarize(repeats)
    return BenchResult(
        tracker=job.tracker, built_as=info["built_as"], size=job.size, weights=info["weights"],
        device=job.device, threads=info["threads"], frames=repeats[0].frames, warmup=job.warmup,
        fps=fps, init_ms=init_ms, phases=phases, peak_rss_mb=memory["peak_rss_mb"],
        cuda_peak_mb=memory["cuda_peak_mb"], repeats=repeats,
        peers={p: peer_comparison(fps, r) for p, r in peer_repeats.items() if r})


def needs_user_weights(name: str) -> bool:
    """A tracker that exists only as files the user gives (nanotrack's ONNX pair)."""
    from ..registry import get_tracker_spec

    spec = get_tracker_spec(name)
    return not spec.random_init and spec.weights_path() is None


def default_trackers() -> list[str]:
    """Every registered tracker; a wrapper ``W:*`` as ``W`` when that builds (its default local
    tracker), else as ``W:<WRAPPER_FALLBACK_LOCAL>``."""
    from ..errors import LongtrackError
    from ..registry import get_tracker_spec, tracker_names

    names = []
    for name in tracker_names():
        if name.endswith(":*"):
            wrapper = name[:-2]
            try:
                get_tracker_spec(wrapper)
                name = wrapper
            except LongtrackError:
                name = f"{wrapper}:{WRAPPER_FALLBACK_LOCAL}"
        if name not in names:
            names.append(name)
    return names


def plan_jobs(names: list[str], sizes: list[str], weights: dict[str, str], args, clip: tuple):
    """The measurements to run, and a line for each tracker left out."""
    from ..benchmarking import supports_sizes

    jobs, skipped = [], []
    for name in names:
        given = weights.get(name) or weights.get(name.split(":")[0])
        if given is None and needs_user_weights(name):
            skipped.append(f"{name}: skipped, it ships no weights (give --weights {name}=DIR)")
            continue
        tracker_sizes = sizes if supports_sizes(name) else ["default"]
        for size in tracker_sizes:
            job_clip = _with_timed_frames(clip, args.paper_frames) if size == "paper" else clip
            jobs.append(BenchJob(name, size, given if size in ("shipped", "default") else None, args.device,
                                 args.bf16, args.threads, args.warmup, job_clip))
    return jobs, skipped


def _with_timed_frames(clip: tuple, frames: int) -> tuple:
    if clip[0] == "synthetic":
        return ("synthetic", frames, clip[2])
    return ("sequence", clip[1], frames, clip[3])


def _fmt(value: float) -> str:
    return f"{value:.1f}" if value < 1000 else f"{value:.0f}"


def _phases_text(result) -> str:
    return ", ".join(f"{name} {_fmt(p.fps.median)} ({p.frames:g} f)" for name, p in result.phases.items()) or "-"


def print_table(results: list, peers: list[str], title: str) -> None:
    print(title)
    peer_heads = "".join(f" {'x ' + p:>12}" for p in peers)
    print(f"{'tracker':<24} {'size':<8} {'weights':<22} {'thr':>5} {'init ms':>9} {'FPS':>8} "
          f"{'[min-max]':>17} {'peak MB':>8}{peer_heads}  phases: FPS (frames per repeat)")
    for r in results:
        name = r.tracker if r.built_as in (r.tracker, r.tracker.split(":")[0]) else f"{r.tracker} ({r.built_as})"
        threads = f"{r.threads['torch']}/{r.threads['opencv']}"
        span = f"[{_fmt(r.fps.low)}-{_fmt(r.fps.high)}]"
        ratios = "".join(f" {r.peers[p]['ratio']:>12.2f}" if p in r.peers else f" {'-':>12}" for p in peers)
        print(f"{name:<24} {r.size:<8} {r.weights:<22} {threads:>5} {r.init_ms.median:>9.1f} "
              f"{_fmt(r.fps.median):>8} {span:>17} {r.peak_rss_mb:>8.0f}{ratios}  {_phases_text(r)}")


def _load_text(load) -> str:
    return "unavailable" if load is None else " ".join(f"{v:.2f}" for v in load)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..benchmarking import load_average, load_warning, machine_info, result_to_dict, sequence_span
    from ..errors import LongtrackError
    from ..evaluation.benchmark_page import parse_weights_options
    from ..fileio import atomic_write_text, check_writable
    from ..registry import get_tracker_spec
    from ..synth import parse_size

    if args.json:
        check_writable(args.json)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(s not in SIZES for s in sizes):
        raise LongtrackError(f"--sizes takes {', '.join(SIZES)}, got {args.sizes!r}")
    if args.frames < 1 or args.paper_frames < 1:
        raise LongtrackError("--frames and --paper-frames must be at least 1")
    if args.threads < 1:
        raise LongtrackError(f"--threads must be 1 or more, got {args.threads}")
    if args.repeats < 1:
        raise LongtrackError(f"--repeats must be 1 or more, got {args.repeats}")
    if args.warmup < 0 or args.start < 0:
        raise LongtrackError("--warmup and --start cannot be negative")
    weights = parse_weights_options(args.weights)
    for name in weights:
        get_tracker_spec(name)
    if args.sequence:
        _, first, end = sequence_span(args.sequence, args.frames, args.start)
        clip = ("sequence", str(Path(args.sequence).expanduser()), args.frames, args.start)
        where = f"{Path(args.sequence).name} frames {first}-{end - 1}"
    else:
        frame_size = parse_size(args.frame_size)
        clip = ("synthetic", args.frames, frame_size)
        where = f"the synthetic clip at {frame_size[0]}x{frame_size[1]}"
    names = args.trackers or default_trackers()
    for name in names:
        get_tracker_spec(name)
    jobs, skipped = plan_jobs(names, sizes, weights, args, clip)
    peer_jobs = []
    if args.peer:
        peer_jobs, peer_skipped = plan_jobs(list(PEERS), ["default"], weights, args, clip)
        skipped += [f"peer {line}" for line in peer_skipped]

    if not jobs:
        raise LongtrackError("nothing to bench: " + "; ".join(skipped))
    cores = os.cpu_count()
    load_start = load_average()
    print(f"longtrack bench: {args.frames} timed frames (paper size {args.paper_frames}) x {args.repeats} "
          f"repeats after {args.warmup} warm-up frames, on {where}")
    print(f"threads: {args.threads} (torch and OpenCV, in each measuring process)")
    print(f"load average (1, 5, 15 min) at start: {_load_text(load_start)} on {cores} cores")
    warnings_seen = []
    warning = load_warning(load_start, cores)
    if warning:
        warnings_seen.append(warning)
        print(f"warning: {warning}", file=sys.stderr)
    for line in skipped:
        print(line)

    results, failed, peer_workers, peer_all = [], [], {}, {}
    try:
        for job in peer_jobs:
            try:
                peer_workers[job.tracker] = Worker(job)
                peer_all[job.tracker] = []
            except WorkerFailed as exc:
                failed.append(f"peer {job.label}: {exc}")
        with tqdm(total=len(jobs) * args.repeats, desc="bench", unit="repeat", disable=None) as bar:
            for job in jobs:
                bar.set_postfix_str(job.label)
                peer_repeats = {p: [] for p in peer_workers}
                try:
                    worker = Worker(job)
                except WorkerFailed as exc:
                    failed.append(f"{job.label}: {exc}")
                    bar.update(args.repeats)
                    continue
                try:
                    repeats = []
                    for _ in range(args.repeats):
                        repeats.append(worker.repeat())
                        for peer, peer_worker in list(peer_workers.items()):
                            try:
                                timing = peer_worker.repeat()
                            except WorkerFailed as exc:
                                failed.append(f"peer {peer}: {exc}")
                                peer_workers.pop(peer).terminate()
                                continue
                            peer_repeats[peer].append(timing)
                            peer_all[peer].append(timing)
                        bar.update(1)
                    results.append(_result(job, worker.info, worker.finish(), repeats, peer_repeats))
                except WorkerFailed as exc:
                    failed.append(f"{job.label}: {exc}")
                finally:
                    worker.terminate()
        peer_results = []
        for job in peer_jobs:
            if job.tracker in peer_workers and peer_all[job.tracker]:
                worker = peer_workers.pop(job.tracker)
                peer_results.append(_result(job, worker.info, worker.finish(), peer_all[job.tracker], {}))
    finally:
        for worker in peer_workers.values():
            worker.terminate()

    load_end = load_average()
    print_table(results, list(peer_all), "")
    if peer_results:
        print_table(peer_results, [], "\npeers, over every repeat of the run:")
    print(f"\nload average (1, 5, 15 min) at end: {_load_text(load_end)} on {cores} cores")
    warning = load_warning(load_end, cores)
    if warning:
        warnings_seen.append(warning)
        print(f"warning: {warning}", file=sys.stderr)
    for line in failed:
        print(f"longtrack: bench: {line}", file=sys.stderr)
    if args.json:
        payload = {
            "machine": machine_info(args.device), "threads": args.threads, "clip": where,
            "frames": args.frames, "paper_frames": args.paper_frames, "repeats": args.repeats,
            "warmup": args.warmup, "bf16": args.bf16,
            "load_average": {"start": load_start, "end": load_end, "cores": cores},
            "load_warnings": warnings_seen, "results": [result_to_dict(r) for r in results],
            "peers": [result_to_dict(r) for r in peer_results], "skipped": skipped, "failed": failed}
        atomic_write_text(args.json, json.dumps(payload, indent=2) + "\n")
    return 1 if failed else 0
