"""One tracker's variants (factory options) on the real benchmark's sequences
(docs/benchmark-real.md), scored exactly as the page scores its rows: the ablation tables of the
method pages.

Each variant ``NAME=KEY:VALUE[,KEY:VALUE...]`` (values read as YAML) writes
``OUT/<real benchmark id>/<tracker>-<NAME>/`` as ``longtrack eval --option KEY=VALUE ...`` would
(resumable per sequence); the table of every folder under that benchmark id is printed in the
page's columns. ``--preset hybrid-lt`` names the flagship's parts-removed variants.

    OMP_NUM_THREADS=1 python experiments/evaluation/real_page_variants.py --tracker hybrid-lt:nanotrack \\
        --local-weights ../shared/models/nanotrack-v2 --preset hybrid-lt --out runs/ablation --workers 2
    OMP_NUM_THREADS=1 python experiments/evaluation/real_page_variants.py --tracker dmtrack \\
        --variant top1=association:top1 --variant position=association:position \\
        --variant reid=association:reid --out runs/ablation-dmtrack --workers 2
"""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from longtrack.errors import LongtrackError
from longtrack.evaluation.benchmark_page import collect_rows, score_table
from longtrack.evaluation.real_benchmark import load_real_benchmark, parse_parts
from longtrack.evaluation.runner import run_tracker_on_dataset

PRESETS = {
    "hybrid-lt": {
        "full": {},
        "no-global-search": {"global_search": False},
        "no-reid": {"reid": False},
        "no-dynamic-templates": {"dynamic_templates": False},
        "no-switch-verification": {"verify_switch": False},
    },
}


def parse_variant(item: str) -> tuple[str, dict]:
    name, sep, rest = item.partition("=")
    if not sep or not name:
        raise LongtrackError(f"--variant takes NAME=KEY:VALUE[,KEY:VALUE...], got {item!r}")
    options = {}
    for pair in filter(None, rest.split(",")):
        key, colon, value = pair.partition(":")
        if not colon or not key:
            raise LongtrackError(f"--variant {name}: {pair!r} is not KEY:VALUE")
        options[key] = yaml.safe_load(value)
    return name, options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracker", required=True)
    parser.add_argument("--local-weights", help="a wrapper's local tracker weights (nanotrack: its folder)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a named set of variants")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=KEY:VALUE,...")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    variants = dict(PRESETS.get(args.preset, {}))
    variants.update(parse_variant(item) for item in args.variant)
    if not variants:
        parser.error("give --preset or at least one --variant")
    bench, sequences = load_real_benchmark(parse_parts(None), progress=False)
    results = args.out / bench.id
    for name, options in variants.items():
        options = {**options, **({"local_weights": args.local_weights} if args.local_weights else {})}
        print(f"{name}: {options}", flush=True)
        run_tracker_on_dataset(args.tracker, bench.dataset, sequences, results, workers=args.workers,
                               name=f"{args.tracker}-{name}", options=options, progress=True)
    print(score_table(collect_rows(results, sequences, bench.dataset)))


if __name__ == "__main__":
    main()
