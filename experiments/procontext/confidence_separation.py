"""Does a tracker's confidence say whether it is on its target? From result folders of
``longtrack eval`` (boxes + ``_confidence.value``), no tracking:

    python experiments/procontext/confidence_separation.py --dataset synthetic --root ~/.cache/longtrack/synth-lt-v1.0.0-f600 \
        --results runs/ablation/synth-lt-v1.0.0-f600/procontext [--results ...]

For each folder, over all frames after the first: the mean confidence where the box is on the
target (IoU > 0.5) and where it is not (the target absent, or IoU < 0.1), their frame counts, and
the ROC AUC of the confidence separating the two groups (0.5: no information, 1: a threshold
separates them perfectly; ties count one half).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from longtrack.boxes import iou
from longtrack.datasets import load_dataset
from longtrack.evaluation.result_formats import read_sequence_results


def rank_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a random positive scores above a random negative), ties one half (Mann-Whitney U)."""
    if len(positive) == 0 or len(negative) == 0:
        return float("nan")
    values = np.concatenate([positive, negative])
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):  # average ranks of ties
        tied = values == v
        ranks[tied] = ranks[tied].mean()
    u = ranks[:len(positive)].sum() - len(positive) * (len(positive) + 1) / 2
    return float(u / (len(positive) * len(negative)))


def separation(dataset: str, root: str, folder: Path) -> dict:
    on, off = [], []
    for seq in load_dataset(dataset, root):
        result = read_sequence_results(dataset, folder, seq)
        if result.scores is None:
            raise SystemExit(f"{folder}: {seq.name} has no confidences")
        n = len(seq)
        overlap = iou(result.boxes[:n], seq.boxes)
        absent = np.asarray(seq.absent, dtype=bool)
        scores = np.asarray(result.scores[:n], dtype=np.float64)
        frames = np.arange(n) > 0  # the first frame is the given box
        on.append(scores[frames & ~absent & (overlap > 0.5)])
        off.append(scores[frames & (absent | (overlap < 0.1))])
    on, off = np.concatenate(on), np.concatenate(off)
    return {"on": on.mean() if len(on) else float("nan"), "off": off.mean() if len(off) else float("nan"),
            "n_on": len(on), "n_off": len(off), "auc": rank_auc(on, off)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--root", required=True)
    parser.add_argument("--results", action="append", required=True, help="a result folder (repeatable)")
    args = parser.parse_args()
    root = str(Path(args.root).expanduser())
    print("folder | mean confidence, IoU > 0.5 (frames) | mean confidence, absent or IoU < 0.1 (frames) | ROC AUC")
    for folder in args.results:
        s = separation(args.dataset, root, Path(folder))
        print(f"{folder} | {s['on']:.3f} ({s['n_on']}) | {s['off']:.3f} ({s['n_off']}) | {s['auc']:.3f}")


if __name__ == "__main__":
    main()
