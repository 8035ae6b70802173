"""Largest box difference between a tracker run on fp32 weights and on their fp16-stored copy:
the check a shipped weights file needs before it is stored in float16 (a box may move by at most
0.1 px).

    OMP_NUM_THREADS=1 python scripts/fp16_box_check.py --tracker globaltrack --weights W_fp32.pt \
        --half W_fp16.pt --root ../shared/data/real-train --sequences 6 --frames 100

Both runs see the same frames of the first ``--sequences`` sequences of a LaSOT-layout root; the
report is the maximum absolute difference of any box coordinate over all frames.
"""
from __future__ import annotations

import argparse

import numpy as np
from tqdm import tqdm

import longtrack
from longtrack.datasets import load_dataset


def boxes_of(tracker, seq, frames: int) -> np.ndarray:
    tracker.initialize(seq.frame(0), seq.boxes[0])
    return np.array([tracker.track(seq.frame(i)).box for i in range(1, min(frames, len(seq)))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracker", required=True)
    parser.add_argument("--weights", required=True, help="the fp32 weights")
    parser.add_argument("--half", required=True, help="the same weights stored as float16")
    parser.add_argument("--root", default="../shared/data/real-train")
    parser.add_argument("--sequences", type=int, default=6)
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    full = longtrack.create(args.tracker, weights=args.weights)
    half = longtrack.create(args.tracker, weights=args.half)
    worst = 0.0
    for seq in tqdm(load_dataset("lasot", args.root, split="all", progress=False)[: args.sequences], unit="seq"):
        diff = float(np.abs(boxes_of(full, seq, args.frames) - boxes_of(half, seq, args.frames)).max())
        print(f"{seq.name}: max box difference {diff:.4f} px")
        worst = max(worst, diff)
    print(f"largest box difference over all frames: {worst:.4f} px ({'ok' if worst <= 0.1 else 'over 0.1 px'})")


if __name__ == "__main__":
    main()
