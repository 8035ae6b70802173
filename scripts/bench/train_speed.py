"""Training steps per second of one config under the CPU levers: bf16 autocast, channels_last and
a frozen backbone (``train.freeze``), one training process.

    OMP_NUM_THREADS=1 python scripts/bench/train_speed.py configs/globaltrack-real.yaml \
        --steps 12 --freeze-prefix backbone [--json FILE]

Each variant trains ``--steps`` steps in a fresh folder (the data pipeline included, as in a real
run) and reports the median seconds per step of the steps after the first two (warm-up). Variants
run one after another in one process, so they see the same machine load.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from longtrack.train import load_config
from longtrack.train.hooks import Hook
from longtrack.train.run import train


class _StepTimes(Hook):
    def __init__(self):
        self.times: list[float] = []
        self._last = None

    def before_train(self, trainer):
        self._last = time.perf_counter()

    def after_step(self, trainer):
        now = time.perf_counter()
        self.times.append(now - self._last)
        self._last = now


def _variants(freeze_prefix: str | None) -> dict[str, list[str]]:
    plain, last, none = "train.channels_last=false", "train.channels_last=true", "train.freeze=[]"
    out = {"fp32": ["train.amp=none", plain, none], "bf16": ["train.amp=bf16", plain, none],
           "bf16 + channels_last": ["train.amp=bf16", last, none]}
    if freeze_prefix:
        frozen = f"train.freeze=[{{prefix: {freeze_prefix}}}]"
        out["bf16, backbone frozen"] = ["train.amp=bf16", plain, frozen]
        out["bf16 + channels_last, backbone frozen"] = ["train.amp=bf16", last, frozen]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--freeze-prefix", default=None, help="parameter prefix to freeze, e.g. backbone")
    parser.add_argument("--only", nargs="*", default=None, help="variant names to run")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = {}
    for name, overrides in _variants(args.freeze_prefix).items():
        if args.only and name not in args.only:
            continue
        cfg = load_config(args.config, [*overrides, f"train.steps={args.steps}", "train.ckpt_every=100000",
                                        "train.eval_every=0", "train.tensorboard=false"])
        timer = _StepTimes()
        with tempfile.TemporaryDirectory() as out:
            train(cfg, Path(out) / "run", extra_hooks=[timer])
        steady = timer.times[2:] or timer.times
        results[name] = {"s_per_step": statistics.median(steady), "steps_per_s": 1 / statistics.median(steady)}
        print(f"{name:40s} {results[name]['s_per_step']:.3f} s/step  ({results[name]['steps_per_s']:.2f} steps/s)",
              flush=True)
    info = {"config": args.config, "threads": torch.get_num_threads(), "batch_size": cfg.train.batch_size,
            "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
