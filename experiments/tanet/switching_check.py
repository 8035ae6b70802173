"""Separate TANet's two halves on the ablation set: the switching of Algorithm 2 with the
shipped generator's map, and the same switching fed an oracle map (the ground-truth box of the
current frame, nothing where the target is absent) -- what a generator that localises the
target would give.

    OMP_NUM_THREADS=1 python experiments/tanet/switching_check.py --local kcf [--oracle] \
        [--sequences hexagon-1,blob-2,...] [--option verify=none ...]

Prints per-frame summaries over the sequences (first frame excluded): mean IoU of the reported
box on visible frames (0 where reported absent), TPR (present and IoU > 0.5, visible frames),
TNR (reported absent, absent frames), frames spent in global search, relocations (a global
candidate became the local tracker) and how many of them landed on the target (IoU > 0.3).
These are diagnostics; the benchmark scores come from `longtrack eval` + `longtrack score`.
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import yaml

from longtrack.api import create
from longtrack.boxes import iou
from longtrack.datasets import load_dataset

ABLATION_ROOT = Path.home() / ".cache" / "longtrack" / "synth-lt-v1.0.0-f600"


def oracle_map(box, absent: bool, image_size: tuple[int, int], side: int = 64) -> np.ndarray:
    """``(side, side)`` map: 1 inside the ground-truth box, 0 elsewhere (all 0 when absent)."""
    att = np.zeros((side, side), np.float32)
    if absent:
        return att
    sx, sy = side / image_size[0], side / image_size[1]
    x0, y0 = int(np.clip(box[0] * sx, 0, side - 1)), int(np.clip(box[1] * sy, 0, side - 1))
    x1 = int(np.clip(np.ceil((box[0] + box[2]) * sx), x0 + 1, side))
    y1 = int(np.clip(np.ceil((box[1] + box[3]) * sy), y0 + 1, side))
    att[y0:y1, x0:x1] = 1.0
    return att


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", default="kcf")
    parser.add_argument("--oracle", action="store_true", help="feed the ground-truth map")
    parser.add_argument("--sequences", default="hexagon-1,blob-2,crescent-3,hexagon-4,diamond-5,diamond-6")
    parser.add_argument("--root", type=Path, default=ABLATION_ROOT)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    torch.set_num_threads(1)
    options = {k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in args.option)}
    ious, tp, tn, global_frames, relocations, good = [], [], [], 0, 0, 0
    start, frames = time.perf_counter(), 0
    for seq in load_dataset("synthetic", args.root, sequences=args.sequences.split(",")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tracker = create(f"tanet:{args.local}", **options)
        truth = {}
        if args.oracle:
            tracker.attention = lambda frame: oracle_map(truth["box"], truth["absent"], tracker.image_size)
        for i in range(len(seq)):
            frame = seq.frame(i)
            if i == 0:
                tracker.initialize(frame, seq.init_box)
                continue
            truth.update(box=seq.boxes[i], absent=bool(seq.absent[i]))
            before = tracker.state.relocations
            pred = tracker.track(frame)
            frames += 1
            overlap = float(iou(pred.box, seq.boxes[i])) if not truth["absent"] else 0.0
            if truth["absent"]:
                tn.append(not pred.present)
            else:
                ious.append(overlap if pred.present else 0.0)
                tp.append(pred.present and overlap > 0.5)
            global_frames += tracker.state.mode == "global"
            if tracker.state.relocations > before:
                relocations += 1
                good += overlap > 0.3
    print(f"tanet:{args.local} {'oracle map' if args.oracle else 'generator map'} {options or ''}: "
          f"{frames} frames, mean IoU {np.mean(ious):.3f}, TPR {np.mean(tp):.3f}, TNR {np.mean(tn):.3f}, "
          f"global-search frames {global_frames}, relocations {relocations} (on target {good}), "
          f"{frames / (time.perf_counter() - start):.1f} frames/s")


if __name__ == "__main__":
    main()
