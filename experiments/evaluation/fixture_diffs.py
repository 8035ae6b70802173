"""Largest |longtrack - official| over every headline number of every scoring fixture in
shared/fixtures/eval (the tests assert <= 1e-9; this prints what the difference actually is).

Usage (from the repository root):
    python experiments/evaluation/fixture_diffs.py --fixtures ../shared/fixtures/eval
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from longtrack.datasets import load_dataset
from longtrack.evaluation.scoring import score_results

# fixture -> (dataset, sequences root below the fixture, results folder below the fixture, keys)
CASES = {
    "lasot": ("lasot", ".", "results", ("success_auc", "precision", "norm_precision")),
    "otb": ("otb", "sequences", "results", ("success_auc", "precision")),
    "got10k": ("got10k", ".", "results", ("ao", "sr50", "sr75")),
    "vot_lt_1": ("votlt2020", ".", "results", ("precision", "recall", "f_score", "threshold")),
    "vot_lt_2": ("votlt2020", ".", "results", ("precision", "recall", "f_score", "threshold")),
    "oxuva_synth_1": ("oxuva", ".", "predictions", ("tpr", "tnr", "max_gm")),
    "oxuva_synth_2": ("oxuva", ".", "predictions", ("tpr", "tnr", "max_gm")),
    "oxuva_real": ("oxuva", None, "assess/test", ("tpr", "tnr", "max_gm")),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures/eval"))
    args = parser.parse_args()
    print(f"{'fixture':<15} {'trackers':>8} {'numbers':>8}  max |ours - official|")
    for case, (dataset, seq_root, results, keys) in CASES.items():
        root = args.fixtures / case
        expected = json.loads((root / "expected.json").read_text())["trackers"]
        sequences = load_dataset(dataset, root / seq_root, progress=False) if seq_root else []
        worst, count = 0.0, 0
        for tracker, exp in expected.items():
            got = score_results(dataset, sequences, root / results / tracker, progress=False)
            for key in keys:
                worst = max(worst, abs(got[key] - exp[key]))
                count += 1
        print(f"{case:<15} {len(expected):>8} {count:>8}  {worst:.1e}")


if __name__ == "__main__":
    main()
