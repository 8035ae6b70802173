"""``longtrack vot-workspace --dataset NAME --root DIR --out WS [--trackers ...]``: a ready,
offline VOT long-term workspace (vot-toolkit 0.9.0) for any dataset longtrack reads.

Next steps, printed at the end: ``vot evaluate --workspace WS TRACKER`` and
``vot analysis --workspace WS --format json TRACKER`` (see docs/vot.md).
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..datasets import DATASET_NAMES
    from ..trackers import DEFAULT_TRACKER
    from ..vot.workspace import DEFAULT_TIMEOUT_S, IMAGE_MODES

    parser.add_argument("--dataset", required=True, choices=DATASET_NAMES, help="the dataset's name")
    parser.add_argument("--root", required=True, type=Path, help="the dataset folder")
    parser.add_argument("--out", required=True, type=Path, metavar="WS", help="the workspace folder to write")
    parser.add_argument("--split", default=None, help="the dataset's split (default: its evaluation split)")
    parser.add_argument("--sequences", default=None, help="comma-separated sequence names (default: all)")
    parser.add_argument("--trackers", nargs="+", default=[DEFAULT_TRACKER], metavar="NAME[=WEIGHTS]",
                        help=f"trackers for trackers.ini (default: {DEFAULT_TRACKER}); NAME=PATH picks weights")
    parser.add_argument("--device", default="cpu", help="torch device the trackers run on (default: cpu)")
    parser.add_argument("--images", default="link", choices=IMAGE_MODES,
                        help="how frames get into the workspace: hard links (copies across file systems; "
                             "default), copies or symbolic links")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S, metavar="S",
                        help=f"seconds the toolkit waits for each tracker reply (default: {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--title", default=None, help="the stack's title (default: from the dataset)")
    parser.add_argument("--force", action="store_true",
                        help="rewrite an existing workspace (its results/ and logs/ are kept)")


def run(args: argparse.Namespace) -> int:
    from ..datasets import load_dataset
    from ..errors import LongtrackError
    from ..vot.workspace import WorkspaceTracker, write_workspace

    if args.timeout < 1:
        raise LongtrackError(f"--timeout must be 1 or more seconds, got {args.timeout}")
    trackers = [WorkspaceTracker.parse(t, args.device) for t in args.trackers]
    for t in trackers:
        if t.weights is not None and not Path(t.weights).is_file():
            raise LongtrackError(f"weights file {t.weights} of tracker {t.name} does not exist")
    sequences = load_dataset(args.dataset, args.root, split=args.split, sequences=args.sequences)
    title = args.title or f"longtrack long-term: {args.dataset}" + (f" {args.split}" if args.split else "")
    out = write_workspace(sequences, args.out, trackers, title=title, images=args.images, force=args.force,
                          timeout=args.timeout)
    frames = sum(len(s) for s in sequences)
    ids = " ".join(t.identifier for t in trackers)
    print(f"wrote a VOT workspace with {len(sequences)} sequences ({frames} frames) and "
          f"tracker(s) {ids} to {out}")
    print("next (in an environment with vot-toolkit, see docs/vot.md):")
    print(f"  VOT_RESULTS_BINARY=0 vot evaluate --workspace {out} {ids}")
    print(f"  vot analysis --workspace {out} --format json {ids}")
    return 0
