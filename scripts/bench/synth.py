"""Speed of the synthetic world: set-up per sequence, render frames per second, and writing speed.

    python scripts/bench/synth.py [--preset lt[,lt-real,...]] [--sizes 320x240,640x480] [--sequences 3]
                                  [--frames 300] [--threads 1] [--source-root DIR] [--json out.json]

For each size, ``--sequences`` test sequences are made; for each one it measures the set-up
(plan + ground truth + canvas and sprites, i.e. everything before the first frame) and the
time to render ``--frames`` frames spread over the sequence (random access, as training does),
then the time to render and JPEG-encode the same frames (what ``longtrack synth`` does, minus
the disk). OpenCV runs on ``--threads`` threads (1 = one CPU core). Medians over sequences;
frames per second are given per wall-clock second and per CPU second of this process (the
latter is less sensitive to other programs sharing the machine). For ``lt-real`` the source
root's index (read once per process) is loaded before timing; ``--source-root`` as for
``longtrack synth``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import cv2
import numpy as np

from longtrack.synth import PRESETS, make_sequence, parse_size
from longtrack.synth.lasot import encode_jpeg
from longtrack.synth.real_source import load_source_index


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_size(preset: str, size: tuple[int, int], sequences: int, frames: int, source_root=None) -> dict:
    rows = {"setup": [], "render": [], "render_cpu": [], "jpeg": [], "jpeg_cpu": []}
    for index in range(sequences):
        seq = None

        def setup():
            nonlocal seq
            seq = make_sequence(preset, "test", index, size=size, source_root=source_root)
            seq.boxes  # ground truth
            seq.render(0)  # canvas and sprites

        rows["setup"].append(_timed(setup)[0])
        picks = [int(i) for i in np.linspace(0, len(seq) - 1, min(frames, len(seq))).astype(int)]
        wall, cpu = _timed(lambda: [seq.render(i) for i in picks])
        rows["render"].append(len(picks) / wall)
        rows["render_cpu"].append(len(picks) / cpu)
        wall, cpu = _timed(lambda: [encode_jpeg(seq.render(i)) for i in picks])
        rows["jpeg"].append(len(picks) / wall)
        rows["jpeg_cpu"].append(len(picks) / cpu)
    median = {k: round(statistics.median(v), 3 if k == "setup" else 1) for k, v in rows.items()}
    return {"preset": preset, "size": f"{size[0]}x{size[1]}", "sequences": sequences, "frames": frames,
            "setup_s_median": median["setup"], "render_fps_median": median["render"],
            "render_fps_per_cpu_second": median["render_cpu"],
            "render_and_jpeg_fps_median": median["jpeg"], "render_and_jpeg_fps_per_cpu_second": median["jpeg_cpu"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="lt", help="one preset or a comma-separated list")
    parser.add_argument("--sizes", default="320x240,640x480")
    parser.add_argument("--sequences", type=int, default=3)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--source-root", default=None, help="lt-real only (default: ../shared/data/real-train)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    presets = args.preset.split(",")
    if any(PRESETS[p].appearance == "real" for p in presets):
        load_source_index(args.source_root)
    rows = [bench_size(p, parse_size(s), args.sequences, args.frames, args.source_root if PRESETS[p].appearance == "real"
                       else None) for s in args.sizes.split(",") for p in presets]
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"OpenCV threads: {args.threads}")
    print("| preset | size | set-up (s) | render fps (wall) | render fps (per CPU second) "
          "| render + JPEG fps (wall) | render + JPEG fps (per CPU second) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['preset']} | {r['size']} | {r['setup_s_median']} | {r['render_fps_median']} "
              f"| {r['render_fps_per_cpu_second']} | {r['render_and_jpeg_fps_median']} "
              f"| {r['render_and_jpeg_fps_per_cpu_second']} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"threads": args.threads, "results": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
