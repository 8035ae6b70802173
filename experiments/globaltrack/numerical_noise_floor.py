"""How far GlobalTrack's boxes move under perturbations that are not storage at all: the same
fp32 weights run with 1 and with 2 intra-op threads (a different summation order), against the
move from fp16 storage. Shows whether the 0.1 px fp16 rule sits below the model's own noise floor.

    python experiments/globaltrack/numerical_noise_floor.py --weights W_fp32.pt --half W_fp16.pt
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import longtrack
from longtrack.datasets import load_dataset


def boxes(tracker, seq, frames):
    tracker.initialize(seq.frame(0), seq.boxes[0])
    return np.array([tracker.track(seq.frame(i)).box for i in range(1, min(frames, len(seq)))])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True)
    p.add_argument("--half", required=True)
    p.add_argument("--root", default="../shared/data/real-train")
    p.add_argument("--sequences", type=int, default=3)
    p.add_argument("--frames", type=int, default=60)
    a = p.parse_args()
    full = longtrack.create("globaltrack", weights=a.weights)
    half = longtrack.create("globaltrack", weights=a.half)
    for seq in load_dataset("lasot", a.root, split="all", progress=False)[: a.sequences]:
        torch.set_num_threads(1)
        one = boxes(full, seq, a.frames)
        h1 = boxes(half, seq, a.frames)
        torch.set_num_threads(2)
        two = boxes(full, seq, a.frames)
        d_threads = np.abs(one - two).max(axis=1)
        d_half = np.abs(one - h1).max(axis=1)
        print(f"{seq.name}: threads 1 vs 2: max {d_threads.max():.3f} px, frames > 0.1 px {int((d_threads > 0.1).sum())}"
              f"/{len(one)} | fp16 storage: max {d_half.max():.3f} px, frames > 0.1 px "
              f"{int((d_half > 0.1).sum())}/{len(one)}")


if __name__ == "__main__":
    main()
