"""``longtrack tune-presence --tracker NAME --weights W [--dataset D --root DIR [--absent K
[--visible V]]] [--synth PRESET:N] [--write OUT.pt]``: tune a tracker's presence threshold on
training data (maximum OxUvA geometric mean of TPR and TNR) and store it in its weights file,
which the tracker then reads. Evaluation sets are refused as data. ``--absent`` splices frames of
another class's sequence into each dataset sequence (:mod:`longtrack.evaluation.absent_splicing`),
the target-absent frames real-train lacks. A tracker whose weights are a folder (nanotrack's
ONNX pair) is measured only: its threshold is a constant of its source."""
from __future__ import annotations

import argparse
import json
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..datasets import DATASET_NAMES

    parser.add_argument("--tracker", required=True, help="a learned tracker that reads tracker.presence_threshold "
                                                         "from its weights (globaltrack, dmtrack, gtelt, procontext), "
                                                         "or nanotrack (measured only)")
    parser.add_argument("--weights", required=True, help="the weights file to tune (nanotrack: its ONNX folder)")
    parser.add_argument("--dataset", choices=DATASET_NAMES, help="a training dataset, e.g. lasot")
    parser.add_argument("--root", help="its folder, e.g. ../shared/data/real-train")
    parser.add_argument("--split", help="its split (default: the reader's)")
    parser.add_argument("--max-frames", type=int, default=None, help="first frames of each dataset sequence")
    parser.add_argument("--absent", type=int, default=0, help="frames of the next sequence of another class spliced "
                                                            "into each dataset sequence (default 0: none)")
    parser.add_argument("--visible", type=int, default=None, help="with --absent: frames of the sequence before "
                                                                 "and after them (default: halfway)")
    parser.add_argument("--synth", metavar="PRESET:N", help="also N val-split sequences of a synthetic preset, "
                                                           "e.g. lt-real:6 (absent frames that real-train lacks)")
    parser.add_argument("--synth-frames", type=int, default=600, help="frames per synthetic sequence")
    parser.add_argument("--source-root", help="lt-real's source root (default ../shared/data/real-train)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="tracker option for the runs (repeatable)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write", metavar="OUT.pt", help="save the weights with the tuned threshold here")
    parser.add_argument("--half", action="store_true", help="store floating-point tensors as float16")


def run(args: argparse.Namespace) -> int:
    import torch

    from .. import create
    from ..errors import LongtrackError
    from pathlib import Path

    from ..evaluation.absent_splicing import spliced_dataset_sequences
    from ..evaluation.presence_tuning import dataset_sequences, synthetic_sequences, tune_presence, write_threshold
    from ..fileio import check_writable
    from .eval import parse_options

    if args.threads < 1:
        raise LongtrackError("--threads must be >= 1")
    if bool(args.dataset) != bool(args.root):
        raise LongtrackError("--dataset and --root go together")
    if not args.dataset and not args.synth:
        raise LongtrackError("give training data: --dataset D --root DIR and/or --synth PRESET:N")
    if args.absent < 0:
        raise LongtrackError(f"--absent must be >= 0, got {args.absent}")
    if args.visible is not None and (not args.absent or args.max_frames is not None or args.visible < 1):
        raise LongtrackError("--visible V (>= 1) goes with --absent K and instead of --max-frames")
    if (args.absent or args.visible) and not args.dataset:
        raise LongtrackError("--absent and --visible splice dataset sequences: give --dataset and --root")
    if args.write and Path(args.weights).is_dir():
        raise LongtrackError(f"--write: {args.weights} is a folder, not a weights file that can hold a threshold "
                             "(nanotrack's is DEFAULT_PRESENCE_THRESHOLD in longtrack/trackers/nanotrack.py)")
    if args.write:
        check_writable(args.write)
    torch.set_num_threads(args.threads)
    sequences, described = [], []
    if args.dataset and args.absent:
        sequences += spliced_dataset_sequences(args.dataset, args.root, args.split, args.absent, args.visible,
                                               args.max_frames)
        where = "halfway" if args.visible is None else f"after {args.visible} frames, then {args.visible} more"
        described.append(f"{args.dataset} {args.root} with {args.absent} absent frames of another class spliced "
                         f"in {where}")
    elif args.dataset:
        sequences += dataset_sequences(args.dataset, args.root, args.split, args.max_frames)
        described.append(f"{args.dataset} {args.root}")
    if args.synth:
        preset, _, num = args.synth.partition(":")
        try:
            count = int(num)
        except ValueError:
            raise LongtrackError(f"--synth {args.synth!r}: expected PRESET:N, e.g. lt-real:6") from None
        sequences += synthetic_sequences(preset, "val", count, args.synth_frames, args.source_root)
        described.append(f"synthetic {preset} val 0..{count - 1} ({args.synth_frames} frames)")
    tracker = create(args.tracker, weights=args.weights, **parse_options(args.option))
    start = time.perf_counter()
    best, runs = tune_presence(tracker, sequences)
    frames = sum(len(r[0]) for r in runs)
    absent = sum(int(r[3][1:].sum()) for r in runs)
    print(f"{len(runs)} sequences, {frames} frames ({absent} absent) in {time.perf_counter() - start:.0f} s; "
          f"presence threshold {best['threshold']:.4f}: TPR {best['tpr']:.3f}, TNR {best['tnr']:.3f}, "
          f"GM {best['gm']:.3f}")
    print(json.dumps({"threshold": best["threshold"], "at": best}, indent=1))
    if args.write:
        write_threshold(args.weights, args.write, best["threshold"],
                        "; ".join(described) + ", max OxUvA GM", half=args.half)
        print(f"wrote {args.write}")
    return 0
