"""Milliseconds per tracked frame on one thread: a tracker under PyTorch, the same tracker under
onnxruntime (``runtime="onnx"``), and NanoTrack's ONNX pair under OpenCV (``cv2.TrackerNano``), all
on the same frames of one real-val sequence. Prints the load average; the median of ``--repeats``
passes is reported, with the spread (min-max). Nothing here is asserted: timings are for the docs.
``--tracker`` is any exportable tracker (``globaltrack``, ``dmtrack``, ``procontext``), with its shipped weights.

    OMP_NUM_THREADS=1 python scripts/bench/onnx_speed.py --tracker globaltrack \
        --sequence ../shared/data/real-val/bird/bird-3 --frames 60 --repeats 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

import longtrack
import longtrack.export


def read_clip(folder: Path, frames: int) -> tuple[list[np.ndarray], list[float]]:
    paths = sorted((folder / "img").glob("*.jpg"))[: frames + 1]
    clip = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths]
    box = [float(v) for v in (folder / "groundtruth.txt").read_text().splitlines()[0].split(",")]
    return clip, box


def ms_per_frame(init, step, clip, repeats: int) -> list[float]:
    """One warm-up pass, then ``repeats`` timed passes over ``clip[1:]`` (initialisation untimed)."""
    times = []
    for r in range(repeats + 1):
        init(clip[0])
        start = time.perf_counter()
        for frame in clip[1:]:
            step(frame)
        if r:
            times.append(1000 * (time.perf_counter() - start) / (len(clip) - 1))
    return times


def nanotrack(models: Path):
    params = cv2.TrackerNano_Params()
    params.backbone = str(models / "nanotrack_backbone_sim.onnx")
    params.neckhead = str(models / "nanotrack_head_sim.onnx")
    holder = {}

    def init(frame, box):
        holder["t"] = cv2.TrackerNano_create(params)
        holder["t"].init(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), tuple(int(round(v)) for v in box))

    return init, lambda frame: holder["t"].update(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))


def main() -> int:
    shared = Path(__file__).resolve().parents[2].parent / "shared"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracker", default="globaltrack", choices=sorted(longtrack.export.EXPORTABLE))
    parser.add_argument("--sequence", type=Path, default=shared / "data" / "real-val" / "bird" / "bird-3")
    parser.add_argument("--nanotrack", type=Path, default=shared / "models" / "nanotrack-v2")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    clip, box = read_clip(args.sequence, args.frames)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores; 1 thread; "
          f"{len(clip) - 1} frames of {args.sequence.name} ({clip[0].shape[1]}x{clip[0].shape[0]}); "
          f"median of {args.repeats}")
    if load[0] > os.cpu_count():
        print("warning: load average above 1 per core; timings are not trustworthy")
    with tempfile.TemporaryDirectory() as onnx_dir:
        reference = longtrack.create(args.tracker)
        longtrack.export.export_network(args.tracker, reference.model, onnx_dir)
        rows = {
            f"{args.tracker} (PyTorch)": reference,
            f"{args.tracker} (onnxruntime)": longtrack.create(args.tracker, runtime="onnx", onnx_dir=onnx_dir),
        }
        results = {name: ms_per_frame(lambda f, t=t: t.initialize(f, box), t.track, clip, args.repeats)
                   for name, t in rows.items()}
    init, step = nanotrack(args.nanotrack)
    results["nanotrack-v2 (OpenCV DNN)"] = ms_per_frame(lambda f: init(f, box), step, clip, args.repeats)
    print(f"{'runtime':<34} {'ms/frame':>9} {'min-max':>15} {'fps':>7}")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:<34} {median:>9.1f} {min(times):>7.1f}-{max(times):<7.1f} {1000 / median:>7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
