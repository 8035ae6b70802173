"""hybrid-lt's ablation on the real benchmark (docs/benchmark-real.md's sequences): the full
tracker and each part removed in turn, scored exactly as the page scores its rows.

Variants: ``full``; ``no-global-search`` (local tracker + verification only); ``no-reid`` (the
highest-scoring candidate instead of re-id association); ``no-dynamic-templates`` (the first
frame's query only); ``no-switch-verification`` (TANet's plain switching: an unverified local box
goes to the top candidate, a verified one is never questioned). Each writes
``OUT/<real benchmark id>/<row>-<variant>/`` as ``longtrack eval --option ...`` would (resumable
per sequence), and the table is printed in the page's columns.

    OMP_NUM_THREADS=1 python experiments/hybrid_lt/ablation.py --tracker hybrid-lt:nanotrack \\
        --local-weights ../shared/models/nanotrack-v2 --out runs/ablation --workers 2
"""
from __future__ import annotations

import argparse
from pathlib import Path

from longtrack.evaluation.benchmark_page import collect_rows, score_table
from longtrack.evaluation.real_benchmark import load_real_benchmark, parse_parts
from longtrack.evaluation.runner import run_tracker_on_dataset

VARIANTS = {
    "full": {},
    "no-global-search": {"global_search": False},
    "no-reid": {"reid": False},
    "no-dynamic-templates": {"dynamic_templates": False},
    "no-switch-verification": {"verify_switch": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracker", default="hybrid-lt", help="hybrid-lt or hybrid-lt:<local tracker>")
    parser.add_argument("--local-weights", help="the local tracker's weights (nanotrack: its folder)")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args()
    bench, sequences = load_real_benchmark(parse_parts(None), progress=False)
    results = args.out / bench.id
    for variant in args.variants:
        options = dict(VARIANTS[variant])
        if args.local_weights:
            options["local_weights"] = args.local_weights
        print(f"{variant}: {options}", flush=True)
        run_tracker_on_dataset(args.tracker, bench.dataset, sequences, results, workers=args.workers,
                               name=f"{args.tracker}-{variant}", options=options, progress=True)
    print(score_table(collect_rows(results, sequences, bench.dataset)))


if __name__ == "__main__":
    main()
