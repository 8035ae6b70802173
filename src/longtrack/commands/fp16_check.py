"""``longtrack fp16-check --tracker NAME --weights W_fp32.pt --half W_fp16.pt [--root DIR]
[--sequences N] [--frames F]``: the largest box difference between a tracker run on fp32 weights
and on their fp16-stored copy (``tune-presence --half`` writes one), over the first frames of the
first sequences of a LaSOT-layout root; exit status 1 when it is over 0.1 px. The check is in
:mod:`longtrack.evaluation.half_precision_check`."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tracker", required=True, help="a learned tracker, e.g. globaltrack, dmtrack")
    parser.add_argument("--weights", required=True, help="the fp32 weights")
    parser.add_argument("--half", required=True, help="the same weights stored as float16")
    parser.add_argument("--root", default="../shared/data/real-train", help="a LaSOT-layout root "
                                                                           "(default ../shared/data/real-train)")
    parser.add_argument("--sequences", type=int, default=6, help="its first N sequences (default 6)")
    parser.add_argument("--frames", type=int, default=100, help="first frames of each (default 100)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .. import create
    from ..datasets import load_dataset
    from ..errors import LongtrackError
    from ..evaluation.half_precision_check import MAX_BOX_DIFFERENCE, box_differences

    if args.sequences < 1:
        raise LongtrackError(f"--sequences must be >= 1, got {args.sequences}")
    if args.frames < 2:
        raise LongtrackError(f"--frames must be >= 2 (frame 0 is the given box), got {args.frames}")
    sequences = load_dataset("lasot", args.root, split="all", progress=False)[: args.sequences]
    full = create(args.tracker, weights=args.weights)
    half = create(args.tracker, weights=args.half)
    worst = 0.0
    for name, diff in box_differences(full, half, tqdm(sequences, unit="seq"), args.frames):
        print(f"{name}: max box difference {diff:.4f} px")
        worst = max(worst, diff)
    ok = worst <= MAX_BOX_DIFFERENCE
    print(f"largest box difference over all frames: {worst:.4f} px ({'ok' if ok else 'over 0.1 px'})")
    return 0 if ok else 1
