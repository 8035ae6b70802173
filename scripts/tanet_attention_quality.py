"""How well a TANet generator's attention map points at the target, on the ablation set: the
measure for the Table IV ablation (BCE only / one discriminator / both) on the synthetic world.

    OMP_NUM_THREADS=1 python scripts/tanet_attention_quality.py [--weights PATH|none] [--every 10]

Every ``--every``-th frame of each sequence (first frame excluded), the map of that frame is
computed as the tracker does (first-frame target patch, causal clip of the frames before), and
turned into candidate regions as the tracker does. Printed, over visible frames: the map's
maximum inside the target box (``peak in box``), the strongest region containing the target's
centre (``top region``), any region containing it (``any region``), the mean number of regions;
over all frames, the share of the map above the threshold (a map lit everywhere "contains"
the target trivially); over absent frames: frames with no region at all (``no region when absent``). The chance level
of ``peak in box`` is the box's share of the frame (printed too).
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import torch

from longtrack.datasets import load_dataset
from longtrack.trackers.tanet import TANetTracker
from longtrack.trackers.tanet_search import attention_regions

ABLATION_ROOT = Path.home() / ".cache" / "longtrack" / "synth-lt-v1.0.0-f600"


def _inside(point, box) -> bool:
    return box[0] <= point[0] <= box[0] + box[2] and box[1] <= point[1] <= box[1] + box[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="src/longtrack/weights/tanet-synth.pt", help="'none': random generator")
    parser.add_argument("--root", type=Path, default=ABLATION_ROOT)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    weights = None if args.weights == "none" else args.weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracker = TANetTracker(weights=weights, local_tracker="kcf")
    offsets = tracker.config.clip_offsets()
    peak, top, any_region, counts, empty_absent, share, lit = [], [], [], [], [], [], []
    for seq in load_dataset("synthetic", args.root):
        tracker.initialize(seq.frame(0), seq.init_box)
        width, height = tracker.image_size
        for i in range(args.every, len(seq), args.every):
            tracker._history.clear()  # the causal clip of frame i: frames i-2, i-1 (as online)
            for offset in offsets:
                if offset < 0:
                    tracker._history.append(tracker._to_input(seq.frame(max(0, i + offset))))
            att = tracker.attention(seq.frame(i))
            regions = attention_regions(att, (width, height), tracker.attention_threshold,
                                        tracker.max_regions, tracker.min_region_pixels)
            lit.append(float((att > tracker.attention_threshold).mean()))
            if seq.absent[i]:
                empty_absent.append(not regions)
                continue
            box = seq.boxes[i]
            centre = (box[0] + box[2] / 2, box[1] + box[3] / 2)
            ys, xs = np.unravel_index(int(np.argmax(att)), att.shape)
            peak.append(_inside(((xs + 0.5) * width / att.shape[1], (ys + 0.5) * height / att.shape[0]), box))
            top.append(bool(regions) and _inside(centre, regions[0].box))
            any_region.append(any(_inside(centre, r.box) for r in regions))
            counts.append(len(regions))
            share.append(box[2] * box[3] / (width * height))
    print(f"{args.weights}: {len(peak)} visible / {len(empty_absent)} absent frames; peak in box "
          f"{np.mean(peak):.3f} (chance {np.mean(share):.3f}), top region {np.mean(top):.3f}, any region "
          f"{np.mean(any_region):.3f}, regions per frame {np.mean(counts):.2f}, map above threshold "
          f"{np.mean(lit):.3f} of the frame, no region when absent {np.mean(empty_absent):.3f}")


if __name__ == "__main__":
    main()
