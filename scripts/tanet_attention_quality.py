"""How well a TANet generator's attention map points at the target, as the tracker uses it: the
measure for the Table IV ablation (BCE only / one discriminator / both) on the synthetic world,
and the tuning of the map's region threshold on the val split.

    OMP_NUM_THREADS=1 python scripts/tanet_attention_quality.py [--weights PATH|none] [--every 10]
    OMP_NUM_THREADS=1 python scripts/tanet_attention_quality.py --split val --thresholds 0.05,0.1,0.2,0.3,0.5 \\
        --write src/longtrack/weights/tanet-synth.pt

Every ``--every``-th frame of each sequence (first frame excluded), the map of that frame is
computed as the tracker does (first-frame target patch, causal clip of the frames before), and
turned into candidate regions as the tracker does (``attention_regions``, strongest
``max_regions``). Printed, over visible frames: the map's maximum inside the target box
(``peak in box``; chance: the box's share of the frame, printed too), the mass centre of one of
the regions inside the target box (``centre hit``: the tracker probes a region at its mass
centre), the strongest region containing the target's centre (``top region``), any region
containing it (``any region``), the mean number of regions; over all frames, the share of the
map above the threshold (a map lit everywhere "contains" the target trivially); over absent
frames, those with no region at all (``no region when absent``).

Sequences: ``--split ablation`` (default) is the ablation set on disk
(``synth-lt-v1.0.0-f600``, test split); ``--split val`` is ``--videos`` sequences of the ``lt``
val split made on the fly (first 600 frames each): tune there, never on the test split.
``--thresholds`` scores several region thresholds on the same maps; ``--write FILE`` stores
the one with the highest centre hit in FILE's ``tracker`` section as ``attention_threshold``
(the tracker's default for these weights) and rewrites FILE.
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import torch

from longtrack.checkpoint import load_weights, save_weights
from longtrack.datasets import load_dataset
from longtrack.trackers.tanet import TANetTracker
from longtrack.trackers.tanet_search import attention_regions

ABLATION_ROOT = Path.home() / ".cache" / "longtrack" / "synth-lt-v1.0.0-f600"


def _inside(point, box) -> bool:
    return box[0] <= point[0] <= box[0] + box[2] and box[1] <= point[1] <= box[1] + box[3]


def sequences(split: str, root: Path, videos: int, frames: int):
    """``(frame(i), boxes (N, 4), absent (N,), length)`` per sequence."""
    if split == "ablation":
        for seq in load_dataset("synthetic", root):
            yield seq.frame, np.asarray(seq.boxes, dtype=np.float64), np.asarray(seq.absent, dtype=bool), len(seq)
        return
    from longtrack.train.config import SourceConfig
    from longtrack.train.data.sources import SyntheticSource

    source = SyntheticSource(SourceConfig("synthetic", split="val", preset="lt", num_sequences=videos, cache=1))
    for v in range(videos):
        video = source.video(v)
        first = int(np.flatnonzero(video.target_visible)[0])  # start where the target is visible
        length = min(len(video) - first, frames)
        yield ((lambda i, video=video, first=first: video.frame(first + i)),
               np.asarray(video.target_boxes[first:first + length], dtype=np.float64),
               ~np.asarray(video.target_visible[first:first + length], dtype=bool), length)


def measure(tracker: TANetTracker, seqs, every: int, thresholds) -> dict[float, dict[str, float]]:
    offsets = tracker.config.clip_offsets()
    rows = {t: {k: [] for k in ("centre", "top", "any", "count", "lit", "empty_absent")} for t in thresholds}
    peak, share = [], []
    for frame, boxes, absent, length in seqs:
        tracker.initialize(frame(0), tuple(boxes[0]))
        width, height = tracker.image_size
        for i in range(every, length, every):
            tracker._history.clear()  # the causal clip of frame i: frames i-2, i-1 (as online)
            for offset in offsets:
                if offset < 0:
                    tracker._history.append(tracker._to_input(frame(max(0, i + offset))))
            att = tracker.attention(frame(i))
            if not absent[i]:
                box = boxes[i]
                ys, xs = np.unravel_index(int(np.argmax(att)), att.shape)
                peak.append(_inside(((xs + 0.5) * width / att.shape[1], (ys + 0.5) * height / att.shape[0]), box))
                share.append(box[2] * box[3] / (width * height))
            for t in thresholds:
                regions = attention_regions(att, (width, height), t, tracker.max_regions, tracker.min_region_pixels)
                r = rows[t]
                r["lit"].append(float((att > t).mean()))
                if absent[i]:
                    r["empty_absent"].append(not regions)
                    continue
                box = boxes[i]
                centre = (box[0] + box[2] / 2, box[1] + box[3] / 2)
                r["centre"].append(any(_inside(reg.center, box) for reg in regions))
                r["top"].append(bool(regions) and _inside(centre, regions[0].box))
                r["any"].append(any(_inside(centre, reg.box) for reg in regions))
                r["count"].append(len(regions))
    out = {}
    for t, r in rows.items():
        out[t] = {"visible": len(peak), "absent": len(r["empty_absent"]), "peak_in_box": float(np.mean(peak)),
                  "chance": float(np.mean(share)), **{k: float(np.mean(v)) if v else float("nan") for k, v in r.items()}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="src/longtrack/weights/tanet-synth.pt", help="'none': random generator")
    parser.add_argument("--split", choices=("ablation", "val"), default="ablation")
    parser.add_argument("--root", type=Path, default=ABLATION_ROOT, help="the ablation set (--split ablation)")
    parser.add_argument("--videos", type=int, default=8, help="val sequences (--split val)")
    parser.add_argument("--frames", type=int, default=600, help="frames per val sequence (--split val)")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--thresholds", default=None, help="comma-separated region thresholds (default: the tracker's)")
    parser.add_argument("--write", type=Path, default=None, help="store the best threshold in this weights file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    weights = None if args.weights == "none" else args.weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracker = TANetTracker(weights=weights, local_tracker="kcf")
    thresholds = ([float(t) for t in args.thresholds.split(",")] if args.thresholds
                  else [tracker.attention_threshold])
    scores = measure(tracker, sequences(args.split, args.root, args.videos, args.frames), args.every, thresholds)
    for t, s in scores.items():
        print(f"{args.weights} [{args.split}, threshold {t:g}]: {s['visible']} visible / {s['absent']} absent "
              f"frames; peak in box {s['peak_in_box']:.3f} (chance {s['chance']:.3f}), centre hit {s['centre']:.3f}, "
              f"top region {s['top']:.3f}, any region {s['any']:.3f}, regions per frame {s['count']:.2f}, "
              f"map above threshold {s['lit']:.3f} of the frame, no region when absent {s['empty_absent']:.3f}")
    if args.write is not None:
        if weights is None:
            raise SystemExit("--write needs --weights")
        best = max(scores, key=lambda t: (scores[t]["centre"], -scores[t]["lit"]))
        loaded = load_weights(args.write, method="tanet")
        config = {**loaded.config, "tracker": {**loaded.tracker_config(str(args.write)), "attention_threshold": best,
                  "attention_threshold_tuning": {"split": args.split, "videos": args.videos, "frames": args.frames,
                                                 "every": args.every, "centre_hit": scores[best]["centre"],
                                                 "thresholds": thresholds}}}
        save_weights(args.write, method=loaded.method, config=config, state_dict=loaded.state_dict,
                     step=loaded.step, source=loaded.provenance)
        print(f"{args.write}: attention_threshold {best:g} (centre hit {scores[best]['centre']:.3f})")


if __name__ == "__main__":
    main()
