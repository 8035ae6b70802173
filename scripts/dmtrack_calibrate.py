"""Calibrate DMTrack's score thresholds to a trained detector on the synthetic VAL split and store
them in the weights file (its config's ``tracker`` section, which the tracker reads).

The thresholds (``recover_score``, ``gallery_score``, ``reid_threshold``, ``presence_threshold``)
were set before training in the units of a well-trained detector; a small detector trained briefly
from scratch scores its best candidates far lower (e.g. 0.1-0.2), so with them the target is never
recovered nor said present. This script runs the network ONCE per frame over sequences
``0..num-1`` of the ``lt`` preset's val split (never the test split the benchmarks use) and
replays its candidates through one re-id tracker per grid point (``recover_score`` =
``gallery_score`` in ``--recover``, ``reid_threshold`` in ``--reid``); it keeps the pair with the
highest mean IoU over visible frames (the success AUC's integrand), then the
``presence_threshold`` maximising the pooled OxUvA geometric mean of TPR and TNR on that run.

    OMP_NUM_THREADS=1 python scripts/dmtrack_calibrate.py --weights src/longtrack/weights/dmtrack-synth.pt \\
        --num 3 --num-frames 500 --write src/longtrack/weights/dmtrack-synth.pt
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import warnings

import numpy as np
import torch

from longtrack.checkpoint import load_weights, save_weights
from longtrack.evaluation.oxuva import best_presence_threshold
from longtrack.synth import make_sequence
from longtrack.trackers.association import iou_matrix
from longtrack.trackers.dmtrack_replay import RecordingTracker, ReplayingTracker


def xyxy(xywh: np.ndarray) -> np.ndarray:
    b = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def run_grid(recorder: RecordingTracker, replays: dict, seq) -> dict:
    """Per grid key ``(scores [N], boxes [N, 4] xywh)``; frame 0 is the given box with score 1."""
    out = {k: ([1.0], [np.asarray(seq.boxes[0], dtype=np.float64)]) for k in replays}
    recorder.initialize(seq.render(0), seq.boxes[0])
    for tracker in replays.values():
        tracker.initialize(seq.render(0), seq.boxes[0])
    for i in range(1, len(seq)):
        frame = seq.render(i)
        recorder.detect(frame)  # the replays read these candidates
        for key, tracker in replays.items():
            pred = tracker.track(frame)
            out[key][0].append(pred.score)
            out[key][1].append(np.asarray(pred.box))
    return {k: (np.asarray(s), np.stack(b)) for k, (s, b) in out.items()}


def mean_visible_iou(runs: list) -> float:
    ious = [np.diag(iou_matrix(xyxy(boxes[1:]), xyxy(gt[1:])))[~absent[1:]] for _, boxes, gt, absent in runs]
    return float(np.mean(np.concatenate(ious)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--num", type=int, default=3, help="val sequences 0..N-1")
    parser.add_argument("--num-frames", type=int, default=500, help="frames per sequence (events scaled)")
    parser.add_argument("--recover", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2])
    parser.add_argument("--reid", type=float, nargs="+", default=[0.6, 0.85])
    parser.add_argument("--write", metavar="OUT.pt", help="save the weights with the calibration here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        recorder = RecordingTracker(weights=args.weights, association="reid")
    replays = {}
    for recover, reid in itertools.product(args.recover, args.reid):
        replay = ReplayingTracker(recorder, "reid")
        replay.recover_score = replay.gallery_score = recover
        replay.reid_threshold = reid
        replays[(recover, reid)] = replay
    start = time.perf_counter()
    runs = {k: [] for k in replays}
    for index in range(args.num):
        seq = make_sequence("lt", "val", index, num_frames=args.num_frames)
        gt, absent = np.asarray(seq.boxes, dtype=np.float64), np.asarray(seq.absent, dtype=bool)
        for key, (scores, boxes) in run_grid(recorder, replays, seq).items():
            runs[key].append((scores, boxes, gt, absent))
        print(f"{seq.name}: {len(seq)} frames, {int(absent.sum())} absent", file=sys.stderr, flush=True)
    table = {k: mean_visible_iou(r) for k, r in runs.items()}
    for (recover, reid), value in table.items():
        print(f"recover_score = gallery_score {recover:.2f}, reid_threshold {reid:.2f}: mean visible IoU {value:.4f}")
    (recover, reid) = max(table, key=table.get)
    presence, _ = best_presence_threshold(runs[(recover, reid)])
    frames = args.num * args.num_frames
    print(f"{frames} frames x {len(replays)} settings in {time.perf_counter() - start:.0f} s; chosen recover_score "
          f"{recover}, reid_threshold {reid}, presence_threshold {presence['threshold']:.4f} (TPR {presence['tpr']:.3f}, "
          f"TNR {presence['tnr']:.3f}, GM {presence['gm']:.3f})")
    calibration = {"reid_threshold": reid, "recover_score": recover, "gallery_score": recover,
                   "presence_threshold": presence["threshold"],
                   "calibrated_on": f"synthetic lt val 0..{args.num - 1}, {args.num_frames} frames each: "
                                    f"max mean visible IoU, then max OxUvA GM (scripts/dmtrack_calibrate.py)"}
    print(json.dumps(calibration, indent=1))
    if args.write:
        loaded = load_weights(args.weights, method="dmtrack")
        save_weights(args.write, method="dmtrack", config={**loaded.config, "tracker": calibration},
                     state_dict=loaded.state_dict, step=loaded.step, source=loaded.provenance)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
