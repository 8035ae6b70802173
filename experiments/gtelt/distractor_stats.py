"""How often the synthetic world's target has look-alikes in view: per frame where the target is
present, the number of visible objects of its own class (the world's distractors: a nearly
identical palette) and of other classes (occluders not counted), over random frames of the
``lt`` preset's train split. A classifier that sees one frame and the template cannot single the
target out among same-class distractors; only the temporal context can.

    OMP_NUM_THREADS=1 python experiments/gtelt/distractor_stats.py [--sequences 60] [--frames 10]
"""
from __future__ import annotations

import argparse

import numpy as np

from longtrack.synth import make_sequence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=60, help="train sequences 0..N-1")
    parser.add_argument("--frames", type=int, default=10, help="random frames drawn per sequence")
    parser.add_argument("--split", default="train")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    same, other = [], []
    for index in range(args.sequences):
        seq = make_sequence("lt", args.split, index, size=(320, 240))
        target = next(o for o in seq.objects if o.is_target)
        for f in rng.choice(len(seq.boxes), args.frames):
            if seq.absent[f]:
                continue
            visible = [o for o in seq.objects if not o.is_target and bool(np.asarray(o.visible)[f])]
            same.append(sum(o.class_name == target.class_name for o in visible))
            other.append(sum(o.class_name not in (target.class_name, "occluder") for o in visible))
    same, other = np.asarray(same), np.asarray(other)
    print(f"{len(same)} frames with the target present ({args.sequences} {args.split} sequences): "
          f"same-class distractors in view: mean {same.mean():.2f}, at least one in {(same >= 1).mean():.0%}, "
          f"at least two in {(same >= 2).mean():.0%}; other-class objects: mean {other.mean():.2f}")


if __name__ == "__main__":
    main()
