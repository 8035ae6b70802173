"""Time DMTrack's tracker step (rescale, network, decoding, association) at paper and small size.

Random weights with ``min_score=0`` so that every frame has the full ``top_k`` candidates to embed
and associate; a synthetic lt frame (480x360), rescaled as the tracker does (paper: 682x512,
small: 256x192). Prints the median and best of ``--repeats`` steps after one warm-up step.

    OMP_NUM_THREADS=1 python scripts/bench/dmtrack_step.py --threads 1 --repeats 10 --sizes small paper
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

from longtrack.synth import make_sequence
from longtrack.trackers.dmtrack import DMTrackTracker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--sizes", nargs="+", default=["small", "paper"], choices=["small", "paper"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seq = make_sequence(preset="lt", split="test", index=0)
    frames = [seq.render(i) for i in range(args.repeats + 2)]
    for size in args.sizes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tracker = DMTrackTracker(size=size, min_score=0.0)
        tracker.initialize(frames[0], seq.boxes[0])
        tracker.track(frames[1])  # warm-up
        times = []
        for frame in frames[2:]:
            start = time.perf_counter()
            tracker.track(frame)
            times.append(time.perf_counter() - start)
        median, best = statistics.median(times), min(times)
        print(f"{size}: tracker step median {median * 1000:.1f} ms ({1 / median:.1f} frames/s), "
              f"best {best * 1000:.1f} ms, {args.threads} thread(s), {args.repeats} steps")


if __name__ == "__main__":
    main()
