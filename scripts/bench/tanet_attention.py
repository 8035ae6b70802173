"""The cost of TANet's attention per frame (the generator's forward, what global search adds to
a frame) at the small and the paper size, and the wrapper's cost per frame in local and in
global search around a local tracker.

    OMP_NUM_THREADS=1 python scripts/bench/tanet_attention.py [--threads 1] [--repeats 5] [--local kcf]

Prints one line per measurement (median of ``--repeats`` runs after one warm-up).
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch

from longtrack.models.tanet import TANetConfig, TANetGenerator
from longtrack.trackers.tanet import TANetTracker


def _median_seconds(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_generator(config: TANetConfig, repeats: int) -> float:
    torch.manual_seed(0)
    model = TANetGenerator(config).eval()
    s = config.input_size
    frame, clip = torch.rand(1, 3, s, s), torch.rand(1, config.clip_len, 3, s, s)

    def run():
        with torch.inference_mode():
            model(frame, frame, clip)

    return _median_seconds(run, repeats)


def bench_wrapper(local: str, repeats: int) -> tuple[float, float]:
    """Seconds per frame of tanet:<local> (small, random generator) in local and in global search."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (360, 480, 3), dtype=np.uint8) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracker = TANetTracker(weights=None, local_tracker=local, attention_threshold=0.0, max_regions=3)
    tracker.initialize(frames[0], (200, 150, 60, 50))
    local_time = _median_seconds(lambda: tracker.track(frames[1]), repeats)

    def global_frame():
        tracker.state.mode = "global"
        tracker.redetect_threshold = tracker.verify_threshold = 2.0  # never found: every call is a full global search
        tracker.track(frames[2])

    return local_time, _median_seconds(global_frame, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--local", default="kcf", help="local tracker for the wrapper timing")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    for name, config in (("small", TANetConfig.small()), ("paper", TANetConfig.paper())):
        seconds = bench_generator(config, args.repeats)
        print(f"attention {name} (width {config.width}, {config.input_size}x{config.input_size}): "
              f"{1000 * seconds:.1f} ms/frame")
    local_time, global_time = bench_wrapper(args.local, args.repeats)
    print(f"tanet:{args.local} (small): local search {1000 * local_time:.1f} ms/frame, "
          f"global search with 3 regions {1000 * global_time:.1f} ms/frame")


if __name__ == "__main__":
    main()
