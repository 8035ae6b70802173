"""DMTrack's ablation of how the target is chosen among the detector's candidates (the paper's
Table 6: detector top-1 / position constraint / re-id association), on a written synthetic
benchmark, with ONE network pass per frame for all three.

The three selections see the same detections: the ``reid`` tracker runs the network and the
``top1`` / ``position`` trackers replay its candidates of that frame. Each writes
``OUT/dmtrack-<mode>/`` exactly as

    longtrack eval --tracker dmtrack --name dmtrack-<mode> --option association=<mode> \\
        --dataset synthetic --root ROOT --out OUT

would (same result files, same run record, so that command can verify, resume or extend the
folder), at a third of its cost. With ``--row-out DIR`` the reid mode (the default) is written
as ``DIR/dmtrack``, the plain ``longtrack eval --tracker dmtrack --out DIR`` row. A replaying tracker's frame time is the network's time
(``detect``) of that frame plus its own selection time. Resumable per sequence. Score with
``longtrack score --dataset synthetic --root ROOT --results OUT/dmtrack-top1 ...``.

    OMP_NUM_THREADS=1 python experiments/dmtrack/ablation.py --root ~/.cache/longtrack/synth-lt-v1.0.0-f600 \\
        --out runs/ablation/synth-lt-v1.0.0-f600 [--weights FILE] [--option KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import yaml

from longtrack.datasets import load_dataset
from longtrack.errors import LongtrackError
from longtrack.evaluation.result_formats import write_sequence_results
from longtrack.evaluation.run_record import check_or_write_record, make_record, weights_identity
from longtrack.evaluation.runner import is_complete
from longtrack.evaluation.track_sequence import BUILD_SEED, seed_everything, sequence_seed
from longtrack.registry import get_tracker_spec
from longtrack.trackers.dmtrack import ASSOCIATIONS, DMTrackTracker
from longtrack.trackers.dmtrack_replay import RecordingTracker, ReplayingTracker

DATASET = "synthetic"


def track_all(seq, trackers: dict[str, DMTrackTracker]) -> dict[str, tuple]:
    """Every tracker over ``seq`` (the recording tracker first in each frame); per mode
    ``(boxes [N, 4] xywh, scores [N], present [N], times [N] s)``."""
    n = len(seq)
    out = {m: (np.empty((n, 4)), np.empty(n), np.empty(n, dtype=bool), np.empty(n)) for m in trackers}
    recorder = next(iter(trackers.values()))
    seed_everything(sequence_seed(seq.name))
    for i in range(n):
        frame = seq.frame(i)
        for mode, tracker in trackers.items():
            boxes, scores, present, times = out[mode]
            start = time.perf_counter()
            if i == 0:
                tracker.initialize(frame, seq.init_box)
                boxes[i], scores[i], present[i] = seq.init_box, 1.0, True
            else:
                pred = tracker.track(frame)
                boxes[i], scores[i], present[i] = pred.box, pred.score, pred.present
            times[i] = time.perf_counter() - start
            if i > 0 and tracker is not recorder:
                times[i] += recorder.last_detect_seconds
    return out


def parse_options(items: list[str]) -> dict:
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LongtrackError(f"--option takes KEY=VALUE, got {item!r}")
        options[key] = yaml.safe_load(value)
    if "association" in options:
        raise LongtrackError("--option association is what this script varies; leave it out")
    return options


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="a written synthetic benchmark folder")
    parser.add_argument("--out", type=Path, required=True, help="results root: writes OUT/dmtrack-<mode>/")
    parser.add_argument("--weights", help="DMTrack weights (default: the shipped dmtrack-synth.pt)")
    parser.add_argument("--option", action="append", default=[], help="tracker option KEY=VALUE (all modes)")
    parser.add_argument("--row-out", type=Path, help="write the reid mode as ROW_OUT/dmtrack, the plain "
                        "`longtrack eval --tracker dmtrack --out ROW_OUT` row (the full method is the default)")
    parser.add_argument("--suffix", default="", help="appended to each folder name (a variant of the options)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    options = parse_options(args.option)

    spec = get_tracker_spec("dmtrack")
    weights = args.weights or spec.weights_path()
    if weights is None or not Path(weights).is_file():
        raise LongtrackError(f"dmtrack: weights file {weights} not found")
    sequences = load_dataset(DATASET, args.root)
    folders = {m: args.out / f"dmtrack-{m}{args.suffix}" for m in ASSOCIATIONS}
    mode_options = {m: {"association": m, **options} for m in ASSOCIATIONS}
    if args.row_out is not None:  # reid is the default: the tracker's own benchmark row
        folders["reid"], mode_options["reid"] = args.row_out / "dmtrack", dict(options)
    for mode, folder in folders.items():
        record = make_record("dmtrack", DATASET, weights_identity(weights, spec.needs_weights), "cpu", 1,
                             options=mode_options[mode])
        check_or_write_record(folder, record)

    seed_everything(BUILD_SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        recorder = RecordingTracker(weights=weights, **{**spec.options, **options, "association": "reid"})
    trackers = {"reid": recorder, **{m: ReplayingTracker(recorder, m) for m in ASSOCIATIONS if m != "reid"}}
    for seq in sequences:
        if all(is_complete(DATASET, folders[m], seq) for m in trackers):
            print(f"{seq.name}: done already", file=sys.stderr)
            continue
        start = time.perf_counter()
        results = track_all(seq, trackers)
        for mode, (boxes, scores, present, times) in results.items():
            write_sequence_results(DATASET, folders[mode], seq, boxes, scores, present, times)
        seconds = time.perf_counter() - start
        print(f"{seq.name}: {len(seq)} frames in {seconds:.1f} s ({len(seq) / seconds:.1f} frames/s for all "
              f"three; network + re-id selection {len(seq) / results['reid'][3].sum():.1f} frames/s)",
              file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LongtrackError as exc:
        print(f"dmtrack ablation: {exc}", file=sys.stderr)
        sys.exit(1)
