"""``longtrack score``: score result folders on a benchmark exactly as its official toolkit does.

One folder per tracker (tracker name = folder name), in the benchmark's own result layout; our
``longtrack eval`` output and published raw results of other trackers both work.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..datasets import DATASET_NAMES
    from ..evaluation.ope import CONVENTIONS

    parser.add_argument("--dataset", required=True, choices=DATASET_NAMES, help="benchmark name")
    parser.add_argument("--root", type=Path,
                        help="the benchmark folder (annotations); optional for OxUvA per-track "
                             "assessment files (iou_0d5.json)")
    parser.add_argument("--results", type=Path, action="append", required=True, metavar="DIR",
                        help="a tracker's result folder (repeat for several trackers)")
    parser.add_argument("--split", help="the benchmark split (default: its evaluation split)")
    parser.add_argument("--sequences", help="comma-separated sequence names to score (default: all)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write {tracker: scores} as JSON")
    parser.add_argument("--plots", type=Path, metavar="DIR", help="write comparison plots (PNG) here")
    parser.add_argument("--table", type=Path, metavar="FILE.md", help="write a markdown table")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write the table as CSV")
    parser.add_argument("--convention", choices=CONVENTIONS,
                        help="OPE datasets: the toolkit convention (default: the benchmark's own: "
                             "lasot for LaSOT/TLP/UAV/synthetic, otb for OTB, trackingnet for "
                             "TrackingNet; got10k_head = the got10k toolkit's LaSOT variant)")
    parser.add_argument("--iou-threshold", type=float, default=0.5,
                        help="OxUvA IoU threshold (default 0.5)")
    parser.add_argument("--unbounded", action="store_true",
                        help="VOT-LT: do not clip overlaps to the image (the toolkit's bounded=False)")


def run(args: argparse.Namespace) -> int:
    from ..datasets import load_dataset
    from ..errors import LongtrackError
    from ..evaluation.report import console_table, write_json, write_table_files
    from ..evaluation.scoring import has_assessment, protocol_of, score_results
    from ..fileio import check_writable, check_writable_folder

    protocol = protocol_of(args.dataset)
    if not math.isfinite(args.iou_threshold) or not 0.0 < args.iou_threshold <= 1.0:
        raise LongtrackError(f"--iou-threshold must be a number in (0, 1], got {args.iou_threshold}")
    for path in (args.json, args.table, args.csv):
        if path is not None:
            check_writable(path)
    if args.plots is not None:
        check_writable_folder(args.plots)
    names = [d.resolve().name for d in args.results]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise LongtrackError(f"two result folders have the same tracker name: {', '.join(sorted(duplicates))}")
    for d in args.results:
        if not d.is_dir():
            raise LongtrackError(f"result folder {d} does not exist")

    assessments_only = protocol == "oxuva" and all(has_assessment(d, args.iou_threshold) for d in args.results)
    if args.root is None and not assessments_only:
        raise LongtrackError(f"--root is required to score {args.dataset} (the benchmark's annotations)")
    sequences = load_dataset(args.dataset, args.root, split=args.split, sequences=args.sequences) \
        if args.root is not None else []

    results = {}
    for name, folder in zip(names, args.results):
        results[name] = score_results(args.dataset, sequences, folder, convention=args.convention,
                                      iou_threshold=args.iou_threshold, bounded=not args.unbounded)
    for name, result in results.items():
        _note_missing_values(name, result.get("missing_values"), len(sequences))
    table_protocol = "tlp" if args.dataset == "tlp" else protocol
    source = f"{len(sequences)} sequences" if sequences else "published per-track assessments"
    print(f"{args.dataset}: {source}, {len(results)} tracker(s)")
    print(console_table(results, table_protocol))
    if args.json is not None:
        write_json(args.json, results)
        print(f"wrote {args.json}")
    write_table_files(results, table_protocol, args.table, args.csv)
    for path in (args.table, args.csv):
        if path is not None:
            print(f"wrote {path}")
    if args.plots is not None:
        from ..evaluation.plots import plot_results

        for path in plot_results(results, protocol, args.plots, args.dataset, sequences):
            print(f"wrote {path}")
    return 0


def _note_missing_values(name: str, missing: dict | None, total: int) -> None:
    """Say which scores a result folder cannot have, and why (its columns are left out)."""
    if not missing:
        return
    if missing.get("confidence"):
        print(f"longtrack score: note: {name}: {missing['confidence']} of {total} sequences have no confidence "
              "file (<sequence>_confidence.value): no LT F-score", file=sys.stderr)
    if missing.get("present"):
        print(f"longtrack score: note: {name}: {missing['present']} of {total} sequences have no presence "
              "file (<sequence>_present.value): no presence TPR/TNR/MaxGM", file=sys.stderr)
