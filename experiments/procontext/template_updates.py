"""ProContEXT's confidence and dynamic-template updates on the real validation videos (the
real benchmark page's sequences: real-val plus real; validation only, never trained on):

    OMP_NUM_THREADS=1 python experiments/procontext/template_updates.py [--weights FILE] [--option KEY=VALUE]

Tracks every sequence from its first box and prints, per sequence and overall:

* ``auc``: ROC AUC of the confidence separating on-target frames (IoU > 0.5) from off-target
  ones (the target absent, or IoU < 0.1), frames after the first; 0.5 = no information;
* ``updates``: dynamic-template updates (every ``update_interval``-th frame whose confidence
  exceeds ``update_threshold``), and ``wrong``: those made where the box was not on the target
  (IoU < 0.5 with the truth, or the target absent), i.e. that put another object or background
  into the dynamic templates.
"""
from __future__ import annotations

import argparse

import numpy as np
from tqdm import tqdm

import longtrack
from longtrack.boxes import iou
from longtrack.evaluation.real_benchmark import DEFAULT_PARTS, load_real_benchmark
from longtrack.train.methods.tanet_metrics import pixel_auc


def parse_option(text: str):
    key, sep, value = text.partition("=")
    if not sep:
        raise SystemExit(f"--option needs KEY=VALUE, got {text!r}")
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    try:
        return key, float(value) if "." in value or "e" in value else int(value)
    except ValueError:
        return key, value


def track(tracker, seq, bar) -> dict:
    boxes, scores, updated = [np.asarray(seq.boxes[0], dtype=np.float64)], [1.0], [False]
    tracker.initialize(seq.frame(0), tuple(seq.boxes[0]))
    for index in range(1, len(seq)):
        pred = tracker.track(seq.frame(index))
        boxes.append(np.asarray(pred.box, dtype=np.float64))
        scores.append(float(pred.score))
        updated.append(bool(tracker.state.updated))
        bar.update(1)
    overlap = iou(np.stack(boxes), np.asarray(seq.boxes, dtype=np.float64))
    absent = np.asarray(seq.absent, dtype=bool)
    later = np.arange(len(seq)) > 0
    on, off = later & ~absent & (overlap > 0.5), later & (absent | (overlap < 0.1))
    updated = np.asarray(updated)
    return {"scores": np.asarray(scores), "on": on, "off": off, "updates": int(updated.sum()),
            "wrong": int((updated & (absent | (overlap < 0.5))).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None, help="weights file (default: the shipped one)")
    parser.add_argument("--option", action="append", default=[], help="tracker option KEY=VALUE")
    args = parser.parse_args()
    options = dict(parse_option(o) for o in args.option)
    tracker = longtrack.create("procontext", weights=args.weights, **options)
    _, sequences = load_real_benchmark(list(DEFAULT_PARTS))
    rows = []
    with tqdm(total=sum(len(s) - 1 for s in sequences), unit="frame") as bar:
        for seq in sequences:
            rows.append((seq.name, track(tracker, seq, bar)))
    print(f"{'sequence':<16} {'on':>5} {'off':>5} {'auc':>6} {'updates':>8} {'wrong':>6}")
    for name, r in rows:
        auc = pixel_auc(r["scores"], r["on"], r["off"])
        print(f"{name:<16} {r['on'].sum():5d} {r['off'].sum():5d} {auc:6.3f} {r['updates']:8d} {r['wrong']:6d}")
    scores = np.concatenate([r["scores"] for _, r in rows])
    on, off = (np.concatenate([r[k] for _, r in rows]) for k in ("on", "off"))
    updates, wrong = sum(r["updates"] for _, r in rows), sum(r["wrong"] for _, r in rows)
    print(f"{'all':<16} {on.sum():5d} {off.sum():5d} {pixel_auc(scores, on, off):6.3f} {updates:8d} {wrong:6d}")


if __name__ == "__main__":
    main()
