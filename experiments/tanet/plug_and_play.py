"""TANet's "plug and play" table on the synthetic long-term test benchmark: each local tracker
alone and wrapped as ``tanet:<local>`` (global search on the attention map), same sequences.

    OMP_NUM_THREADS=1 python experiments/tanet/plug_and_play.py --locals kcf csrt classic-lt \
        [--weights PATH] [--num 10] [--results runs/benchmark] [--workers 1] [--suffix=-untrained] [--verify]

Results go to the benchmark page's folders (``runs/benchmark/<benchmark id>/<row>/``, resumable,
shared with ``longtrack benchmark-page``, so rows already there are reused). ``--weights``
(default: the shipped ``tanet-synth.pt``; ``none`` = untrained generator) and ``--suffix``
(appended to the tanet rows' folder names) allow comparing generators. Prints a markdown
table: the standard OPE, presence (OxUvA-style), VOT-LT and re-detection columns, and FPS.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from longtrack.datasets import load_dataset
from longtrack.evaluation import benchmark_page as page
from longtrack.evaluation.report import markdown_table
from longtrack.evaluation.runner import run_tracker_on_dataset
from longtrack.evaluation.synth_benchmark import SynthBenchmark, default_cache_root, ensure_written
from longtrack.registry import TrackerSpec, get_tracker_spec, register_tracker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locals", nargs="+", default=["kcf", "csrt", "classic-lt"], metavar="NAME")
    parser.add_argument("--weights", help="TANet weights for the tanet rows (default: shipped; 'none': untrained)")
    parser.add_argument("--suffix", default="", help="appended to the tanet rows' folder names")
    parser.add_argument("--num", type=int, default=10, help="benchmark sequences 0..N-1 (default 10)")
    parser.add_argument("--results", type=Path, default=Path("runs/benchmark"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--verify", action="store_true",
                        help="wrap with verify='template' (rows tanet:<local>+verify)")
    parser.add_argument("--skip-run", action="store_true", help="only tabulate the folders already there")
    args = parser.parse_args()

    bench = SynthBenchmark(args.num)
    root = default_cache_root(bench)
    names = ensure_written(bench, root, progress=sys.stderr.isatty())
    sequences = load_dataset("synthetic", root, sequences=names)
    results_dir = args.results / bench.id
    prefix, row_suffix = "tanet", args.suffix
    if args.verify:  # the same wrapper with template verification, under its own name
        base = get_tracker_spec("tanet:*")
        register_tracker(TrackerSpec("tanetv:*", base.factory, base.paper, base.default_weights, True,
                                     {**base.options, "verify": "template"}))
        prefix, row_suffix = "tanetv", "+verify" + args.suffix
    folders = []
    for local in args.locals:
        wrapped = f"{prefix}:{local}"
        for tracker, weights, folder in ((local, None, local), (wrapped, args.weights, f"tanet:{local}{row_suffix}")):
            folders.append(folder)
            if args.skip_run:
                continue
            print(f"{folder}: tracking {len(sequences)} sequences", file=sys.stderr, flush=True)
            summary = run_tracker_on_dataset(tracker, "synthetic", sequences, results_dir, weights=weights,
                                             workers=args.workers, progress=True, name=folder)
            if summary.failed:
                print(f"{folder}: {len(summary.failed)} sequence(s) failed", file=sys.stderr)
    rows = {r.folder: r for r in page.collect_rows(results_dir, sequences) if r.folder in folders}
    scored = {name: rows[name].scores for name in folders if name in rows and rows[name].scores is not None}
    print(f"{bench.id}, {len(sequences)} sequences, {sum(len(s) for s in sequences)} frames\n")
    print(markdown_table(scored, "ope"))
    print("| Row | FPS | complete |\n|---|---:|---:|")
    for name in folders:
        row = rows.get(name)
        print(f"| {name} | {row.fps:.1f} | {row.complete}/{len(sequences)} |" if row else f"| {name} | - | 0 |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
