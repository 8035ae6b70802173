"""``longtrack bench``: frames per second of each tracker, at paper size and small size."""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trackers", nargs="+", default=None,
                        help="tracker names (default: every registered tracker)")
    parser.add_argument("--device", default="cpu", help="torch device for learned trackers (cpu, cuda)")
    parser.add_argument("--sizes", default="small,paper",
                        help="comma-separated sizes for learned trackers: small, paper (default both)")
    parser.add_argument("--frames", type=int, default=30, help="timed frames per tracker at small size")
    parser.add_argument("--paper-frames", type=int, default=4,
                        help="timed frames at paper size (slow on a CPU)")
    parser.add_argument("--frame-size", default="640x480", help="WxH of the clip (default 640x480)")
    parser.add_argument("--bf16", action="store_true", help="run under bf16 autocast")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", default=None, help="write the results as JSON here (atomic)")


def _bench_one(job):
    name, size, device, frames, frame_size, bf16, threads = job
    import warnings

    import torch

    # A sized build is random-initialised on purpose: only its time is measured here.
    warnings.filterwarnings("ignore", message=".*randomly initialised.*")

    from ..benchmarking import bench_clip, bench_tracker

    if threads:
        torch.set_num_threads(threads)
    clip, box = bench_clip(frames + 3, frame_size)
    return bench_tracker(name, clip, box, size=size, device=device, autocast=bf16)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..benchmarking import machine_info, results_to_dicts, supports_sizes
    from ..synth import parse_size
    from ..errors import LongtrackError
    from ..fileio import atomic_write_text, check_writable
    from ..registry import get_tracker_spec, tracker_names

    if args.json:
        check_writable(args.json)
    frame_size = parse_size(args.frame_size)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(s not in ("small", "paper") for s in sizes):
        raise LongtrackError(f"--sizes takes small and/or paper, got {args.sizes!r}")
    if args.frames < 1 or args.paper_frames < 1:
        raise LongtrackError("--frames and --paper-frames must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise LongtrackError(f"--threads must be 1 or more, got {args.threads}")
    # By default every tracker that can be built without a file from the user (not nanotrack).
    names = args.trackers or [n for n in tracker_names() if not n.endswith(":*")
                              and (get_tracker_spec(n).random_init or get_tracker_spec(n).weights_path())]
    jobs = []
    for name in names:
        get_tracker_spec(name)
        if supports_sizes(name):
            for size in sizes:
                n = args.paper_frames if size == "paper" else args.frames
                jobs.append((name, size, args.device, n, frame_size, args.bf16, args.threads))
        else:
            jobs.append((name, None, args.device, args.frames, frame_size, args.bf16, args.threads))
    results = []
    # One fresh process per measurement: peak memory is the tracker's own, not the maximum so far.
    ctx = mp.get_context("spawn")
    for job in tqdm(jobs, desc="bench", unit="tracker"):
        with ctx.Pool(1) as pool:
            results.append(pool.apply(_bench_one, (job,)))
    print(f"{'tracker':<22} {'size':<8} {'fps':>8} {'ms/frame':>10} {'peak RSS MB':>12}")
    for r in results:
        print(f"{r.tracker:<22} {r.size:<8} {r.fps:>8.2f} {r.ms_per_frame:>10.1f} {r.peak_rss_mb:>12.0f}")
    if args.json:
        payload = {"machine": machine_info(args.device), "frame_size": list(frame_size),
                   "bf16": args.bf16, "results": results_to_dicts(results)}
        atomic_write_text(args.json, json.dumps(payload, indent=2) + "\n")
    return 0
