"""Calibrate DMTrack's score thresholds to a trained detector on TRAINING data (the synthetic val
split, or a real training root) and store them in the weights file (its config's ``tracker``
section, which the tracker reads).

The thresholds (``recover_score``, ``gallery_score``, ``reid_threshold``, ``presence_threshold``)
were set before training in the units of a well-trained detector; a small detector trained briefly
from scratch scores its best candidates far lower (e.g. 0.1-0.2), so with them the target is never
recovered nor said present. This script runs the network ONCE per frame and replays its candidates
through one re-id tracker per grid point (``recover_score`` = ``gallery_score`` in ``--recover``,
``reid_threshold`` in ``--reid``); it keeps the pair with the highest mean IoU over visible frames
(the success AUC's integrand), then the ``presence_threshold`` maximising the pooled OxUvA
geometric mean of TPR and TNR on that run.

The data (never an evaluation set; those are refused before anything runs):

* default: sequences ``0..num-1`` of the synthetic ``lt`` preset's val split (never the test split
  the benchmarks use);
* ``--dataset lasot --root ../shared/data/real-train``: real training video, the first
  ``--max-frames`` of ``--sequences`` sequences spread evenly over the root's sorted list;
* ``--synth PRESET:N``: also N val-split sequences of a synthetic preset, as ``longtrack
  tune-presence`` takes them -- e.g. ``lt-real:3``, cut from real-train, holds the target-absent
  frames real-train lacks and without which the presence threshold cannot be tuned.

    OMP_NUM_THREADS=1 python scripts/dmtrack_calibrate.py --weights src/longtrack/weights/dmtrack-synth.pt \\
        --num 3 --num-frames 500 --write src/longtrack/weights/dmtrack-synth.pt
    OMP_NUM_THREADS=1 python scripts/dmtrack_calibrate.py --weights runs/dmtrack-real/dmtrack-real.pt \\
        --dataset lasot --root ../shared/data/real-train --sequences 10 --max-frames 100 \\
        --synth lt-real:3 --synth-frames 300 --write runs/dmtrack-real/dmtrack-real.pt
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
from tqdm import tqdm

from longtrack.checkpoint import load_weights, save_weights
from longtrack.datasets import DATASET_NAMES
from longtrack.datasets.evaluation_only import refuse_for_training
from longtrack.errors import LongtrackError
from longtrack.evaluation.oxuva import best_presence_threshold
from longtrack.evaluation.presence_tuning import TuningSequence, dataset_sequences, synthetic_sequences
from longtrack.fileio import check_writable
from longtrack.trackers.association import iou_matrix
from longtrack.trackers.dmtrack_replay import RecordingTracker, ReplayingTracker

DEFAULT_NUM, DEFAULT_NUM_FRAMES = 3, 500  # the default synthetic lt val data


def xyxy(xywh: np.ndarray) -> np.ndarray:
    b = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def run_grid(recorder: RecordingTracker, replays: dict, seq: TuningSequence) -> dict:
    """Per grid key ``(scores [N], boxes [N, 4] xywh)``; frame 0 is the given box with score 1."""
    out = {k: ([1.0], [np.asarray(seq.boxes[0], dtype=np.float64)]) for k in replays}
    first = seq.frame(0)
    recorder.initialize(first, seq.boxes[0])
    for tracker in replays.values():
        tracker.initialize(first, seq.boxes[0])
    for i in tqdm(range(1, len(seq.boxes)), desc=seq.name, unit="frame", leave=False):
        frame = seq.frame(i)
        recorder.detect(frame)  # the replays read these candidates
        for key, tracker in replays.items():
            pred = tracker.track(frame)
            out[key][0].append(pred.score)
            out[key][1].append(np.asarray(pred.box))
    return {k: (np.asarray(s), np.stack(b)) for k, (s, b) in out.items()}


def mean_visible_iou(runs: list) -> float:
    ious = [np.diag(iou_matrix(xyxy(boxes[1:]), xyxy(gt[1:])))[~absent[1:]] for _, boxes, gt, absent in runs]
    return float(np.mean(np.concatenate(ious)))


def spread(sequences: list, count: int | None) -> list:
    """``count`` of ``sequences`` at evenly spaced places of the list (all when None or more)."""
    if count is None or count >= len(sequences):
        return sequences
    return [sequences[i] for i in np.linspace(0, len(sequences) - 1, count).round().astype(int)]


def parse_synth(text: str) -> tuple[str, int]:
    preset, _, num = text.partition(":")
    try:
        return preset, int(num)
    except ValueError:
        raise LongtrackError(f"--synth {text!r}: expected PRESET:N, e.g. lt-real:3") from None


def calibration_sequences(args: argparse.Namespace) -> tuple[list[TuningSequence], str]:
    """The sequences to calibrate on and their description (evaluation sets refused first)."""
    if bool(args.dataset) != bool(args.root):
        raise LongtrackError("--dataset and --root go together")
    if not args.dataset and (args.sequences is not None or args.max_frames is not None):
        raise LongtrackError("--sequences and --max-frames select a dataset's sequences: give --dataset and --root")
    if (args.dataset or args.synth) and (args.num is not None or args.num_frames is not None):
        raise LongtrackError("--num and --num-frames are the default synthetic data's; with --dataset or --synth "
                             "give --synth lt:N --synth-frames F instead")
    if (args.sequences is not None and args.sequences < 1) or (args.max_frames is not None and args.max_frames < 2):
        raise LongtrackError("--sequences must be >= 1 and --max-frames >= 2 (frame 0 is the given box)")
    if args.root:
        refuse_for_training(args.root, "dmtrack calibration")
    sequences, described = [], []
    if args.dataset:
        found = dataset_sequences(args.dataset, args.root, args.split, args.max_frames)
        if not found:
            raise LongtrackError(f"{args.dataset} {args.root}: no sequence whose first box is visible")
        chosen = spread(found, args.sequences)
        sequences += chosen
        frames = "" if args.max_frames is None else f", first {args.max_frames} frames"
        described.append(f"{args.dataset} {args.root} ({len(chosen)} of {len(found)} sequences{frames})")
    if args.synth:
        preset, count = parse_synth(args.synth)
        sequences += synthetic_sequences(preset, "val", count, args.synth_frames, args.source_root)
        described.append(f"synthetic {preset} val 0..{count - 1} ({args.synth_frames} frames each)")
    if not args.dataset and not args.synth:
        num = DEFAULT_NUM if args.num is None else args.num
        num_frames = DEFAULT_NUM_FRAMES if args.num_frames is None else args.num_frames
        sequences += synthetic_sequences("lt", "val", num, num_frames)
        described.append(f"synthetic lt val 0..{num - 1}, {num_frames} frames each")
    if not any(seq.absent[1:].any() for seq in sequences):  # every presence threshold would score NaN
        raise LongtrackError("no target-absent frame in the calibration data, so presence_threshold cannot be "
                             "tuned; add sequences that have some, e.g. --synth lt-real:3")
    return sequences, "; ".join(described)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--num", type=int, default=None, help=f"default data: synthetic lt val sequences "
                                                             f"0..N-1 (default {DEFAULT_NUM})")
    parser.add_argument("--num-frames", type=int, default=None, help="default data: frames per sequence, events "
                                                                    f"scaled (default {DEFAULT_NUM_FRAMES})")
    parser.add_argument("--dataset", choices=DATASET_NAMES, help="a training dataset, e.g. lasot")
    parser.add_argument("--root", help="its folder, e.g. ../shared/data/real-train (evaluation sets refused)")
    parser.add_argument("--split", help="its split (default: the reader's)")
    parser.add_argument("--sequences", type=int, default=None, help="this many of its sequences, evenly spread")
    parser.add_argument("--max-frames", type=int, default=None, help="first frames of each dataset sequence")
    parser.add_argument("--synth", metavar="PRESET:N", help="also N val-split sequences of a synthetic preset, "
                                                           "e.g. lt-real:3 (absent frames that real-train lacks)")
    parser.add_argument("--synth-frames", type=int, default=600, help="frames per --synth sequence")
    parser.add_argument("--source-root", help="lt-real's source root (default ../shared/data/real-train)")
    parser.add_argument("--recover", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2])
    parser.add_argument("--reid", type=float, nargs="+", default=[0.6, 0.85])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write", metavar="OUT.pt", help="save the weights with the calibration here")
    args = parser.parse_args(argv)
    if args.threads < 1:
        raise LongtrackError("--threads must be >= 1")
    sequences, described = calibration_sequences(args)
    if args.write:
        check_writable(args.write)  # before minutes of tracking
    torch.set_num_threads(args.threads)
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
    for seq in tqdm(sequences, desc="dmtrack calibration", unit="seq"):
        for key, (scores, boxes) in run_grid(recorder, replays, seq).items():
            runs[key].append((scores, boxes, seq.boxes, seq.absent))
        tqdm.write(f"{seq.name}: {len(seq.boxes)} frames, {int(seq.absent.sum())} absent", file=sys.stderr)
    table = {k: mean_visible_iou(r) for k, r in runs.items()}
    for (recover, reid), value in table.items():
        print(f"recover_score = gallery_score {recover:.2f}, reid_threshold {reid:.2f}: mean visible IoU {value:.4f}")
    (recover, reid) = max(table, key=table.get)
    presence, _ = best_presence_threshold(runs[(recover, reid)])
    frames = sum(len(seq.boxes) for seq in sequences)
    print(f"{frames} frames x {len(replays)} settings in {time.perf_counter() - start:.0f} s; chosen recover_score "
          f"{recover}, reid_threshold {reid}, presence_threshold {presence['threshold']:.4f} (TPR {presence['tpr']:.3f}, "
          f"TNR {presence['tnr']:.3f}, GM {presence['gm']:.3f})")
    calibration = {"reid_threshold": reid, "recover_score": recover, "gallery_score": recover,
                   "presence_threshold": presence["threshold"],
                   "calibrated_on": f"{described}: max mean visible IoU, then max OxUvA GM "
                                    "(scripts/dmtrack_calibrate.py)"}
    print(json.dumps(calibration, indent=1))
    if args.write:
        loaded = load_weights(args.weights, method="dmtrack")
        save_weights(args.write, method="dmtrack", config={**loaded.config, "tracker": calibration},
                     state_dict=loaded.state_dict, step=loaded.step, source=loaded.provenance)
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LongtrackError as exc:
        sys.exit(f"dmtrack_calibrate: error: {exc}")
