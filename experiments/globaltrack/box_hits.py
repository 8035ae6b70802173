"""Where a tracker's boxes land on a synthetic benchmark: on the target, on a same-class
distractor, on another object, or on none of them.

    python experiments/globaltrack/box_hits.py runs/benchmark/synth-lt-v1.0.0/globaltrack \
        --root ~/.cache/longtrack/synth-lt-v1.0.0

Over the frames where the target is visible (visibility >= the sequence's ``absent_below``),
after the first: a box "hits" an object when its IoU with that object's box is >= 0.5 (the
target is tried first, occluders never). Written for GlobalTrack, whose query-guided search has
no motion model, so telling the target from a look-alike rests on appearance alone.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from longtrack.boxes import iou
from longtrack.errors import LongtrackError


def sequence_hits(meta: dict, boxes: np.ndarray) -> dict[str, int]:
    """``meta``: the sequence's meta.json; ``boxes [N, 4]`` xywh -> counts per kind of hit."""
    counts = {"target": 0, "distractor": 0, "other": 0, "nothing": 0}
    objects = sorted((o for o in meta["objects"] if o["role"] != "occluder"), key=lambda o: not o["is_target"])
    target = objects[0]
    visible = np.asarray(target["visible"], dtype=float) >= meta["absent_below"]
    for i in np.flatnonzero(visible[1:]) + 1:
        hit = "nothing"
        for obj in objects:
            if obj["visible"][i] and iou(boxes[i], obj["boxes"][i]) >= 0.5:
                hit = "target" if obj["is_target"] else ("distractor" if obj["role"] == "distractor" else "other")
                break
        counts[hit] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="a result folder of `longtrack eval` (<sequence>.txt)")
    parser.add_argument("--root", type=Path, default=Path.home() / ".cache/longtrack/synth-lt-v1.0.0")
    args = parser.parse_args()
    totals = {"target": 0, "distractor": 0, "other": 0, "nothing": 0}
    for name in (args.root / "list.txt").read_text().split():
        folder = args.root / name.rsplit("-", 1)[0] / name
        result = args.results / f"{name}.txt"
        if not result.exists():
            raise LongtrackError(f"{result}: no result for sequence {name}")
        counts = sequence_hits(json.loads((folder / "meta.json").read_text()),
                               np.loadtxt(result, delimiter=",", ndmin=2))
        print(name, counts)
        totals = {k: totals[k] + counts[k] for k in totals}
    frames = sum(totals.values())
    print(f"{frames} visible frames: " + ", ".join(f"{k} {v / frames:.3f}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
