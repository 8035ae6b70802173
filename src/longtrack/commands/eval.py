"""``longtrack eval --tracker NAME --dataset NAME --root DIR --out DIR [--workers N] [--shard I/N]``:
run a tracker over a benchmark; results in the benchmark's own format under ``DIR/<tracker>/``.

Resumable: rerunning the same command skips the sequences already complete. A sequence's files
are written only once it is finished, each atomically, so a killed run leaves no partial file.
Runs started together into one folder never mix models nor track a sequence twice
(``evaluation.runner``; docs/reliability.md).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..datasets import DATASET_NAMES

    parser.add_argument("--tracker", required=True, metavar="NAME", help="a registered tracker (longtrack trackers)")
    parser.add_argument("--weights", metavar="PATH",
                        help="weights file (default: the tracker's shipped weights); 'none' = random "
                             "initialisation, the untrained variant of a learned tracker")
    parser.add_argument("--dataset", required=True, choices=DATASET_NAMES, help="benchmark name")
    parser.add_argument("--root", required=True, type=Path, metavar="DIR", help="the benchmark folder")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="results folder; this run writes DIR/<tracker name>/")
    parser.add_argument("--split", help="the benchmark split (default: its evaluation split)")
    parser.add_argument("--sequences", metavar="A,B,...", help="comma-separated sequence names (default: all)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="tracker processes (default 1: this process); with N > 1 each uses one "
                             "torch/OpenCV thread")
    parser.add_argument("--shard", default="0/1", metavar="I/N",
                        help="run only sequences at positions p (sorted by name) with p %% N == I, "
                             "e.g. $SLURM_ARRAY_TASK_ID/8 (default 0/1: all)")
    parser.add_argument("--device", default="cpu", help="torch device for learned trackers (default cpu)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="tracker option over its registered ones (repeatable; VALUE read as "
                             "YAML: 5, 0.7, true, top1), e.g. an ablation variant")
    parser.add_argument("--name", help="result folder name (default: the tracker name), e.g. "
                                       "procontext-untrained")


def parse_options(items: list[str]) -> dict:
    """``["k=v", ...]`` -> ``{k: yaml(v)}``; a malformed item is a one-line error."""
    from ..assignments import parse_assignment

    return {parts[0]: value for parts, value in (parse_assignment(item, "--option") for item in items)}


def run(args: argparse.Namespace) -> int:
    from ..datasets import load_dataset
    from ..errors import LongtrackError
    from ..evaluation.runner import result_folder_name, run_tracker_on_dataset
    from ..evaluation.sharding import parse_shard
    from ..registry import get_tracker_spec

    shard = parse_shard(args.shard)
    get_tracker_spec(args.tracker)  # an unknown name fails before the dataset is read
    result_folder_name(args.name or args.tracker)
    if args.workers < 1:
        raise LongtrackError(f"--workers must be 1 or more, got {args.workers}")
    show = sys.stderr.isatty()
    sequences = load_dataset(args.dataset, args.root, split=args.split, sequences=args.sequences,
                             progress=show)
    summary = run_tracker_on_dataset(args.tracker, args.dataset, sequences, args.out, weights=args.weights,
                                     device=args.device, workers=args.workers, shard=shard,
                                     progress=True, name=args.name, options=parse_options(args.option))
    fps = f", {summary.frames / summary.seconds:.1f} frames/s" if summary.seconds > 0 else ""
    print(f"{summary.tracker_dir}: {len(summary.done)} sequence(s) tracked ({summary.frames} frames{fps}), "
          f"{len(summary.skipped)} already complete, {len(summary.failed)} failed"
          + (f", {len(summary.busy)} left to another run tracking them now" if summary.busy else "")
          + f" (shard {shard[0]}/{shard[1]} of {len(sequences)} sequences)")
    if summary.failed:
        names = ", ".join(sorted(summary.failed))
        raise LongtrackError(f"{len(summary.failed)} sequence(s) failed and were not written: {names} "
                             "(errors above; rerun to retry them)")
    return 0
