"""Frames per second of the shipped GlobalTrack following 1, 4 and 16 targets of a real clip: in
one pass (``initialize_many`` / ``track_many``: one backbone pass per frame, one modulated search
per target) and with N separate trackers (``multi_target.SeparateTrackers``: N passes).

    OMP_NUM_THREADS=1 python scripts/bench/globaltrack_multi_target.py \\
        --sequence ../shared/data/real-train/person/person-14 --frames 30 --repeats 3 [--json FILE]

Target 0 is the clip's annotated box; the others are boxes of the same size centred on a 4x4 grid
over the first frame (the cost of a search does not depend on what the box holds). Frames are
decoded before timing; a run times ``--frames`` frames after the first (``initialize_many`` is not
timed). Clocks are the process's CPU time, on one thread: other jobs sharing the CPU then slow the
wall clock, not the figure. The two variants alternate run by run, and the figure is the median
over ``--repeats`` runs. One more one-pass run times the backbone alone (``extract_features``),
to show what sharing it saves.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import longtrack
from longtrack.datasets.lasot import load_sequence_dir
from longtrack.fileio import atomic_open
from longtrack.multi_target import SeparateTrackers

GRID = 4  # the extra targets sit on a GRID x GRID lattice, so at most GRID * GRID targets


def target_boxes(first_box, width: int, height: int, count: int) -> list[tuple[float, float, float, float]]:
    """The annotated box, then boxes of its size centred on the lattice cells, in row order."""
    _, _, w, h = (float(v) for v in first_box)
    cells = [((col + 0.5) * width / GRID - w / 2, (row + 0.5) * height / GRID - h / 2, w, h)
             for row in range(GRID) for col in range(GRID)]
    return [tuple(float(v) for v in first_box)] + cells[:count - 1]


class BackboneClock:
    """Wraps a GlobalTrack's ``extract_features`` and adds up the seconds spent in it."""

    def __init__(self, model):
        self.seconds, self.calls, self.inner = 0.0, 0, model.extract_features
        model.extract_features = self

    def __call__(self, images):
        started = time.process_time()
        out = self.inner(images)
        self.seconds += time.process_time() - started
        self.calls += 1
        return out


def timed_run(tracker, frames: list[np.ndarray], boxes) -> float:
    """Frames per CPU second of ``track_many`` over ``frames[1:]`` after ``initialize_many`` on frame 0."""
    tracker.initialize_many(frames[0], boxes)
    started = time.process_time()
    for frame in frames[1:]:
        tracker.track_many(frame)
    return (len(frames) - 1) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", default="../shared/data/real-train/person/person-14",
                        help="a LaSOT-layout sequence folder (img/ and groundtruth.txt)")
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--frames", type=int, default=30, help="frames timed per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    if max(args.targets) > GRID * GRID + 1 or min(args.targets) < 1:
        parser.error(f"--targets must lie in 1..{GRID * GRID + 1}")
    torch.set_num_threads(1)

    folder = Path(args.sequence)
    seq = load_sequence_dir(folder.parent.parent, folder.name)
    frames = [seq.frame(i) for i in range(min(len(seq), args.frames + 1))]
    height, width = frames[0].shape[:2]
    variants = {"one pass": lambda: longtrack.create("globaltrack"),
                "separate": lambda: SeparateTrackers(lambda: longtrack.create("globaltrack"))}
    results = []
    with tqdm(total=len(args.targets) * len(variants) * args.repeats, unit="run") as bar:
        for count in args.targets:
            boxes = target_boxes(seq.boxes[0], width, height, count)
            trackers = {name: build() for name, build in variants.items()}
            runs = {name: [] for name in variants}
            for tracker in trackers.values():
                timed_run(tracker, frames[:3], boxes)  # warm-up: allocator, anchor cache
            for _ in range(args.repeats):
                for name, tracker in trackers.items():
                    runs[name].append(timed_run(tracker, frames, boxes))
                    bar.update(1)
            row = {"targets": count, **{name: statistics.median(r) for name, r in runs.items()}}
            clock = BackboneClock(trackers["one pass"].model)
            timed_run(trackers["one pass"], frames, boxes)
            row["backbone_ms"] = 1000 * clock.seconds / clock.calls
            results.append(row)

    print(f"\n{seq.name}: {width}x{height}, {len(frames) - 1} frames per run, median of {args.repeats}, "
          f"torch threads {torch.get_num_threads()}, frames per CPU second\n")
    print("| targets | one pass (fps) | N separate trackers (fps) | one pass / separate | "
          "one pass: CPU ms per frame | of which backbone |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in results:
        print(f"| {row['targets']} | {row['one pass']:.2f} | {row['separate']:.2f} | "
              f"{row['one pass'] / row['separate']:.2f}x | {1000 / row['one pass']:.0f} | {row['backbone_ms']:.0f} |")
    if args.json:
        with atomic_open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"sequence": str(folder), "size": [width, height], "frames": len(frames) - 1,
                       "repeats": args.repeats, "results": results}, fh, indent=2)


if __name__ == "__main__":
    main()
