"""The project's benchmark pages: every tracker on ``synth-lt`` (docs/benchmark.md,
``synth_benchmark``) or on real videos (docs/benchmark-real.md, ``real_benchmark``).

Which runs a tracker gets (``plan_runs``): its shipped (or given) weights; a learned tracker
also gets an "untrained" row (``weights="none"``, folder ``<name>-untrained``), and one that
ships no weights is listed as such instead of a trained row. The page then shows every
complete result folder of the benchmark (``collect_rows``), so each tracker adds its row by
running ``longtrack benchmark-page --trackers NAME`` without redoing the others. ``dataset``
names the result format and scoring of the page's sequences (``synthetic``; ``lasot`` for the
real page, whatever layout each sequence was read from).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets.sequence import Sequence
from ..errors import LongtrackError
from . import redetection, result_formats
from .run_record import read_record
from .runner import is_complete
from .track_sequence import UNTRAINED

DATASET = "synthetic"
UNTRAINED_SUFFIX = "-untrained"


@dataclass(frozen=True)
class PlannedRun:
    tracker: str
    weights: str | None  # None: shipped default; "none": untrained; else a file
    folder: str  # result folder name = the row's name on the page
    options: dict = field(default_factory=dict)  # factory options, e.g. a wrapper's local_weights


@dataclass
class PageRow:
    """A row of the page: a result folder's scores (None while incomplete) and speed, or a row
    kept from the page's previous rows (``kept_rows``) whose folder is not here."""

    folder: str
    record: dict | None
    scores: dict | None = None
    fps: float = float("nan")
    # Re-detection delays of all re-appearances (an entry None = never); None = not known (a
    # kept row stored without them).
    delays: list | None = field(default_factory=list)
    complete: int = 0  # sequences with results in the folder
    scored: dict | None = None  # {"date", "commit", "benchmark", "versions"} of the scoring
    kept: bool = False  # from rows.json, not scored from a folder this time


def default_trackers() -> list[str]:
    """Every registered tracker except wrapper patterns such as ``tanet:*``."""
    from ..registry import tracker_names

    return [n for n in tracker_names() if "*" not in n]


def plan_runs(trackers: list[str], weights: dict[str, str], untrained: bool = True,
              extra_rows: dict[str, tuple[str, str]] | None = None) -> tuple[list[PlannedRun], dict[str, str]]:
    """The runs to make and, per tracker left without a trained row, why. ``extra_rows``: row
    name -> (tracker, weights file), e.g. a tracker's previous weights beside its current ones."""
    from ..registry import get_tracker_spec

    unknown = set(weights) - set(trackers)
    if unknown:
        raise LongtrackError(f"--weights given for tracker(s) not in --trackers: {', '.join(sorted(unknown))}")
    runs, missing = [], {}
    for name in trackers:
        spec = get_tracker_spec(name)
        # A wrapper (tanet:nanotrack, hybrid-lt:nanotrack) gives its local tracker that tracker's --weights.
        inner = spec.options.get("local_tracker")
        options = {"local_weights": weights[inner]} if inner in weights else {}
        if name in weights:
            runs.append(PlannedRun(name, weights[name], name, options))
        elif spec.weights_path() is not None or not spec.needs_weights:
            runs.append(PlannedRun(name, None, name, options))
        else:
            missing[name] = (f"learned tracker that ships no weights (add its row with "
                             f"`--weights {name}=PATH`)")
        if spec.needs_weights and spec.random_init and untrained:
            runs.append(PlannedRun(name, UNTRAINED, name + UNTRAINED_SUFFIX))
    for row, (tracker, path) in (extra_rows or {}).items():
        get_tracker_spec(tracker)
        runs.append(PlannedRun(tracker, path, row))
    return runs, missing


def parse_extra_rows(items: list[str] | None, trackers: list[str]) -> dict[str, tuple[str, str]]:
    """``["globaltrack-synth=globaltrack@w.pt", ...]`` -> ``{"globaltrack-synth": ("globaltrack", "w.pt")}``."""
    out = {}
    for item in items or []:
        row, sep, rest = item.partition("=")
        tracker, at, path = rest.rpartition("@")
        if not sep or not row or not at or not tracker or not path:
            raise LongtrackError(f"--extra-row must look like ROW=TRACKER@PATH, got {item!r}")
        if row in out or row in trackers or row.endswith(UNTRAINED_SUFFIX):
            raise LongtrackError(f"--extra-row {row}: the name is taken (a tracker, an untrained row or "
                                 "another extra row)")
        out[row] = (tracker, path)
    return out


def parse_weights_options(items: list[str] | None) -> dict[str, str]:
    """``["procontext=runs/x.pt", ...]`` -> ``{"procontext": "runs/x.pt"}``."""
    out = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise LongtrackError(f"--weights must look like TRACKER=PATH, got {item!r}")
        if name in out:
            raise LongtrackError(f"--weights given twice for {name}")
        out[name] = path
    return out


def _speed_and_redetection(tracker_dir: Path, sequences: list[Sequence], dataset: str) -> tuple[float, list]:
    """Frames per second over frames 1..N-1 (initialisation excluded) from the time logs, and
    every re-appearance's re-detection delay."""
    frames, seconds, delays = 0, 0.0, []
    for seq in sequences:
        res = result_formats.read_sequence_results(dataset, tracker_dir, seq)
        if res.times is not None:
            frames += len(seq) - 1
            seconds += float(np.sum(res.times[1:]))
        events = redetection.reappearances(res.boxes[:len(seq)], seq.boxes, seq.absent,
                                           None if res.present is None else res.present[:len(seq)])
        delays += [e.delay for e in events]
    return (frames / seconds if seconds > 0 else float("nan")), delays


def collect_rows(results_dir: Path, sequences: list[Sequence], dataset: str = DATASET) -> list[PageRow]:
    """Every tracker folder under ``results_dir``, scored when complete on ``sequences``."""
    from .scoring import score_results

    rows = []
    folders = sorted(p for p in Path(results_dir).iterdir() if p.is_dir()) if Path(results_dir).is_dir() else []
    for folder in folders:
        row = PageRow(folder.name, read_record(folder))
        row.complete = sum(is_complete(dataset, folder, s) for s in sequences)
        if row.complete == len(sequences):
            row.scores = score_results(dataset, sequences, folder, progress=False)
            row.fps, row.delays = _speed_and_redetection(folder, sequences, dataset)
        rows.append(row)
    return rows


def weights_text(record: dict | None) -> str:
    if record is None:
        return "unknown"
    weights = record.get("weights") or {}
    kind = weights.get("kind")
    if kind in ("file", "folder"):
        slash = "/" if kind == "folder" else ""
        return f"`{weights.get('name')}{slash}` ({str(weights.get('sha256'))[:8]})"
    return {"untrained": "untrained (random init.)", "weights-free": "none needed"}.get(kind, "unknown")


def scored_text(row: PageRow) -> str:
    """When and at which commit the row's numbers were computed; kept rows say so."""
    stamp = row.scored or {}
    text = f"{stamp.get('date', '?')} `{stamp.get('commit') or 'unknown commit'}`"
    return f"{text} (kept)" if row.kept else text


def _fmt(value, display: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{100 * value:.1f}" if display == "%" else f"{value:.{int(display)}f}"


def score_table(rows: list[PageRow]) -> str:
    """The markdown table: one line per scored folder, best success AUC first, with FPS."""
    from .report import table_columns, table_rows

    scored = {r.folder: r.scores for r in rows if r.scores is not None}
    if not scored:
        return "_No tracker has complete results yet._\n"
    by_name = {r.folder: r for r in rows}
    cols = table_columns(scored, "ope")
    header, values = table_rows(scored, "ope")
    lines = ["| " + " | ".join([header[0], "Weights", *header[1:], "FPS", "Scored"]) + " |",
             "|---|---|" + "---:|" * (len(header) - 1) + "---:|---|"]
    for name, *numbers in values:
        row = by_name[name]
        cells = [name, weights_text(row.record), *(_fmt(v, c[2]) for v, c in zip(numbers, cols)),
                 _fmt(row.fps, "1"), scored_text(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def per_sequence_table(rows: list[PageRow], sequences: list[Sequence]) -> str:
    """Success AUC (%) per sequence (rows) and tracker (columns, same order as the main table)."""
    scored = [r for r in rows if r.scores is not None]
    if not scored:
        return ""
    scored.sort(key=lambda r: -r.scores["success_auc"])
    lines = ["| Sequence | Frames | Absent | " + " | ".join(r.folder for r in scored) + " |",
             "|---|---:|---:|" + "---:|" * len(scored)]
    for seq in sequences:
        cells = [seq.name, str(len(seq)), f"{100 * seq.absent.mean():.1f}%"]
        cells += [_fmt(r.scores["per_sequence"][seq.name]["success_auc"], "%") for r in scored]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def has_curves(row: PageRow) -> bool:
    """Whether the row carries the success / precision curves (rows kept from a page that
    stored only its tables do not)."""
    return "curves" in (row.scores or {})


def plot_page(rows: list[PageRow], out_dir: Path, dataset: str, sequences: list[Sequence]) -> list[Path]:
    """The page's plots; each draws the ranked rows that carry its data."""
    from .plots import plot_attributes, plot_ope, plot_oxuva

    scored = {r.folder: r.scores for r in rows if r.scores is not None}
    with_curves = {r.folder: r.scores for r in rows if r.scores is not None and has_curves(r)}
    paths = plot_ope(with_curves, out_dir, dataset) if with_curves else []
    if scored and all("presence" in s for s in scored.values()):
        paths += plot_oxuva(scored, out_dir, dataset, key="presence")
    if scored:
        paths += plot_attributes(scored, sequences, out_dir, dataset)
    redetect = plot_redetection(rows, Path(out_dir) / "redetection.png")
    return paths + ([redetect] if redetect is not None else [])


def plot_redetection(rows: list[PageRow], path: Path, max_delay: int = 150) -> Path | None:
    """Fraction of re-appearances re-detected within k frames, per tracker."""
    from ..fileio import atomic_path

    scored = [r for r in rows if r.scores is not None and r.delays]
    if not scored:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = np.arange(max_delay + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for row in sorted(scored, key=lambda r: -r.scores["success_auc"]):
        delays = np.array([d for d in row.delays if d is not None], dtype=np.float64)
        within = np.searchsorted(np.sort(delays), ks, side="right") / len(row.delays)
        ax.step(ks, within, where="post", linewidth=2, label=f"[{100 * within[-1]:.1f}] {row.folder}")
    ax.set(title=f"Re-detection after re-appearance ({len(scored[0].delays)} re-appearances; "
                 f"legend: % within {max_delay} frames)",
           xlabel="Frames after the target re-appears", ylabel="Fraction re-detected (IoU > 0.5)",
           ylim=(0, 1.02), xlim=(0, max_delay))
    ax.grid(True, linestyle=":")
    ax.legend(loc="best", fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
