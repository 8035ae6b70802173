"""The training log's real-val pair figures (``eval/*`` of ``configs/procontext-real.yaml``) for
any ProContEXT weights file, so that weights of other configurations compare on the same pairs:

    OMP_NUM_THREADS=1 python experiments/procontext/real_pairs.py --weights src/longtrack/weights/procontext-synth.pt

Prints ``real_iou50``, ``real_iou`` and ``real_score_auc``
(``longtrack.train.methods.procontext_validation``) on 60 real-val pairs drawn with seed 0.
"""
from __future__ import annotations

import argparse

import torch

from longtrack.checkpoint import load_weights
from longtrack.models.procontext import ProContEXTConfig
from longtrack.train.config import ValidationConfig
from longtrack.train.methods.procontext import ProContEXTOnBatches
from longtrack.train.methods.procontext_validation import pair_evaluator
from longtrack.train.validation import validation_pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--root", default="../shared/data/real-val")
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    weights = load_weights(args.weights)
    model = ProContEXTOnBatches(ProContEXTConfig.from_dict(weights.model_config))
    model.load_state_dict(weights.state_dict, strict=True)
    pairs = validation_pairs(ValidationConfig(dataset="lasot", root=args.root, pairs=args.pairs), seed=args.seed)
    with torch.no_grad():
        figures = pair_evaluator(pairs, seed=args.seed, search_factor=model.config.search_factor)(model.eval())
    print("  ".join(f"{k} {v:.3f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
