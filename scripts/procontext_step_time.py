"""Seconds per ProContEXT training step (forward, loss, backward, AdamW) in fp32 and bf16 autocast
on one fixed batch of the shipped synthetic config, alternating the two so that machine load hits
both alike.

    OMP_NUM_THREADS=1 python scripts/procontext_step_time.py [--batch 16] [--repeats 3] [--rounds 2]
"""
from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import torch

from longtrack.train.config import load_config
from longtrack.train.data import collate_samples
from longtrack.train.methods.procontext import build

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per precision and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    setup = build(load_config(REPO / "configs" / "procontext-synth.yaml"), torch.device("cpu"))
    batch = collate_samples([setup.dataset[(0, i)] for i in range(args.batch)])
    optimizer = torch.optim.AdamW(setup.model.parameters(), lr=1e-4)
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for _ in range(args.rounds):
        for name in times:
            for _ in range(args.repeats):
                start = time.perf_counter()
                amp = torch.autocast("cpu", dtype=torch.bfloat16) if name == "bf16" else contextlib.nullcontext()
                with amp:
                    loss = setup.criterion(setup.model(batch), batch)["loss"]
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                times[name].append(time.perf_counter() - start)
    for name, values in times.items():
        print(f"{name}: median {sorted(values)[len(values) // 2]:.3f} s, best {min(values):.3f} s per step "
              f"of {args.batch} ({len(values)} steps)")


if __name__ == "__main__":
    main()
