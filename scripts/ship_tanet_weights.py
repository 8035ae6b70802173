"""Turn a TANet training run into the shipped weights file: the generator only (the
discriminators are needed for training, not for tracking), with the run's config.

    python scripts/ship_tanet_weights.py runs/tanet-synth/weights.pt src/longtrack/weights/tanet-synth.pt
"""
from __future__ import annotations

import argparse
from pathlib import Path

from longtrack.checkpoint import load_weights, save_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_weights", type=Path, help="weights.pt (or checkpoint.pt) of a tanet training run")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    loaded = load_weights(args.run_weights, method="tanet")
    generator = {k: v for k, v in loaded.state_dict.items() if k.startswith("generator.")}
    save_weights(args.out, method="tanet", config=loaded.config, state_dict=generator, step=loaded.step,
                 source={"run_weights": args.run_weights.name, "step": loaded.step,
                         "provenance": loaded.provenance})
    size = args.out.stat().st_size
    print(f"{args.out}: {len(generator)} generator tensors, step {loaded.step}, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
