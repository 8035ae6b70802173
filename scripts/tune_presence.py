"""Tune a learned tracker's presence threshold on the synthetic val split and store it in its
weights file.

    python scripts/tune_presence.py --tracker globaltrack --weights runs/globaltrack-synth/weights.pt \
        --model-config configs/globaltrack-synth.yaml --num 4 --num-frames 500 --write src/longtrack/weights/globaltrack-synth.pt --half

The papers of GlobalTrack and ProContEXT never say when the target is absent; their trackers
report ``present = confidence >= t``. This script runs the tracker over sequences ``0..num-1`` of
the ``lt`` preset's **val** split (never the test split the benchmark uses) and picks the t that
maximises the OxUvA geometric mean of TPR (present, said present, IoU >= 0.5) and TNR (absent,
said absent), pooled over all frames after the first
(:func:`longtrack.evaluation.oxuva.best_presence_threshold`). ``--write`` saves the weights again
with ``tracker.presence_threshold`` in their config, which the tracker reads.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import longtrack
from longtrack.commands.eval import parse_options
from longtrack.checkpoint import load_weights, save_weights
from longtrack.evaluation.oxuva import best_presence_threshold
from longtrack.synth import make_sequence
from longtrack.train import config_to_dict, load_config


def run_sequence(tracker, seq) -> tuple[np.ndarray, np.ndarray]:
    """``(confidences (N,), boxes (N, 4) xywh)``; frame 0 is the given box with confidence 1."""
    scores, boxes = [1.0], [np.asarray(seq.boxes[0], dtype=np.float64)]
    tracker.initialize(seq.render(0), seq.boxes[0])
    for i in tqdm(range(1, len(seq)), desc=seq.name, leave=False):
        pred = tracker.track(seq.render(i))
        scores.append(pred.score)
        boxes.append(np.asarray(pred.box))
    return np.asarray(scores), np.stack(boxes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker", required=True, help="a registered tracker that reads tracker.presence_threshold "
                                                         "from its weights (globaltrack, procontext, gtelt)")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--num", type=int, default=4, help="val sequences 0..N-1")
    parser.add_argument("--num-frames", type=int, default=500, help="frames per sequence (events scaled)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write", metavar="OUT.pt", help="save the weights with the tuned threshold here")
    parser.add_argument("--model-config", metavar="CONFIG.yaml",
                        help="use the model section of this training config instead of the weights' own "
                             "(e.g. a test-time setting changed after training; the weights must fit it)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="tracker option for the runs (repeatable), e.g. presence_threshold=0.4 for a tracker "
                             "whose threshold also steers its tracking (gtelt: it decides activation)")
    parser.add_argument("--half", action="store_true",
                        help="store floating-point tensors as float16 (half the file; loaded back as float32)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    loaded = load_weights(args.weights)
    weights = args.weights
    if args.model_config:  # the same tensors under the other model section, in a temporary file
        model = config_to_dict(load_config(args.model_config))["model"]
        weights = str(Path(tempfile.mkdtemp()) / "weights.pt")
        save_weights(weights, method=loaded.method, config={**loaded.config, "model": model},
                     state_dict=loaded.state_dict, step=loaded.step, source=loaded.provenance)
        loaded = load_weights(weights)
    tracker = longtrack.create(args.tracker, weights=weights, **parse_options(args.option))
    runs, start = [], time.perf_counter()
    for index in range(args.num):
        seq = make_sequence("lt", "val", index, num_frames=args.num_frames)
        scores, boxes = run_sequence(tracker, seq)
        runs.append((scores, boxes, np.asarray(seq.boxes), np.asarray(seq.absent)))
        print(f"{seq.name}: {len(seq)} frames, {int(seq.absent.sum())} absent, mean confidence present "
              f"{scores[1:][~seq.absent[1:]].mean():.3f} / absent {np.nan_to_num(scores[1:][seq.absent[1:]].mean()):.3f}")
    best, _ = best_presence_threshold(runs)
    threshold = best["threshold"]
    frames = sum(len(r[0]) for r in runs)
    print(f"{frames} frames in {time.perf_counter() - start:.0f} s; presence threshold {threshold:.4f}: "
          f"TPR {best['tpr']:.3f}, TNR {best['tnr']:.3f}, GM {best['gm']:.3f}")
    print(json.dumps({"threshold": threshold, "at": best}, indent=1))
    if args.write:
        config = {**loaded.config, "tracker": {**loaded.tracker_config(weights), "presence_threshold": threshold,
                                                "tuned_on": f"synthetic lt val 0..{args.num - 1}, "
                                                            f"{args.num_frames} frames each, max OxUvA GM"}}
        state = {k: v.half() if args.half and v.is_floating_point() else v for k, v in loaded.state_dict.items()}
        save_weights(args.write, method=loaded.method, config=config, state_dict=state,
                     step=loaded.step, source=loaded.provenance)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
