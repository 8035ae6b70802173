"""``longtrack calibrate TRACKER ...``: fit a tracker's online thresholds on training data and
store them where the tracker reads them.

* ``dmtrack``: recover/gallery score, re-id and presence thresholds into a weights file
  (:mod:`longtrack.evaluation.dmtrack_calibration`);
* ``classic-lt``: the three numbers of classic-lt's confidence, printed for its source
  (:mod:`longtrack.evaluation.classic_lt_calibration`);
* ``tanet``: the quality of a TANet generator's attention map, and its region threshold into a
  weights file (:mod:`longtrack.evaluation.tanet_attention_tuning`).
"""
from __future__ import annotations

import argparse
import json
import time


def _add_dmtrack(parser: argparse.ArgumentParser) -> None:
    from ..datasets import DATASET_NAMES
    from ..evaluation.dmtrack_calibration import DEFAULT_NUM, DEFAULT_NUM_FRAMES

    parser.add_argument("--weights", required=True, help="the DMTrack weights file to calibrate")
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
    parser.add_argument("--recover", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2],
                        help="recover_score = gallery_score values of the grid")
    parser.add_argument("--reid", type=float, nargs="+", default=[0.6, 0.85], help="reid_threshold values of the grid")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write", metavar="OUT.pt", help="save the weights with the calibration here")


def _add_classic_lt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="lt", help="synthetic preset (train split)")
    parser.add_argument("--num", type=int, default=4, help="train sequences 0 .. num-1")
    parser.add_argument("--size", default="320x240", help="frame size WxH")
    parser.add_argument("--stride", type=int, default=2, help="sample every stride-th frame")


def _add_tanet(parser: argparse.ArgumentParser) -> None:
    from ..evaluation.tanet_attention_tuning import ABLATION_ROOT

    parser.add_argument("--weights", default=None, help="the TANet weights to measure; 'none': a random "
                                                        "generator (default: the shipped tanet-synth.pt)")
    parser.add_argument("--split", choices=("ablation", "val"), default="ablation")
    parser.add_argument("--root", default=str(ABLATION_ROOT), help="the ablation set (--split ablation)")
    parser.add_argument("--videos", type=int, default=8, help="val sequences (--split val)")
    parser.add_argument("--frames", type=int, default=600, help="frames per val sequence (--split val)")
    parser.add_argument("--every", type=int, default=10, help="measure every N-th frame")
    parser.add_argument("--thresholds", default=None, help="comma-separated region thresholds (default: the tracker's)")
    parser.add_argument("--write", default=None, metavar="FILE",
                        help="store the threshold of the best centre hit in this weights file (rewritten)")


TRACKERS = {
    "dmtrack": (_add_dmtrack, "DMTrack's recover, re-id and presence thresholds, into a weights file"),
    "classic-lt": (_add_classic_lt, "classic-lt's confidence calibration (w_peak, w_bank, bias), printed"),
    "tanet": (_add_tanet, "a TANet generator's attention quality, and its region threshold into a weights file"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="tracker", metavar="TRACKER", required=True)
    for name, (add, help_text) in TRACKERS.items():
        add(sub.add_parser(name, help=help_text, description=help_text))


def _positive(flag: str, value: int | None, least: int = 1) -> None:
    from ..errors import LongtrackError

    if value is not None and value < least:
        raise LongtrackError(f"{flag} must be >= {least}, got {value}")


def _run_dmtrack(args: argparse.Namespace) -> int:
    import torch

    from ..evaluation.dmtrack_calibration import calibrate, calibration_sequences, write_calibration
    from ..fileio import check_writable

    _positive("--threads", args.threads)
    sequences, described = calibration_sequences(
        args.dataset, args.root, args.split, args.sequences, args.max_frames, args.synth, args.synth_frames,
        args.source_root, args.num, args.num_frames)
    if args.write:
        check_writable(args.write)  # before minutes of tracking
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    table, chosen = calibrate(args.weights, sequences, args.recover, args.reid)
    for (recover, reid), value in table.items():
        print(f"recover_score = gallery_score {recover:.2f}, reid_threshold {reid:.2f}: mean visible IoU {value:.4f}")
    recover, reid, presence = chosen["recover_score"], chosen["reid_threshold"], chosen["presence"]
    frames = sum(len(seq.boxes) for seq in sequences)
    print(f"{frames} frames x {len(table)} settings in {time.perf_counter() - start:.0f} s; chosen recover_score "
          f"{recover}, reid_threshold {reid}, presence_threshold {presence['threshold']:.4f} (TPR {presence['tpr']:.3f}, "
          f"TNR {presence['tnr']:.3f}, GM {presence['gm']:.3f})")
    calibration = {"reid_threshold": reid, "recover_score": recover, "gallery_score": recover,
                   "presence_threshold": presence["threshold"],
                   "calibrated_on": f"{described}: max mean visible IoU, then max OxUvA GM "
                                    "(longtrack calibrate dmtrack)"}
    print(json.dumps(calibration, indent=1))
    if args.write:
        write_calibration(args.weights, args.write, calibration)
        print(f"wrote {args.write}")
    return 0


def _run_classic_lt(args: argparse.Namespace) -> int:
    from ..evaluation.classic_lt_calibration import fit_confidence, reliability_bins
    from ..synth import parse_size

    _positive("--num", args.num)
    _positive("--stride", args.stride)
    fit = fit_confidence(args.preset, args.num, parse_size(args.size), args.stride)
    print(f"{fit.samples} samples, {fit.on_target:.3f} of them on the target")
    print(f"w_peak={fit.weights[0]:.3f}, w_bank={fit.weights[1]:.3f}, bias={fit.weights[2]:.3f}")
    print("reliability: predicted bin -> mean predicted / fraction on target / samples")
    for low, high, predicted, observed, count in reliability_bins(fit):
        print(f"  [{low:.1f}, {high:.1f}): {predicted:.3f} / {observed:.3f} / {count}")
    return 0


def _run_tanet(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import LongtrackError
    from ..evaluation.tanet_attention_tuning import best_threshold, measure_attention, write_attention_threshold
    from ..registry import get_tracker_spec

    _positive("--videos", args.videos)
    _positive("--frames", args.frames, 2)
    _positive("--every", args.every)
    if args.weights is None:
        args.weights = get_tracker_spec("tanet:kcf").weights_path()
    weights = None if args.weights == "none" else args.weights
    if args.write is not None and weights is None:
        raise LongtrackError("--write needs --weights")
    try:
        thresholds = [float(t) for t in args.thresholds.split(",")] if args.thresholds else None
    except ValueError:
        raise LongtrackError(f"--thresholds {args.thresholds!r}: expected comma-separated numbers") from None
    scores = measure_attention(weights, args.split, Path(args.root), args.videos, args.frames, args.every, thresholds)
    for t, s in scores.items():
        print(f"{args.weights} [{args.split}, threshold {t:g}]: {s['visible']} visible / {s['absent']} absent "
              f"frames; peak in box {s['peak_in_box']:.3f} (chance {s['chance']:.3f}), centre hit {s['centre']:.3f}, "
              f"top region {s['top']:.3f}, any region {s['any']:.3f}, regions per frame {s['count']:.2f}, "
              f"map above threshold {s['lit']:.3f} of the frame, no region when absent {s['empty_absent']:.3f}")
    if args.write is not None:
        best = best_threshold(scores)
        tuning = {"split": args.split, "videos": args.videos, "frames": args.frames, "every": args.every,
                  "centre_hit": scores[best]["centre"], "thresholds": list(scores)}
        write_attention_threshold(args.write, best, tuning)
        print(f"{args.write}: attention_threshold {best:g} (centre hit {scores[best]['centre']:.3f})")
    return 0


def run(args: argparse.Namespace) -> int:
    runs = {"dmtrack": _run_dmtrack, "classic-lt": _run_classic_lt, "tanet": _run_tanet}
    return runs[args.tracker](args)
