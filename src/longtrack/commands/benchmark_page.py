"""``longtrack benchmark-page [--suite synth|real] [--trackers ...] [--workers N] ...``: run every
tracker on a benchmark (resuming finished sequences), score them, and write the page and its
plots.

* ``--suite synth`` (default): the synthetic long-term test benchmark, written once into a cache
  (``--num``, ``--root``, ``--preset``...); page ``docs/benchmark.md``.
* ``--suite real``: real videos read from dataset roots (``--data DATASET=DIR``, default
  real-val + real/ of the shared folder; ``evaluation.real_benchmark``); page
  ``docs/benchmark-real.md``.

A learned tracker gets a row for its shipped (or ``--weights NAME=PATH``) weights and an
"untrained" row (random initialisation, folder ``<name>-untrained``); ``--no-untrained`` skips
those. The page shows every complete result folder of the benchmark, not only this run's, and
the rows its previous run kept in ``<page folder>/rows.json`` whose folder is not here
(``evaluation.kept_rows``; ``--forget ROW`` drops one).
"""
from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
from pathlib import Path

from ..evaluation.real_benchmark import DEFAULT_PARTS

DEFAULT_RESULTS = Path("runs/benchmark")
DEFAULT_OUT = {"synth": Path("docs/benchmark.md"), "real": Path("docs/benchmark-real.md")}
DEFAULT_NUM = 10
SYNTH_ONLY = ("num", "root", "preset", "size", "num_frames")  # options of the synthetic suite


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", choices=sorted(DEFAULT_OUT), default="synth",
                        help="synth: the synthetic long-term test set (default); real: real videos (--data)")
    parser.add_argument("--trackers", nargs="+", metavar="NAME",
                        help="trackers to run (default: every registered tracker)")
    parser.add_argument("--weights", action="append", metavar="TRACKER=PATH",
                        help="weights for a learned tracker's row (repeatable; default: shipped weights)")
    parser.add_argument("--extra-row", action="append", metavar="ROW=TRACKER@PATH",
                        help="one more row named ROW: TRACKER with the weights at PATH (repeatable), e.g. "
                             "globaltrack-synth=globaltrack@src/longtrack/weights/globaltrack-synth.pt")
    parser.add_argument("--no-untrained", action="store_true",
                        help="skip the untrained (random initialisation) rows of learned trackers")
    parser.add_argument("--num", type=int, metavar="N", help=f"synth: sequences 0..N-1 (default {DEFAULT_NUM})")
    parser.add_argument("--root", type=Path, metavar="DIR",
                        help="synth: where the benchmark's sequences are (written if missing; default "
                             "~/.cache/longtrack/synth-lt-v<generator version>)")
    parser.add_argument("--data", action="append", metavar="DATASET=DIR",
                        help="real: a dataset root and its reader (repeatable; default "
                             + " ".join(f"{d}={r}" for d, r in DEFAULT_PARTS) + ")")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, metavar="DIR",
                        help=f"result folders go to DIR/<benchmark id>/<row>/ (default {DEFAULT_RESULTS})")
    parser.add_argument("--out", type=Path, metavar="FILE.md",
                        help="the page (default docs/benchmark.md, or docs/benchmark-real.md for --suite "
                             "real); plots and rows.json go to the folder of the same name without .md")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="tracker processes (default 1)")
    parser.add_argument("--no-run", action="store_true",
                        help="run no tracker: write the page from the result folders already there "
                             "and the kept rows (incomplete rows are listed as such)")
    parser.add_argument("--forget", action="append", default=[], metavar="ROW",
                        help="drop ROW's kept numbers from the page's rows.json (repeatable; a complete "
                             "result folder of ROW still scores it)")
    parser.add_argument("--device", default="cpu", help="torch device for learned trackers (default cpu)")
    quick = parser.add_argument_group("synth quick checks (the page then says it is not the standard benchmark)")
    quick.add_argument("--preset", help="synthetic preset (default lt)")
    quick.add_argument("--size", metavar="WxH", help="frame size override")
    quick.add_argument("--num-frames", type=int, metavar="F", help="frames per sequence override")


def _command_line(args, trackers: list[str]) -> str:
    words = ["longtrack", "benchmark-page"]
    if args.suite == "real":
        words += ["--suite", "real", "--trackers", *trackers]
        for item in args.data or []:
            words += ["--data", item]
    else:
        words += ["--trackers", *trackers, "--num", str(args.num)]
    for item in args.weights or []:
        words += ["--weights", item]
    for item in args.extra_row or []:  # without them the regenerated page would drop those rows
        words += ["--extra-row", item]
    if args.no_untrained:
        words.append("--no-untrained")
    if args.workers != 1:
        words += ["--workers", str(args.workers)]
    if args.device != "cpu":
        words += ["--device", args.device]
    if args.root is not None:
        words += ["--root", str(args.root)]
    if args.results != DEFAULT_RESULTS:
        words += ["--results", str(args.results)]
    if args.out != DEFAULT_OUT[args.suite]:
        words += ["--out", str(args.out)]
    for flag, value in (("--preset", None if args.preset in (None, "lt") else args.preset), ("--size", args.size),
                        ("--num-frames", args.num_frames)):
        if value is not None:
            words += [flag, str(value)]
    return shlex.join(words)


def _run_all(runs, dataset: str, sequences, results_dir, args) -> dict[str, str]:
    """Run each planned row; return ``{folder: what failed}``."""
    from ..errors import LongtrackError
    from ..evaluation.runner import run_tracker_on_dataset

    failures = {}
    for run in runs:
        print(f"{run.folder}: tracking {len(sequences)} sequences", file=sys.stderr, flush=True)
        try:
            summary = run_tracker_on_dataset(run.tracker, dataset, sequences, results_dir, weights=run.weights,
                                             device=args.device, workers=args.workers, progress=True,
                                             name=run.folder, options=run.options)
        except LongtrackError as exc:
            failures[run.folder] = str(exc)
            print(f"longtrack benchmark-page: {run.folder}: {exc}", file=sys.stderr)
            continue
        if summary.failed:
            first = next(iter(summary.failed.values()))
            failures[run.folder] = f"{len(summary.failed)} sequence(s) failed, e.g. {first}"
    return failures


def _add_row_command(suite: str, tracker: str) -> str:
    return shlex.join(["longtrack", "benchmark-page", *(["--suite", suite] if suite != "synth" else []),
                       "--trackers", tracker])


def _without_row(registered: list[str], on_page: set, scored: dict, no_weights: dict[str, str],
                 suite: str) -> dict[str, str]:
    """Why each registered tracker has no ranked row of its own name."""
    from ..evaluation.benchmark_page import plan_runs

    no_weights = {**plan_runs(registered, {}, untrained=False)[1], **no_weights}
    out = {t: why for t, why in no_weights.items() if t not in scored}
    for t in registered:
        if t not in on_page and t not in out:
            out[t] = f"not run on this benchmark yet (`{_add_row_command(suite, t)}`)"
    return out


def _page_rows(fresh, rows_file: Path, bench_id: str, weights: dict[str, str], forget: list[str],
               extra_rows: dict[str, tuple[str, str]] | None = None) -> list:
    """Rows scored from complete folders, plus the kept rows of ``rows_file`` that still hold."""
    from ..errors import LongtrackError
    from ..evaluation import kept_rows

    kept_id, kept = kept_rows.read_rows(rows_file)
    unknown = sorted(set(forget) - set(kept))
    if unknown:
        raise LongtrackError(f"--forget {' '.join(unknown)}: no such kept row in {rows_file} "
                             f"(kept: {', '.join(sorted(kept)) or 'none'})")
    if kept and kept_id != bench_id:
        print(f"longtrack benchmark-page: {rows_file} holds rows of {kept_id}, not {bench_id}: none kept",
              file=sys.stderr)
        kept = {}
    complete = {r.folder for r in fresh if r.scores is not None}
    for name in sorted(set(kept) - complete):
        extra = (extra_rows or {}).get(name)
        current = {extra[0]: extra[1]} if extra else weights  # an extra row holds its own weights
        why = "--forget" if name in forget else kept_rows.stale_reason(kept[name], current)
        if why is not None:
            print(f"longtrack benchmark-page: dropping kept row {name} (scored {kept[name].scored.get('date')}): "
                  f"{why}", file=sys.stderr)
            del kept[name]
    return kept_rows.merge(fresh, kept)


def _check_suite_options(args) -> None:
    """Reject options of the other suite; fill the defaults that depend on the suite."""
    from ..errors import LongtrackError

    if args.suite == "real":
        given = [f"--{name.replace('_', '-')}" for name in SYNTH_ONLY if getattr(args, name) is not None]
        if given:
            raise LongtrackError(f"{', '.join(given)}: options of the synthetic suite, not of --suite real "
                                 "(which reads --data DATASET=DIR)")
    elif args.data:
        raise LongtrackError("--data is an option of --suite real")
    if args.num is None:
        args.num = DEFAULT_NUM
    if args.preset is None:
        args.preset = "lt"
    if args.out is None:
        args.out = DEFAULT_OUT[args.suite]


def _load_suite(args, show: bool):
    """``(benchmark, sequences, sources sentence)`` of the suite; the synthetic one is written
    into its cache first when missing."""
    if args.suite == "real":
        from ..evaluation.real_benchmark import load_real_benchmark, parse_parts

        bench, sequences = load_real_benchmark(parse_parts(args.data), progress=show)
        print(f"{bench.id}: {len(sequences)} sequences from {len(bench.parts)} dataset root(s)", file=sys.stderr,
              flush=True)
        return bench, sequences, bench.sources_line()
    from ..datasets import load_dataset
    from ..evaluation.synth_benchmark import SynthBenchmark, default_cache_root, ensure_written
    from ..synth import parse_size

    bench = SynthBenchmark(args.num, args.preset, parse_size(args.size) if args.size else None, args.num_frames)
    root = args.root if args.root is not None else default_cache_root(bench)
    print(f"{bench.id}: sequences in {root} (written once if missing)", file=sys.stderr, flush=True)
    names = ensure_written(bench, root, progress=show)
    return bench, load_dataset("synthetic", root, sequences=names, progress=show), bench.sources_line(root)


def run(args: argparse.Namespace) -> int:
    from ..errors import LongtrackError
    from ..evaluation import benchmark_page as page
    from ..evaluation.benchmark_markdown import PageInputs, library_versions, render_page
    from ..evaluation.kept_rows import ROWS_NAME, write_rows
    from ..evaluation.report import write_json
    from ..fileio import atomic_write_text, check_writable
    from ..git_state import git_state

    if args.workers < 1:
        raise LongtrackError(f"--workers must be 1 or more, got {args.workers}")
    _check_suite_options(args)
    check_writable(args.out)
    trackers = list(dict.fromkeys(args.trackers or page.default_trackers()))
    weights = page.parse_weights_options(args.weights)
    extra_rows = page.parse_extra_rows(args.extra_row, trackers)
    runs, not_listed = page.plan_runs(trackers, weights, not args.no_untrained, extra_rows)
    show = sys.stderr.isatty()

    bench, sequences, sources = _load_suite(args, show)
    results_dir = args.results / bench.id
    failures = {} if args.no_run else _run_all(runs, bench.dataset, sequences, results_dir, args)

    fresh = page.collect_rows(results_dir, sequences, bench.dataset)
    # What a kept row must carry to say where its numbers came from. The page's own files do not
    # make the tree dirty: each regeneration rewrites them.
    plots_dir = args.out.with_suffix("")
    commit = git_state(exclude=(args.out, plots_dir))
    stamp = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"), "commit": commit,
             "benchmark": bench.id, "versions": library_versions()}
    for row in fresh:
        row.scored = stamp if row.scores is not None else None
    if any(r.scores is not None for r in fresh):
        write_json(results_dir / "scores.json", {r.folder: r.scores for r in fresh if r.scores is not None})
    rows_file = plots_dir / ROWS_NAME
    rows = _page_rows(fresh, rows_file, bench.id, weights, args.forget, extra_rows)
    scored = {r.folder: r.scores for r in rows if r.scores is not None}
    plots = page.plot_page(rows, plots_dir, bench.id, sequences)
    registered = page.default_trackers()
    on_page = {(r.record or {}).get("tracker") for r in rows} | set(trackers)
    ordered = [t for t in registered if t in on_page] + sorted(on_page - set(registered) - {None})
    # Planned rows with neither a result folder nor a kept row (e.g. with --no-run).
    absent = {r.folder: f"no result folder and no kept row (`{_add_row_command(args.suite, r.tracker)}`)"
              for r in runs if r.folder not in {row.folder for row in rows} | set(failures)}
    text = render_page(PageInputs(
        benchmark=bench, sequences=sequences, rows=rows,
        not_listed={**absent, **_without_row(registered, on_page, scored, not_listed, args.suite)},
        failures=failures, plots=[Path(os.path.relpath(p, args.out.parent)) for p in plots],
        command=_command_line(args, ordered), sources=sources, results_dir=results_dir,
        rows_file=Path(os.path.relpath(rows_file, args.out.parent))))
    write_rows(rows_file, bench.id, rows)
    atomic_write_text(args.out, text)
    print(page.score_table(rows), end="")
    print(f"wrote {args.out} ({len(scored)} ranked row(s)) and {len(plots)} plot(s) in {plots_dir}")
    if failures:
        raise LongtrackError(f"{len(failures)} row(s) failed: {', '.join(sorted(failures))} (see the page; "
                             "rerun to retry)")
    return 0
