"""How well a TANet generator's attention map points at the target, as the tracker uses it: the
measure for the Table IV ablation (BCE only / one discriminator / both) on the synthetic world,
and the tuning of the map's region threshold on the val split.

Every ``every``-th frame of each sequence (first frame excluded), the map of that frame is
computed as the tracker does (first-frame target patch, causal clip of the frames before), and
turned into candidate regions as the tracker does (``attention_regions``, strongest
``max_regions``). Measured, over visible frames: the map's maximum inside the target box
(``peak_in_box``; ``chance``: the box's share of the frame), the mass centre of one of the
regions inside the target box (``centre``: the tracker probes a region at its mass centre), the
strongest region containing the target's centre (``top``), any region containing it (``any``),
the mean number of regions (``count``); over all frames, the share of the map above the
threshold (``lit``: a map lit everywhere "contains" the target trivially); over absent frames,
those with no region at all (``empty_absent``).

Sequences: split ``ablation`` is the ablation set on disk (``synth-lt-v1.0.0-f600``, test split);
split ``val`` is ``videos`` sequences of the ``lt`` val split made on the fly (first ``frames``
frames each): tune there, never on the test split. The threshold of the highest centre hit
(ties: the least lit map) becomes the weights file's ``tracker.attention_threshold``, the
tracker's default for those weights.

Run it as ``longtrack calibrate tanet`` (src/longtrack/weights/tanet-synth.md).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..checkpoint import load_weights, save_weights
from ..datasets import load_dataset
from ..trackers.tanet import TANetTracker
from ..trackers.tanet_search import attention_regions

__all__ = ["ABLATION_ROOT", "attention_sequences", "measure", "measure_attention", "best_threshold",
           "write_attention_threshold"]

ABLATION_ROOT = Path.home() / ".cache" / "longtrack" / "synth-lt-v1.0.0-f600"


def _inside(point, box) -> bool:
    return box[0] <= point[0] <= box[0] + box[2] and box[1] <= point[1] <= box[1] + box[3]


def attention_sequences(split: str, root: Path, videos: int, frames: int):
    """``(frame(i), boxes (N, 4), absent (N,), length)`` per sequence."""
    if split == "ablation":
        for seq in load_dataset("synthetic", root):
            yield seq.frame, np.asarray(seq.boxes, dtype=np.float64), np.asarray(seq.absent, dtype=bool), len(seq)
        return
    from ..train.config import SourceConfig
    from ..train.data.sources import SyntheticSource

    source = SyntheticSource(SourceConfig("synthetic", split="val", preset="lt", num_sequences=videos, cache=1))
    for v in range(videos):
        video = source.video(v)
        first = int(np.flatnonzero(video.target_visible)[0])  # start where the target is visible
        length = min(len(video) - first, frames)
        yield ((lambda i, video=video, first=first: video.frame(first + i)),
               np.asarray(video.target_boxes[first:first + length], dtype=np.float64),
               ~np.asarray(video.target_visible[first:first + length], dtype=bool), length)


def measure(tracker: TANetTracker, seqs, every: int, thresholds) -> dict[float, dict[str, float]]:
    """Per region threshold, the measures of the module docstring."""
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


def measure_attention(weights: str | None, split: str, root: Path, videos: int, frames: int, every: int,
                      thresholds: list[float] | None = None) -> dict[float, dict[str, float]]:
    """:func:`measure` for the generator of ``weights`` (None: a random one) with a KCF local
    tracker; ``thresholds`` default to the tracker's own."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracker = TANetTracker(weights=weights, local_tracker="kcf")
    return measure(tracker, attention_sequences(split, root, videos, frames), every,
                   thresholds or [tracker.attention_threshold])


def best_threshold(scores: dict[float, dict[str, float]]) -> float:
    """The threshold of the highest centre hit; ties go to the least lit map."""
    return max(scores, key=lambda t: (scores[t]["centre"], -scores[t]["lit"]))


def write_attention_threshold(path: str | Path, threshold: float, tuning: dict) -> None:
    """Rewrite the weights file ``path`` with ``tracker.attention_threshold`` and how it was tuned."""
    loaded = load_weights(path, method="tanet")
    config = {**loaded.config, "tracker": {**loaded.tracker_config(str(path)), "attention_threshold": threshold,
                                           "attention_threshold_tuning": tuning}}
    save_weights(path, method=loaded.method, config=config, state_dict=loaded.state_dict,
                 step=loaded.step, source=loaded.provenance)
