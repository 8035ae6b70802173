"""``longtrack export --tracker NAME --out DIR``: a learned tracker's dense network stages as ONNX
graphs plus a manifest; ``runtime="onnx", onnx_dir=DIR`` (or ``eval --option runtime=onnx
--option onnx_dir=DIR``) then runs them under onnxruntime. See docs/performance.md."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..export import EXPORTABLE

    parser.add_argument("--tracker", required=True, choices=sorted(EXPORTABLE), help="the tracker whose network to export")
    parser.add_argument("--weights", default=None, metavar="FILE", help="weights file (default: the shipped weights)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write <stage>.onnx and manifest.json into")


def run(args: argparse.Namespace) -> int:
    from ..errors import LongtrackError
    from ..export import export_network
    from ..registry import get_tracker_spec

    spec = get_tracker_spec(args.tracker)
    if args.weights is None and spec.weights_path() is None:
        raise LongtrackError(f"{args.tracker} ships no weights: pass --weights FILE")
    tracker = spec.build(weights=args.weights, device="cpu")
    folder = export_network(args.tracker, tracker.model, args.out)
    for path in sorted(folder.glob("*.onnx")):
        print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
    print(f"{folder / 'manifest.json'}")
    return 0
