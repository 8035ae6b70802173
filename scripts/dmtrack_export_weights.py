"""Turn a DMTrack training result (``weights.pt`` or ``checkpoint.pt`` of ``longtrack train``) into
the weights file the tracker ships: the same config and network, without the training-only
identity classifier and uncertainty weights.

    python scripts/dmtrack_export_weights.py runs/dmtrack-synth/weights.pt src/longtrack/weights/dmtrack-synth.pt
"""
from __future__ import annotations

import argparse
from pathlib import Path

from longtrack.checkpoint import load_weights, save_weights
from longtrack.train.methods.dmtrack import tracker_state_dict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    loaded = load_weights(args.source, method="dmtrack")
    state = tracker_state_dict(loaded.state_dict)
    save_weights(args.out, method="dmtrack", config=loaded.config, state_dict=state, step=loaded.step,
                 source={"exported_from": args.source.name, "training_provenance": loaded.provenance})
    count = sum(v.numel() for v in state.values())
    print(f"{args.out}: {len(state)} tensors, {count:,} values (step {loaded.step})")


if __name__ == "__main__":
    main()
