"""``longtrack tune-switching --local NAME --root DIR [--max-frames N] [--absent K] [--records DIR]
[--write [TABLE]]``: tune TANet's switching thresholds (beta1, beta2, verify_threshold) for one
local tracker on a training root (evaluation sets are refused) and store them in the shipped
per-local-tracker table ``weights/tanet-switching.json`` (or TABLE), which ``tanet:<local>``
reads. The rule is in :mod:`longtrack.evaluation.tanet_switching_tuning`."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..datasets import DATASET_NAMES

    parser.add_argument("--local", required=True, help="the local tracker to tune for, e.g. csrt, kcf, classic-lt, "
                                                       "nanotrack")
    parser.add_argument("--root", required=True, help="a training root, e.g. ../shared/data/real-train")
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="lasot", help="its layout (default lasot)")
    parser.add_argument("--weights", metavar="[LOCAL=]PATH", help="the local tracker's weights "
                                                                   "(nanotrack=DIR: the folder of its ONNX pair)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="local tracker option (repeatable)")
    parser.add_argument("--max-frames", type=int, default=None, help="first frames of each sequence (default all)")
    parser.add_argument("--max-sequences", type=int, default=None, help="first sequences of the root (default all)")
    parser.add_argument("--absent", type=int, default=50,
                        help="frames of another class's sequence spliced into each clip as target-absent "
                             "frames (real-train has none; default 50, 0: none)")
    parser.add_argument("--max-patience", type=int, default=30, help="largest beta2 tried (default 30)")
    parser.add_argument("--records", metavar="DIR",
                        help="keep each sequence's measurements here; a rerun reuses them (resumable)")
    parser.add_argument("--write", nargs="?", const="", metavar="TABLE",
                        help="store the thresholds under --local in the shipped table (or in TABLE)")
    parser.add_argument("--threads", type=int, default=1)


def _local_weights(local: str, given: str | None) -> str | None:
    from ..errors import LongtrackError

    if given is None:
        return None
    name, sep, path = given.partition("=")
    if not sep:
        return given
    if name != local:
        raise LongtrackError(f"--weights {given}: these are weights for {name}, not for --local {local}")
    return path


def run(args: argparse.Namespace) -> int:
    import cv2
    import torch

    from ..errors import LongtrackError
    from ..evaluation.tanet_switching_tuning import choose_thresholds, load_or_record, training_clips
    from ..fileio import check_writable
    from ..registry import get_tracker_spec
    from ..trackers.tanet_switching import shipped_table_path, write_entry
    from .eval import parse_options

    if args.threads < 1:
        raise LongtrackError("--threads must be >= 1")
    for flag, value, least in (("--max-frames", args.max_frames, 2), ("--max-sequences", args.max_sequences, 1)):
        if value is not None and value < least:
            raise LongtrackError(f"{flag} must be >= {least}, got {value}")
    if args.absent < 0:
        raise LongtrackError(f"--absent must be >= 0, got {args.absent}")
    spec = get_tracker_spec(args.local)  # an unknown name fails before any data is read
    if args.local.split(":")[0] == "tanet":
        raise LongtrackError("--local: name the local tracker itself (csrt, kcf, ...), not a tanet wrapper")
    table = None if args.write is None else (args.write or shipped_table_path())
    if table is not None:
        check_writable(table)
    weights = _local_weights(args.local, args.weights)
    options = parse_options(args.option)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)

    clips = training_clips(args.root, args.dataset, args.max_frames, args.absent, args.max_sequences)
    settings = {"local": args.local, "weights": weights, "options": options, "max_frames": args.max_frames,
                "absent": args.absent}
    start = time.perf_counter()
    records = [load_or_record(lambda: spec.build(weights=weights, **options), clip, args.records, settings)
               for clip in clips]
    result = choose_thresholds(records, args.max_patience)
    print(f"{args.local}: {len(clips)} clips, {result['frames']} frames ({result['tracked_frames']} tracked, "
          f"{result['lost_frames']} lost or absent) in {time.perf_counter() - start:.0f} s")
    for key in ("beta1", "beta2", "verify_threshold"):
        fit = result["fit"][key]
        how = fit if isinstance(fit, str) else (f"TPR {fit['tpr']:.3f}, TNR {fit['tnr']:.3f}, "
                                                f"balanced accuracy {fit['balanced_accuracy']:.3f}")
        print(f"  {key} = {result[key]:.6g}  ({how})")
    entry = {**result, "tuned_on": f"{Path(args.root).resolve().name} ({args.dataset}), {len(clips)} sequences, "
                                   f"max_frames {args.max_frames or 'all'}, {args.absent} absent frames spliced "
                                   "per clip; max balanced accuracy of tracked (IoU >= 0.5) vs lost frames"}
    print(json.dumps(entry, indent=1))
    if table is not None:
        write_entry(table, args.local, entry)
        print(f"wrote {args.local} into {table}")
    return 0
