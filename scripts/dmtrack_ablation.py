"""DMTrack's ablation of how the target is chosen among the detector's candidates (the paper's
Table 6: detector top-1 53.0 / position constraint 46.9 / re-id association 57.4 success on LaSOT),
on the synthetic long-term test benchmark.

The three selections see the same detections: the network runs once per frame and its candidates
feed three trackers (``association="top1" | "position" | "reid"``). Results go to
``OUT/<benchmark id>/dmtrack-<mode>/`` in the benchmark's format (resumable per sequence) and are
scored as ``longtrack score`` does.

    OMP_NUM_THREADS=1 python scripts/dmtrack_ablation.py [--weights FILE] [--num 10] [--out runs/dmtrack-ablation]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from longtrack.datasets import load_dataset
from longtrack.evaluation.result_formats import expected_result_files, write_sequence_results
from longtrack.evaluation.scoring import score_results
from longtrack.evaluation.synth_benchmark import SynthBenchmark, default_cache_root, ensure_written
from longtrack.synth import parse_size
from longtrack.trackers.dmtrack import ASSOCIATIONS, DMTrackTracker
from longtrack.registry import get_tracker_spec


class SharedDetections(DMTrackTracker):
    """A tracker whose ``detect`` replays the candidates another tracker computed for this frame."""

    def __init__(self, source: DMTrackTracker, association: str):
        self.__dict__.update({k: v for k, v in source.__dict__.items() if k not in ("state", "associator")})
        self.association = association
        self.source = source
        self.state = self.associator = None

    def _initialize(self, frame, box):
        DMTrackTracker._initialize(self, frame, box)

    def detect(self, frame):
        return self.source.last_candidates


class RecordingTracker(DMTrackTracker):
    """The tracker that runs the network; keeps its last candidates for the others."""

    def detect(self, frame):
        self.last_candidates = super().detect(frame)
        return self.last_candidates


def track_all(seq, trackers: dict[str, DMTrackTracker]) -> dict[str, tuple]:
    """Every tracker over ``seq``; the recording tracker (first) must track first in each frame."""
    n = len(seq)
    out = {m: (np.empty((n, 4)), np.empty(n), np.empty(n, dtype=bool)) for m in trackers}
    for i in range(n):
        frame = seq.frame(i)
        for mode, tracker in trackers.items():
            boxes, scores, present = out[mode]
            if i == 0:
                tracker.initialize(frame, seq.init_box)
                boxes[i], scores[i], present[i] = seq.init_box, 1.0, True
            else:
                pred = tracker.track(frame)
                boxes[i], scores[i], present[i] = pred.box, pred.score, pred.present
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="DMTrack weights (default: the shipped dmtrack-synth.pt)")
    parser.add_argument("--num", type=int, default=10, help="benchmark sequences 0..N-1 (default 10)")
    parser.add_argument("--preset", default="lt")
    parser.add_argument("--size", help="frame size override WxH (quick checks)")
    parser.add_argument("--num-frames", type=int, help="frames per sequence override (quick checks)")
    parser.add_argument("--root", type=Path, help="benchmark folder (default: the shared cache)")
    parser.add_argument("--out", type=Path, default=Path("runs/dmtrack-ablation"))
    parser.add_argument("--json", type=Path, help="write the scores here")
    args = parser.parse_args()
    torch.set_num_threads(1)

    bench = SynthBenchmark(args.num, args.preset, parse_size(args.size) if args.size else None, args.num_frames)
    root = args.root or default_cache_root(bench)
    sequences = load_dataset("synthetic", root, sequences=ensure_written(bench, root, progress=False))
    weights = args.weights or get_tracker_spec("dmtrack").weights_path()
    first = RecordingTracker(weights=weights, association="reid")
    trackers = {"reid": first, **{m: SharedDetections(first, m) for m in ASSOCIATIONS if m != "reid"}}
    folders = {m: args.out / bench.id / f"dmtrack-{m}" for m in trackers}
    for seq in sequences:
        if all(all(p.is_file() for p in expected_result_files("synthetic", folders[m], seq)) for m in trackers):
            continue
        print(f"{seq.name}: {len(seq)} frames", file=sys.stderr, flush=True)
        for mode, (boxes, scores, present) in track_all(seq, trackers).items():
            write_sequence_results("synthetic", folders[mode], seq, boxes, scores, present, np.zeros(len(seq)))
    table = {}
    for mode, folder in folders.items():
        scores = score_results("synthetic", sequences, folder)
        table[mode] = {k: float(scores[k]) for k in ("success_auc", "precision", "norm_precision")}
        print(f"{mode:9s} success AUC {table[mode]['success_auc']:.3f}  precision {table[mode]['precision']:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"benchmark": bench.id, "weights": str(weights), "scores": table}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
