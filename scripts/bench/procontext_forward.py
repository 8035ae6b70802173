"""Time ProContEXT on this machine: the network forward and the full tracker step.

    python scripts/bench/procontext_forward.py [--threads N] [--repeats R] [--device cpu] [--sizes paper small]

Prints milliseconds per call (best and median of R) at paper size and at the small (synthetic) size,
float32 and under bf16 autocast, and the tracker's frames per second (crops included).
Random weights: speed does not depend on the values.
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch

from longtrack.models.procontext import ProContEXT, ProContEXTConfig
from longtrack.trackers.procontext import ProContEXTTracker


def time_ms(fn, repeats: int) -> tuple[float, float]:
    """(best, median) milliseconds per call; on a shared machine the best is the least disturbed."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * min(times), 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", nargs="+", default=["paper", "small"], choices=["paper", "small"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, {args.threads} threads, device {device}")
    presets = {"paper": ProContEXTConfig.paper, "small": ProContEXTConfig.small}
    for name in args.sizes:
        config = presets[name]()
        model = ProContEXT(config).to(device).eval()
        z, x = config.template_size, config.search_size
        templates = torch.randn(1, config.num_templates, 3, z, z, device=device)
        search = torch.randn(1, 3, x, x, device=device)
        for amp in (False, True):
            def step():
                with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=amp):
                    model(templates, search)
            best, median = time_ms(step, args.repeats)
            print(f"{name:5s} forward {'bf16' if amp else 'fp32'}: best {best:8.1f} ms, median {median:8.1f} ms")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tracker = ProContEXTTracker(size=name, device=args.device)
        frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
        tracker.initialize(frame, (300, 200, 60, 50))
        best, median = time_ms(lambda: tracker.track(frame), args.repeats)
        print(f"{name:5s} tracker step fp32: best {best:8.1f} ms ({1000 / best:6.1f} frames/s), "
              f"median {median:8.1f} ms")


if __name__ == "__main__":
    main()
