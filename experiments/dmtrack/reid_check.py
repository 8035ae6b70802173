"""How well DMTrack's candidates and re-id embeddings single out the target, on one synthetic
VAL sequence (never the test split): for each visible frame, the detector's top-1 IoU, whether any
candidate covers the target (IoU > 0.5), that candidate's score, rank and cosine similarity to the
template embedding, and the best similarity among the other candidates (IoU < 0.3).

    OMP_NUM_THREADS=1 python experiments/dmtrack/reid_check.py [--weights FILE] [--index 0] [--num-frames 300]
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch

from longtrack.synth import make_sequence
from longtrack.trackers.association import iou_matrix
from longtrack.trackers.dmtrack import DMTrackTracker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="default: the shipped dmtrack-synth.pt")
    parser.add_argument("--index", type=int, default=0, help="lt val sequence index")
    parser.add_argument("--num-frames", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from longtrack.registry import get_tracker_spec
    weights = args.weights or get_tracker_spec("dmtrack").weights_path()
    seq = make_sequence(preset="lt", split="val", index=args.index, num_frames=args.num_frames)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tracker = DMTrackTracker(weights=weights, min_score=0.0)
    tracker.initialize(seq.render(0), seq.boxes[0])
    template = tracker.state.template_embedding
    top1_iou, covered, target_score, target_rank, target_sim, other_sim = [], [], [], [], [], []
    for f in range(1, len(seq)):
        boxes, scores, embeddings = tracker.detect(seq.render(f))
        if seq.absent[f] or len(boxes) == 0:
            continue
        x, y, w, h = seq.boxes[f]
        ious = iou_matrix(boxes, np.array([[x, y, x + w, y + h]]))[:, 0]
        sims = embeddings @ template
        best = int(np.argmax(ious))
        top1_iou.append(ious[0])
        covered.append(ious[best] > 0.5)
        if ious[best] > 0.5:
            target_score.append(scores[best]); target_rank.append(best); target_sim.append(sims[best])
        others = sims[ious < 0.3]
        if len(others):
            other_sim.append(others.max())
    q = lambda v: ", ".join(f"{x:.3f}" for x in np.quantile(v, [0.1, 0.5, 0.9]))  # noqa: E731
    print(f"{seq.name}: {len(top1_iou)} visible frames with candidates; top-1 IoU > 0.5 in "
          f"{np.mean(np.array(top1_iou) > 0.5):.1%}, some candidate IoU > 0.5 in {np.mean(covered):.1%}")
    print(f"target's candidate: score q10/50/90 {q(target_score)}; rank histogram {np.bincount(target_rank).tolist()}")
    print(f"cosine to the template: target's candidate q10/50/90 {q(target_sim)}; best other candidate {q(other_sim)}")


if __name__ == "__main__":
    main()
