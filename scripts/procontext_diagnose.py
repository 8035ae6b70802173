"""What a ProContEXT weights file has learned: losses, IoU and box sizes on val-split training
triplets, then the first frames of one synth-lt test sequence tracked online.

    OMP_NUM_THREADS=1 python scripts/procontext_diagnose.py [--weights FILE] [--samples 48]
        [--root ~/.cache/longtrack/synth-lt-v1.0.0] [--sequence blob-2] [--frames 100]
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

import longtrack
from longtrack.checkpoint import load_weights
from longtrack.datasets import load_dataset
from longtrack.train.config import load_config
from longtrack.train.criteria.procontext import ProContEXTCriterion
from longtrack.train.data import collate_samples
from longtrack.train.methods.procontext import ProContEXTOnBatches, TripletSamples

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(REPO / "src/longtrack/weights/procontext-synth.pt"))
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--root", default="~/.cache/longtrack/synth-lt-v1.0.0")
    parser.add_argument("--sequence", default="blob-2")
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)

    weights = load_weights(args.weights, method="procontext")
    cfg = load_config(REPO / "configs" / "procontext-synth.yaml")
    val = dataclasses.replace(cfg.data.sources[0], split="val", num_sequences=8, cache=8)
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, sources=(val,)))
    batch = collate_samples([TripletSamples(cfg)[(0, i)] for i in range(args.samples)])
    batch.pop("keep_ratio")  # the model's own (inference) elimination
    model = ProContEXTOnBatches(cfg.model)
    model.load_state_dict(weights.state_dict)
    model.eval()
    with torch.no_grad():
        out = model(batch)
        losses = ProContEXTCriterion()(out, batch)
    true_wh = batch["search_boxes"][:, 0, 2:] / batch["search_images"].shape[-1]
    print(f"val triplets ({args.samples}):", {k: round(float(v), 3) for k, v in losses.items()})
    print(f"  mean predicted w, h {out['pred_boxes'][:, 2:].mean(0).tolist()} (fraction of the search crop); "
          f"true {true_wh.mean(0).tolist()}; mean confidence {float(out['score'].mean()):.3f}")

    seq = next(s for s in load_dataset("synthetic", str(Path(args.root).expanduser())) if s.name == args.sequence)
    tracker = longtrack.create("procontext", weights=args.weights)
    tracker.initialize(seq.frame(0), seq.boxes[0])
    for i in range(1, min(args.frames + 1, len(seq))):
        p = tracker.track(seq.frame(i))
        if i % 10 == 0:
            print(f"  frame {i}: box {np.round(p.box, 1).tolist()} truth {np.round(seq.boxes[i], 1).tolist()} "
                  f"confidence {p.score:.3f} present {p.present}")


if __name__ == "__main__":
    main()
