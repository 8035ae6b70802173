"""Training-sample throughput on the synthetic world: samples per second of one process.

    python scripts/bench/train_data.py [--size 320x240] [--samples 200] [--json FILE]

Each case draws ``--samples`` samples with one thread; "cold" draws each sample from a new
sequence (every sequence's set-up paid), "warm" from a pool that fits in the cache, and
``samples_per_video=8`` shares each new sequence between 8 consecutive samples.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from longtrack.synth import parse_size
from longtrack.train.config import DataConfig, SourceConfig, ViewConfig
from longtrack.train.data import TrackingSamples

CASES = {
    "pair 128/256 crops": dict(kind="pair"),
    "pair, ProContEXT paper views (2x2 templates 192, search 384)": dict(
        kind="pair", template_frames=2, templates=(ViewConfig(factor=2.0, size=192), ViewConfig(factor=4.0, size=192)),
        search=ViewConfig(factor=5.0, size=384, scale_jitter=0.25, center_jitter=3.0)),
    "sequence 1 + 5 frames, full 640x480": dict(
        kind="sequence", search_frames=5, search=ViewConfig(mode="full", size=(640, 480))),
    "multi_instance, full 640x480": dict(
        kind="multi_instance", templates=(ViewConfig(mode="full", size=(640, 480)),),
        search=ViewConfig(mode="full", size=(640, 480))),
}


def rate(cfg: DataConfig, samples: int, warm: bool) -> float:
    data = TrackingSamples(cfg, seed=0)
    if warm:
        for i in range(samples):
            data[(1, i)]
    start = time.perf_counter()
    for i in range(samples):
        data[(0, i)]
    return samples / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="320x240", help="synthetic frame size WxH (mini preset)")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    size = parse_size(args.size)
    results = []
    for name, options in CASES.items():
        for mode, pool, per_video, warm in (("cold", 100000, 1, False), ("warm", 16, 1, True),
                                            ("8 per video", 100000, 8, False)):
            source = SourceConfig("synthetic", preset="mini", frame_size=size, num_sequences=pool, cache=16)
            cfg = DataConfig(sources=(source,), samples_per_video=per_video, **options)
            value = rate(cfg, args.samples, warm)
            results.append({"case": name, "mode": mode, "samples_per_s": round(value, 1)})
            print(f"{name:62s} {mode:12s} {value:8.1f} samples/s", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"size": args.size, "samples": args.samples, "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
