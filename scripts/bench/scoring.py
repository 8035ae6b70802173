"""Time scoring one tracker over the 280 LaSOT test sequences: longtrack beside reference Python
implementations, measured in the same run on the same files.

References (each reads the files itself, as it would in practice):

* ``matlab-loop``: a per-frame Python transcription of the LaSOT MATLAB toolkit
  (``calc_seq_err_robust.m`` + ``eval_tracker.m``), files read with ``np.loadtxt``;
* ``pysot-style``: the structure of pysot's ``toolkit`` (``OPEBenchmark`` +
  ``utils/statistics.py``: line-split file reading, one numpy pass per threshold);
* ``got10k-0.1.3``: the got10k package's own ``rect_iou`` / ``center_error`` and
  ``ExperimentOTB._calc_curves`` on ``np.loadtxt`` files (only when ``got10k`` is importable; it
  is not a longtrack dependency: ``pip install got10k`` in a separate virtual environment).

Usage (from the repository root):
    python scripts/bench/scoring.py --root ../shared/fixtures/eval/lasot --tracker Ocean
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np

from longtrack.datasets import load_dataset
from longtrack.evaluation.scoring import score_results


def matlab_loop(root: Path, tracker: str, names: list[str]) -> float:
    """Success AUC by a straightforward per-frame loop port of the MATLAB toolkit."""
    thresholds = [i * 0.05 for i in range(21)]
    curves = []
    for name in names:
        anno = np.loadtxt(root / "annos" / f"{name}.txt", delimiter=",", ndmin=2)
        absent = np.loadtxt(root / "annos" / "absent" / f"{name}.txt", ndmin=1)
        res = np.loadtxt(root / "results" / tracker / f"{name}.txt", delimiter=",", ndmin=2)[: len(anno)]
        res = [list(r) for r in res]
        for i in range(1, len(anno)):
            r = res[i]
            if (any(math.isnan(v) for v in r) or r[2] <= 0 or r[3] <= 0) and not any(math.isnan(v) for v in anno[i]):
                res[i] = res[i - 1]
        res[0] = list(anno[0])
        overlaps = []
        for i in range(len(anno)):
            if absent[i] == 1:
                continue
            a, b = res[i], anno[i]
            if all(v > 0 for v in b):
                iw = max(0.0, min(a[0] + a[2] - 1, b[0] + b[2] - 1) - max(a[0], b[0]) + 1)
                ih = max(0.0, min(a[1] + a[3] - 1, b[1] + b[3] - 1) - max(a[1], b[1]) + 1)
                inter = iw * ih
                overlaps.append(inter / (a[2] * a[3] + b[2] * b[3] - inter))
            else:
                overlaps.append(-1.0)
        curves.append([sum(1 for o in overlaps if o > t) / (len(anno) + 2.220446049250313e-16)
                       for t in thresholds])
    return float(np.mean(np.mean(np.array(curves), axis=0)))


def _read_lines(path: Path) -> np.ndarray:
    with open(path) as fh:
        return np.array([list(map(float, line.strip().split(","))) for line in fh if line.strip()])


def pysot_style(root: Path, tracker: str, names: list[str]) -> float:
    """Success AUC with pysot toolkit's structure (absent frames dropped, frame 1 kept)."""
    thresholds = np.arange(0, 1.05, 0.05)
    curves = []
    for name in names:
        gt = _read_lines(root / "annos" / f"{name}.txt")
        visible = _read_lines(root / "annos" / "absent" / f"{name}.txt")[:, 0] == 0
        pred = _read_lines(root / "results" / tracker / f"{name}.txt")[: len(gt)]
        n_frame = len(gt)
        gt, pred = gt[visible], pred[visible]
        iou = np.ones(len(gt)) * -1
        mask = np.sum(gt[:, 2:] > 0, axis=1) == 2
        a, b = gt[mask], pred[mask]
        left, right = np.maximum(a[:, 0], b[:, 0]), np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
        top, bottom = np.maximum(a[:, 1], b[:, 1]), np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
        inter = np.maximum(0, right - left) * np.maximum(0, bottom - top)
        iou[mask] = np.clip(inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter), 0, 1)
        success = np.zeros(len(thresholds))
        for i in range(len(thresholds)):
            success[i] = np.sum(iou > thresholds[i]) / float(n_frame)
        curves.append(success)
    return float(np.mean(np.mean(curves, axis=0)))


def got10k_package(root: Path, tracker: str, names: list[str]) -> float | None:
    try:
        from got10k.experiments.otb import ExperimentOTB
        from got10k.utils.metrics import center_error, rect_iou
    except ImportError:
        return None
    calc_curves = ExperimentOTB._calc_curves
    holder = type("Bins", (), {"nbins_iou": 21, "nbins_ce": 51})()
    curves = []
    for name in names:
        anno = np.loadtxt(root / "annos" / f"{name}.txt", delimiter=",")
        boxes = np.loadtxt(root / "results" / tracker / f"{name}.txt", delimiter=",")[: len(anno)]
        boxes[0] = anno[0]
        succ, _ = calc_curves(holder, rect_iou(boxes, anno), center_error(boxes, anno))
        curves.append(succ)
    return float(np.mean(np.mean(curves, axis=0)))


def best_of(repeat: int, fn):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("../shared/fixtures/eval/lasot"),
                        help="LaSOT in the evaluation toolkit's layout (annos/, results/<tracker>/)")
    parser.add_argument("--tracker", default="Ocean")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--json", type=Path, help="write the timings here")
    args = parser.parse_args()
    results_dir = args.root / "results" / args.tracker

    t_load, sequences = best_of(args.repeat, lambda: load_dataset("lasot", args.root, progress=False))
    names = [s.name for s in sequences]
    t_score, ours = best_of(args.repeat, lambda: score_results("lasot", sequences, results_dir, progress=False))
    rows = [("longtrack: load ground truth", t_load, None),
            ("longtrack: score_results (reads results)", t_score, ours["success_auc"]),
            ("longtrack: total", t_load + t_score, ours["success_auc"])]
    for label, fn in (("reference: matlab-loop (LaSOT toolkit, per-frame Python)", matlab_loop),
                      ("reference: pysot-style", pysot_style),
                      ("reference: got10k-0.1.3 package (OTB convention)", got10k_package)):
        seconds, auc = best_of(args.repeat, lambda fn=fn: fn(args.root, args.tracker, names))
        if auc is None:
            rows.append((label + " -- not installed, skipped", float("nan"), None))
        else:
            rows.append((label, seconds, auc))

    print(f"{len(names)} sequences, tracker {args.tracker}, best of {args.repeat}; "
          f"{platform.processor() or platform.machine()}, numpy {np.__version__}")
    for label, seconds, auc in rows:
        shown = "" if auc is None else f"  success AUC {auc:.6f}"
        print(f"{label:<62} {seconds:7.3f} s{shown}")
    if args.json:
        args.json.write_text(json.dumps([{"what": r[0], "seconds": r[1], "success_auc": r[2]} for r in rows],
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
