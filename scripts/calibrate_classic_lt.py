"""Fit classic-lt's confidence calibration on the synthetic train split (docs/baselines.md).

classic-lt's confidence is ``sigmoid(w_peak * r + w_first * s0 + w_bank * s + bias)`` where ``r``
is the correlation filter's response peak relative to its running level, ``s0`` the NCC of the
box with the first-frame template and ``s`` its best NCC with any template of the bank. This
script runs the tracker (with its current parameters) over train sequences, records that
evidence on every frame where it is computed for the reported box, labels the frame 1 when the
box overlaps the truth with IoU >= 0.5 (0 when the target is absent), and fits the four numbers
by L2-regularised logistic regression. It prints them and how well the fit is calibrated.

    python scripts/calibrate_classic_lt.py --num 6 --size 320x240
"""
from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np
from scipy.optimize import minimize
from tqdm import tqdm

from longtrack.boxes import iou
from longtrack.synth import make_sequence, parse_size
from longtrack.trackers.classic_lt import ClassicLongTermTracker


def collect(seq, progress: tqdm) -> tuple[np.ndarray, np.ndarray]:
    """Evidence (M, 3) and labels (M,) of one sequence, on frames where the reported box was scored."""
    tracker = ClassicLongTermTracker()
    tracker.initialize(seq.render(0), seq.boxes[0])
    evidence, labels = [], []
    for index in range(1, len(seq)):
        was_local = tracker.state.mode == "local"
        pred = tracker.track(seq.render(index))
        progress.update(1)
        if was_local or pred.present:  # the evidence belongs to the reported box
            hit = (not seq.absent[index]) and float(iou(pred.box, seq.boxes[index])) >= 0.5
            evidence.append(tracker.state.evidence)
            labels.append(float(hit))
    return np.asarray(evidence, dtype=np.float64), np.asarray(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Weights (w_1..w_k, bias) minimising the mean logistic loss + l2 * |w|^2."""
    design = np.c_[x, np.ones(len(x))]

    def loss_and_grad(w):
        z = design @ w
        loss = np.mean(np.logaddexp(0.0, z) - y * z) + l2 * np.sum(w[:-1] ** 2)
        grad = design.T @ (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
        grad[:-1] += 2.0 * l2 * w[:-1]
        return loss, grad

    return minimize(loss_and_grad, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lt")
    parser.add_argument("--num", type=int, default=6, help="train sequences 0 .. num-1")
    parser.add_argument("--size", default="320x240")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    seqs = [make_sequence(preset=args.preset, split="train", index=i, size=parse_size(args.size))
            for i in range(args.num)]
    xs, ys = [], []
    with tqdm(total=sum(len(s) - 1 for s in seqs), unit="frame", file=sys.stderr) as progress:
        for seq in seqs:
            x, y = collect(seq, progress)
            xs.append(x)
            ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    w = fit_logistic(x, y)
    print(f"{len(y)} frames, {y.mean():.3f} of them correct")
    print(f"w_peak={w[0]:.3f}, w_first={w[1]:.3f}, w_bank={w[2]:.3f}, bias={w[3]:.3f}")
    prob = 1.0 / (1.0 + np.exp(-(np.c_[x, np.ones(len(x))] @ w)))
    print("reliability (predicted bin: mean predicted / observed fraction correct / frames)")
    for low in np.arange(0.0, 1.0, 0.1):
        inside = (prob >= low) & (prob < low + 0.1 + 1e-9 * (low >= 0.9))
        if inside.any():
            print(f"  [{low:.1f}, {low + 0.1:.1f}): {prob[inside].mean():.3f} / {y[inside].mean():.3f} / {int(inside.sum())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
