"""What a ProContEXT weights file has learned, and why it does or does not track.

    OMP_NUM_THREADS=1 python experiments/procontext/diagnose.py [--weights FILE] [--config configs/procontext-synth.yaml]
        [--samples 128] [--root ~/.cache/longtrack/synth-lt-v1.0.0-f600] [--sequences 3] [--online-frames 300]
        [--trace crescent-3]

1. Triplets (the training sampler of ``--config``, train and val splits): losses and IoU with
   elimination off (keep 1.0) and the model's own, and how well the predicted box *size* follows
   the true one: correlation of log sqrt(w h) and the mean size ratio predicted / true (> 1: too big).
2. Oracle-centred crops: on the first ``--sequences`` sequences of ``--root``, every 5th visible
   frame's search crop is cut around the *true* box, as a perfect previous frame would give; the
   mean IoU says how well the network localises when the tracker's own errors cannot add up.
3. Online: the tracker from frame 0 over the first ``--online-frames`` frames of the same
   sequences: mean IoU over the visible frames, the share with IoU > 0.5, the median size ratio
   predicted / true, the mean confidence where IoU > 0.5 and where IoU < 0.1 or the target is
   absent (a meaningful confidence separates the two); then ``--trace``'s first 30 frames, box
   against truth every 3rd frame.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

import longtrack
from longtrack.boxes import iou
from longtrack.checkpoint import load_weights
from longtrack.crops import crop_around
from longtrack.datasets import load_dataset
from longtrack.train.config import load_config
from longtrack.train.criteria.procontext import ProContEXTCriterion
from longtrack.train.data import collate_samples
from longtrack.train.methods.procontext import ProContEXTOnBatches, TripletSamples

REPO = Path(__file__).resolve().parents[2]


def triplets(weights, cfg, split: str, samples: int) -> None:
    source = dataclasses.replace(cfg.data.sources[0], split=split, cache=8,
                                 num_sequences=cfg.data.sources[0].num_sequences if split == "train" else 8)
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, sources=(source,)))
    batch = collate_samples([TripletSamples(cfg)[(0, i)] for i in range(samples)])
    model = ProContEXTOnBatches(cfg.model)
    model.load_state_dict(weights.state_dict)
    model.eval()
    for keep in (1.0, None):
        batch.pop("keep_ratio", None)
        if keep is not None:
            batch["keep_ratio"] = torch.full((samples,), keep)
        with torch.no_grad():
            out = model(batch)
            losses = ProContEXTCriterion()(out, batch)
        true = batch["search_boxes"][:, 0].numpy() / batch["search_images"].shape[-1]  # xywh, crop fraction
        pred = out["pred_boxes"].numpy()  # cxcywh, crop fraction
        true_size, pred_size = 0.5 * np.log(true[:, 2] * true[:, 3]), 0.5 * np.log(pred[:, 2] * pred[:, 3])
        print(f"{split} triplets ({samples}), keep {keep or 'model'}: "
              f"{ {k: round(float(v), 3) for k, v in losses.items()} }; log-size correlation "
              f"{np.corrcoef(true_size, pred_size)[0, 1]:.3f}, size ratio {np.exp((pred_size - true_size).mean()):.3f}, "
              f"mean confidence {float(out['score'].mean()):.3f}")


def oracle_centred(tracker, sequences) -> None:
    for seq in sequences:
        tracker.initialize(seq.frame(0), seq.boxes[0])
        ious, confidences = [], []
        for i in range(1, len(seq), 5):
            truth = tuple(float(v) for v in seq.boxes[i])
            if seq.absent[i] or truth[2] <= 0:
                continue
            frame = seq.frame(i)
            patch, transform = crop_around(frame, truth, tracker.config.search_factor, tracker.config.search_size,
                                           pad_value=0)
            box, confidence = tracker.locate(tracker.state.templates, tracker._normalise(patch), transform.side,
                                             truth, frame.shape[:2])
            ious.append(float(iou(np.asarray(box), np.asarray(truth))))
            confidences.append(confidence)
        ious = np.asarray(ious)
        print(f"{seq.name}: oracle-centred mean IoU {ious.mean():.3f}, IoU > 0.5 in {np.mean(ious > 0.5):.1%} "
              f"of {len(ious)} frames, mean confidence {np.mean(confidences):.3f}")


def online(tracker, sequences, frames: int) -> None:
    for seq in sequences:
        tracker.initialize(seq.frame(0), seq.boxes[0])
        ious, ratios, good, bad = [], [], [], []
        for i in range(1, min(frames, len(seq))):
            p = tracker.track(seq.frame(i))
            truth = np.asarray(seq.boxes[i], dtype=np.float64)
            if seq.absent[i] or truth[2] <= 0:
                bad.append(p.score)
                continue
            overlap = float(iou(np.asarray(p.box), truth))
            ious.append(overlap)
            ratios.append(np.sqrt(p.box[2] * p.box[3] / (truth[2] * truth[3])))
            (good if overlap > 0.5 else bad if overlap < 0.1 else []).append(p.score)
        ious = np.asarray(ious)
        print(f"{seq.name} online ({min(frames, len(seq))} frames): mean IoU {ious.mean():.3f}, IoU > 0.5 in "
              f"{np.mean(ious > 0.5):.1%}, median size ratio {np.median(ratios):.2f}, confidence "
              f"{np.mean(good) if good else float('nan'):.3f} (IoU > 0.5, {len(good)}) / "
              f"{np.mean(bad) if bad else float('nan'):.3f} (IoU < 0.1 or absent, {len(bad)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(REPO / "src/longtrack/weights/procontext-synth.pt"))
    parser.add_argument("--config", default=str(REPO / "configs" / "procontext-synth.yaml"),
                        help="training config whose sampler makes the triplets")
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--root", default="~/.cache/longtrack/synth-lt-v1.0.0-f600")
    parser.add_argument("--sequences", type=int, default=3)
    parser.add_argument("--online-frames", type=int, default=300)
    parser.add_argument("--trace", default="crescent-3")
    args = parser.parse_args()
    torch.set_num_threads(1)

    weights = load_weights(args.weights, method="procontext")
    cfg = load_config(args.config)
    for split in ("train", "val"):
        triplets(weights, cfg, split, args.samples)

    sequences = list(load_dataset("synthetic", str(Path(args.root).expanduser())))
    tracker = longtrack.create("procontext", weights=args.weights)
    oracle_centred(tracker, sequences[: args.sequences])
    online(tracker, sequences[: args.sequences], args.online_frames)

    seq = next(s for s in sequences if s.name == args.trace)
    tracker.initialize(seq.frame(0), seq.boxes[0])
    for i in range(1, min(31, len(seq))):
        p = tracker.track(seq.frame(i))
        if i % 3 == 0:
            print(f"  {seq.name} frame {i}: box {np.round(p.box, 1).tolist()} truth {np.round(seq.boxes[i], 1).tolist()} "
                  f"confidence {p.score:.3f}")


if __name__ == "__main__":
    main()
