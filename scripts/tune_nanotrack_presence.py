"""Tune nanotrack's presence threshold on real-train (never on real-val or real/).

    OMP_NUM_THREADS=1 python scripts/tune_nanotrack_presence.py --weights ../shared/models/nanotrack-v2

real-train has no target-absent frame, so each of its sequences A becomes a clip with one: A's
first ``--visible`` frames, then ``--absent`` frames of the next sequence of another class
(resized to A's frame size: the target is not in them), then A's next ``--visible`` frames (the
target is back where A has it). NanoTrack runs over each clip with presence off, and the script
picks the t whose ``present = score >= t`` maximises the pooled OxUvA geometric mean of TPR and
TNR (:func:`longtrack.evaluation.oxuva.best_presence_threshold`), the rule the tracker uses.
"""
from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from tqdm import tqdm

import longtrack
from longtrack.datasets import load_dataset
from longtrack.evaluation.oxuva import best_presence_threshold


def class_of(seq) -> str:
    return seq.name.rsplit("-", 1)[0]


def spliced_clip(seq, other, visible: int, absent: int):
    """``(frames, gt (N, 4), absent (N,))``: ``seq``'s start, ``other``'s frames, ``seq``'s next frames."""
    first = list(range(min(len(seq), visible)))
    back = list(range(len(first), min(len(seq), len(first) + visible)))
    width, height = seq.image_size or seq.frame(0).shape[1::-1]
    frames = [seq.frame(i) for i in first]
    frames += [cv2.resize(other.frame(i), (width, height), interpolation=cv2.INTER_AREA)
               for i in range(min(len(other), absent))]
    n_absent = len(frames) - len(first)
    frames += [seq.frame(i) for i in back]
    gt = np.concatenate([seq.boxes[first], np.zeros((n_absent, 4)), seq.boxes[back].reshape(-1, 4)])
    is_absent = np.concatenate([seq.absent[first], np.ones(n_absent, bool), seq.absent[back]])
    return frames, gt, is_absent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="the folder of NanoTrack's two ONNX files")
    parser.add_argument("--root", default="../shared/data/real-train", help="a LaSOT-layout training root")
    parser.add_argument("--visible", type=int, default=100, help="frames of the sequence before and after")
    parser.add_argument("--absent", type=int, default=50, help="frames of another sequence in between")
    args = parser.parse_args()
    cv2.setNumThreads(1)

    sequences = load_dataset("lasot", args.root, progress=False)
    tracker = longtrack.create("nanotrack", weights=args.weights, presence_threshold=0.0)
    runs, frames_done, seconds = [], 0, 0.0
    for k, seq in enumerate(tqdm(sequences, desc="clips", unit="clip")):
        other = next(s for s in sequences[k + 1:] + sequences[:k] if class_of(s) != class_of(seq))
        frames, gt, absent = spliced_clip(seq, other, args.visible, args.absent)
        start = time.perf_counter()
        tracker.initialize(frames[0], tuple(gt[0]))
        preds = [tracker.track(f) for f in frames[1:]]
        seconds += time.perf_counter() - start
        frames_done += len(frames)
        scores = np.array([1.0] + [p.score for p in preds])
        boxes = np.array([gt[0]] + [p.box for p in preds])
        runs.append((scores, boxes, gt, absent))
    best, table = best_presence_threshold(runs)
    print(f"{len(runs)} clips, {frames_done} frames ({sum(int(r[3].sum()) for r in runs)} absent), "
          f"{frames_done / seconds:.0f} frames/s")
    print("threshold   TPR    TNR    GM")
    for row in table[::10] + [best]:
        print(f"{row['threshold']:.4f}  {row['tpr']:.3f}  {row['tnr']:.3f}  {row['gm']:.3f}"
              + ("  <- best" if row is best else ""))


if __name__ == "__main__":
    main()
