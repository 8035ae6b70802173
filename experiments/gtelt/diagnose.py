"""What a GTELT weights file has learned, measured online on val-split synthetic sequences.

Per frame it records the chosen candidate's IoU with the ground truth, the best IoU among all N
local trackers' boxes (what a perfect selector would get), the chosen confidence, whether a
tracker was activated, and whether the target is present.

    OMP_NUM_THREADS=1 python experiments/gtelt/diagnose.py [--weights FILE] [--sequences 2] [--frames 300]
        [--presence-threshold T] [--position-weight W]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from longtrack.boxes import iou, pairwise_iou
from longtrack.synth import make_sequence
from longtrack.trackers.gtelt import FrameFit, GTELTTracker

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(REPO / "src/longtrack/weights/gtelt-synth.pt"))
    parser.add_argument("--sequences", type=int, default=2)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--presence-threshold", type=float, default=None, help="theta (default: the weights')")
    parser.add_argument("--position-weight", type=float, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tracker = GTELTTracker(weights=args.weights, presence_threshold=args.presence_threshold,
                           position_weight=args.position_weight)
    decoded = []
    real_decode = tracker.model.decode
    tracker.model.decode = lambda *a: decoded.append(real_decode(*a)) or decoded[-1]
    rows = []
    for index in range(args.sequences):
        seq = make_sequence("lt", "val", index, num_frames=max(args.frames, 200))
        canvas_w, canvas_h = tracker.config.image_size
        fit = FrameFit.of((seq.height, seq.width), tracker.config.image_size)
        tracker.initialize(seq.render(0), seq.boxes[0])
        for f in range(1, args.frames):
            pred = tracker.track(seq.render(f))
            boxes = decoded[-1]["boxes"][0].numpy()  # cx, cy, w, h of the canvas
            xywh = np.array([fit.canvas_to_frame(b, (canvas_w, canvas_h)) for b in boxes])
            present = not bool(seq.absent[f])
            truth = np.asarray(seq.boxes[f], dtype=float)
            by_score = int(decoded[-1]["logits"][0].argmax())
            rows.append((present, float(iou(np.asarray(pred.box), truth)) if present else np.nan,
                         float(pairwise_iou(xywh, truth[None]).max()) if present else np.nan, pred.score, pred.present,
                         int(tracker.state.context.active) >= 0,
                         float(iou(xywh[by_score], truth)) if present else np.nan))
    data = np.array(rows, dtype=float)
    on = data[:, 0] == 1
    print(f"frames {len(data)} (target present in {int(on.sum())})")
    print(f"chosen IoU (present frames): mean {np.nanmean(data[on, 1]):.3f}, > 0.5 in {np.mean(data[on, 1] > 0.5):.3f}")
    print(f"best of the N candidates' IoU: mean {np.nanmean(data[on, 2]):.3f}, > 0.5 in {np.mean(data[on, 2] > 0.5):.3f}")
    print(f"IoU of the highest-scoring candidate (no similarity, no position): mean {np.nanmean(data[on, 6]):.3f}")
    print(f"confidence: mean {data[on, 3].mean():.3f} when present, "
          f"{data[~on, 3].mean() if (~on).any() else float('nan'):.3f} when absent")
    print(f"reported present: {data[on, 4].mean():.3f} of present frames, "
          f"{data[~on, 4].mean() if (~on).any() else float('nan'):.3f} of absent frames")
    print(f"a tracker activated after {data[:, 5].mean():.3f} of frames")


if __name__ == "__main__":
    main()
