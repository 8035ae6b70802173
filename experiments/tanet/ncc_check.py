"""Does the template check separate the target from background on the ablation set? The NCC
(``TemplateCheck``, what ``verify`` uses) of the ground-truth box with the first-frame target,
and of 3 random boxes of the first box's size that miss the target, every 10th frame.

    python experiments/tanet/ncc_check.py [--threshold 0.5]

Prints per sequence the target's NCC quantiles (10/50/90%) and the share of target and
background boxes at or above the threshold.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from longtrack.boxes import iou
from longtrack.datasets import load_dataset
from longtrack.trackers.tanet_search import TemplateCheck

ABLATION_ROOT = Path.home() / ".cache" / "longtrack" / "synth-lt-v1.0.0-f600"


def ncc_samples(seq, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The NCC with the first-frame target of the target's box (where present) and of 3 random
    boxes of the first box's size that miss it, every 10th frame of ``seq``."""
    first = seq.frame(0)
    check = TemplateCheck(first, seq.init_box)
    height, width = first.shape[:2]
    w, h = seq.init_box[2], seq.init_box[3]
    target, background = [], []
    for i in range(1, len(seq), 10):
        frame = seq.frame(i)
        if not seq.absent[i]:
            target.append(check.similarity(frame, seq.boxes[i]))
        for _ in range(3):
            box = (rng.uniform(0, width - w), rng.uniform(0, height - h), w, h)
            if seq.absent[i] or iou(box, seq.boxes[i]) == 0:
                background.append(check.similarity(frame, box))
    return np.array(target), np.array(background)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ABLATION_ROOT)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for seq in load_dataset("synthetic", args.root):
        target, background = ncc_samples(seq, rng)
        print(f"{seq.name}: target NCC 10/50/90% {np.round(np.quantile(target, [0.1, 0.5, 0.9]), 2).tolist()}, "
              f">= {args.threshold}: target {np.mean(target >= args.threshold):.2f}, "
              f"background {np.mean(background >= args.threshold):.3f}")


if __name__ == "__main__":
    main()
