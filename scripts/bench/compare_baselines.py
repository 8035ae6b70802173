"""Compare the weights-free baselines on synthetic long-term sequences (docs/baselines.md).

Each frame is rendered once and given to every tracker; each tracker's CPU time is measured
around its own calls only. Scores: success AUC / precision / normalised precision (LaSOT
protocol, averaged over sequences), OxUvA presence TPR / TNR / max-GM (counts pooled over
sequences) and re-detection after absence (fraction of re-appearances re-found, pooled).

    python scripts/bench/compare_baselines.py --preset lt --split test --num 10 --size 320x240 \\
        --json benchmarks/baselines_lt_320x240.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import cv2
import numpy as np
from tqdm import tqdm

import longtrack
from longtrack.contract import Prediction
from longtrack.evaluation.ope import ope_scores
from longtrack.evaluation.oxuva import presence_counts, quality_metrics, sum_counts
from longtrack.evaluation.redetection import reappearances, summarize
from longtrack.fileio import atomic_write_text
from longtrack.synth import GENERATOR_VERSION, make_sequence, parse_size


def track_sequence(seq, names: list[str], progress: tqdm) -> dict:
    """Run every tracker over ``seq``; returns name -> (boxes (N,4), present (N,), cpu seconds)."""
    trackers = {name: longtrack.create(name) for name in names}
    boxes = {name: np.zeros((len(seq), 4)) for name in names}
    present = {name: np.zeros(len(seq), dtype=bool) for name in names}
    cpu = dict.fromkeys(names, 0.0)
    for index in range(len(seq)):
        frame = seq.render(index)
        for name, tracker in trackers.items():
            started = time.process_time()
            if index == 0:
                tracker.initialize(frame, seq.boxes[0])
                pred = Prediction(tuple(seq.boxes[0]), 1.0, True)
            else:
                pred = tracker.track(frame)
            cpu[name] += time.process_time() - started
            boxes[name][index], present[name][index] = pred.box, pred.present
        progress.update(1)
    return {name: (boxes[name], present[name], cpu[name]) for name in names}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lt")
    parser.add_argument("--split", default="test")
    parser.add_argument("--num", type=int, default=10, help="sequences 0 .. num-1 of the split")
    parser.add_argument("--size", default=None, help="frame size WxH (default: the preset's)")
    parser.add_argument("--trackers", nargs="+", default=["classic-lt", "csrt", "kcf", "tld"])
    parser.add_argument("--json", default=None, help="write per-sequence and pooled scores here")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # the measurements are for one core
    size = parse_size(args.size) if args.size else None

    seqs = [make_sequence(preset=args.preset, split=args.split, index=i, size=size) for i in range(args.num)]
    per_sequence = {name: {} for name in args.trackers}
    counts = {name: [] for name in args.trackers}
    events = {name: [] for name in args.trackers}
    cpu = dict.fromkeys(args.trackers, 0.0)
    total_frames = sum(len(s) for s in seqs)
    with tqdm(total=total_frames, unit="frame", desc="sequences", file=sys.stderr) as progress:
        for seq in seqs:
            results = track_sequence(seq, args.trackers, progress)
            for name, (boxes, present, seconds) in results.items():
                scores = ope_scores(boxes, seq.boxes, seq.absent)
                counts[name].append(presence_counts(present, boxes, seq.boxes, seq.absent))
                events[name] += reappearances(boxes, seq.boxes, seq.absent, present)
                per_sequence[name][seq.name] = {k: round(float(v), 4) for k, v in scores.items()}
                cpu[name] += seconds
            line = "  ".join(f"{n} {per_sequence[n][seq.name]['success_auc']:.3f}" for n in args.trackers)
            tqdm.write(f"{seq.name} ({len(seq)} frames): {line}", file=sys.stderr)

    summary = {}
    for name in args.trackers:
        seq_scores = list(per_sequence[name].values())
        presence = quality_metrics(sum_counts(counts[name]))
        redetect = summarize(events[name])
        summary[name] = {
            **{k: float(np.mean([s[k] for s in seq_scores])) for k in ("success_auc", "precision", "norm_precision")},
            "tpr": presence["tpr"], "tnr": presence["tnr"], "max_gm": presence["max_gm"],
            "redetected_fraction": redetect["redetected_fraction"],
            "num_reappearances": redetect["num_reappearances"],
            "fps_one_core": total_frames / max(cpu[name], 1e-9),
            "per_sequence": per_sequence[name],
        }

    print(f"{args.preset} {args.split} 0..{args.num - 1}, {total_frames} frames"
          f"{f' at {size[0]}x{size[1]}' if size else ''}")
    print("| tracker | success AUC | precision | norm. precision | TPR | TNR | max-GM | re-detected | fps (1 core) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, s in summary.items():
        print(f"| {name} | {s['success_auc']:.3f} | {s['precision']:.3f} | {s['norm_precision']:.3f} | "
              f"{s['tpr']:.3f} | {s['tnr']:.3f} | {s['max_gm']:.3f} | "
              f"{s['redetected_fraction']:.2f} of {s['num_reappearances']} | {s['fps_one_core']:.0f} |")
    if args.json:
        report = {"preset": args.preset, "split": args.split, "num": args.num,
                  "size": list(size) if size else None, "frames": total_frames,
                  "generator_version": GENERATOR_VERSION,
                  "trackers": summary}
        atomic_write_text(args.json, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
