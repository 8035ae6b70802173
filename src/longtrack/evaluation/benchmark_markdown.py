"""The text of a benchmark page (docs/benchmark.md, docs/benchmark-real.md): what the benchmark
is, the table, what each column means and which frames it covers, the plots, and how the page
was made (command, date, machine, library versions)."""
from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..datasets.sequence import Sequence
from .benchmark_page import PageRow, has_curves, per_sequence_table, score_table
from .run_record import machine_summary

COLUMN_NOTES = """\
- **Success AUC, Precision@20, Norm. precision**: one-pass evaluation with the LaSOT toolkit's
  conventions (`longtrack score --dataset {dataset}`): frames where the target is absent count as
  failures, frame 1 is the given box. AUC = mean success over IoU thresholds 0, 0.05, ..., 1;
  precision = centre error <= 20 px; normalized precision = error / target size <= 0.2.
- **TPR / TNR / MaxGM**: OxUvA's presence-aware measures on every frame after the first: TPR =
  fraction of frames with the target visible that the tracker reports present with IoU >= 0.5,
  TNR = fraction of absent frames it reports absent, MaxGM = the best geometric mean of TPR and
  TNR reachable by also reporting absent at random.
- **LT F-score**: VOT-LT's tracking precision / recall / F-measure over thresholds of the
  tracker's confidence, at the F-maximising threshold.
- **Re-detected, Re-detect median**: of all frames where the target re-appears after an absence,
  the fraction after which the tracker reports it present with IoU > 0.5 before it is absent
  again, and the median number of frames that took.
- **Scored**: the date (UTC) and git commit (`+dirty`: with uncommitted changes) at which the
  row's numbers were computed; "(kept)": its result folder is not here, so the row is the one
  the page's previous version stored in `rows.json` (see "How this page was made").
- **FPS**: frames per second of the tracker alone (initialisation and image decoding not
  counted), from the per-frame time logs of the result folders, on the machine and with the
  worker count below; a shared machine makes it a lower bound.
"""


@dataclass
class PageInputs:
    benchmark: object  # a SynthBenchmark or RealBenchmark: id, dataset, title, describe(sequences)
    sequences: list[Sequence]
    rows: list[PageRow]
    not_listed: dict[str, str]  # tracker -> why it has no trained row on the page
    failures: dict[str, str]  # result folder -> what went wrong in this invocation
    plots: list[Path]  # relative to the page
    command: str
    sources: str  # where the sequences are and how their results are scored (one sentence or two)
    results_dir: Path
    rows_file: Path  # the kept rows, relative to the page


def library_versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for dist in ("longtrack", "numpy", "opencv-contrib-python-headless", "torch"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(parts)


def column_notes(dataset: str, sequences: list[Sequence]) -> str:
    """What each column means; when only some sequences have absent frames, which frames each
    column covers (the presence-aware ones see absence only in those)."""
    notes = COLUMN_NOTES.format(dataset=dataset)
    with_absence = [s for s in sequences if s.absent.any()]
    if 0 < len(with_absence) < len(sequences):
        absent = sum(int(s.absent.sum()) for s in with_absence)
        names = ", ".join(s.name for s in with_absence)
        notes += (f"- **What each column covers**: Success AUC, Precision@20 and Norm. precision: the mean over all "
                  f"{len(sequences)} sequences. TPR and LT F-score: every frame of every sequence, pooled. TNR: "
                  f"only the {absent} absent frames, all in {len(with_absence)} sequences ({names}); MaxGM "
                  "combines the two. Re-detected and Re-detect median: the re-appearances in those sequences "
                  f"only. The other {len(sequences) - len(with_absence)} sequences have no absent frame, so "
                  "they weigh in TPR, never in TNR.\n")
    return notes


def _status_lines(page: PageInputs) -> list[str]:
    lines = []
    n = len(page.sequences)
    for row in page.rows:
        if row.scores is None:
            lines.append(f"- `{row.folder}`: incomplete ({row.complete} of {n} sequences); not ranked.")
        elif row.kept and row.complete:
            lines.append(f"- `{row.folder}`: result folder incomplete ({row.complete} of {n} sequences); "
                         "the table shows its kept row.")
    for folder, message in sorted(page.failures.items()):
        lines.append(f"- `{folder}`: failed in the last run: {message}")
    for tracker, why in sorted(page.not_listed.items()):
        lines.append(f"- `{tracker}`: {why}.")
    return lines


def _names(rows: list[PageRow], stamp: bool = False) -> str:
    if not rows:
        return "none"
    return ", ".join(f"`{r.folder}`" + (f" ({(r.scored or {}).get('date', '?')}, `{(r.scored or {}).get('commit')}`)"
                                         if stamp else "") for r in rows)


def _plot_gaps(rows: list[PageRow]) -> list[str]:
    """Which ranked rows some plots leave out, because their kept data lacks what they draw."""
    ranked = [r for r in rows if r.scores is not None]
    lines = []
    no_curves = [r for r in ranked if not has_curves(r)]
    if no_curves:
        lines.append(f"- Without curves (kept rows stored from a page that had only its tables), so not in the "
                     f"success and precision plots: {_names(no_curves)}.")
    no_delays = [r for r in ranked if r.delays is None]
    if no_delays:
        lines.append(f"- Without re-detection delays, so not in the re-detection plot: {_names(no_delays)}.")
    return lines


def _provenance_lines(page: PageInputs) -> list[str]:
    """Which rows were computed by this invocation and which were kept, from when."""
    ranked = [r for r in page.rows if r.scores is not None]
    fresh, kept = [r for r in ranked if not r.kept], [r for r in ranked if r.kept]
    stamp = (fresh[0].scored or {}) if fresh else {}
    lines = [f"- Scored this time from their result folders (at `{stamp.get('commit')}`): {_names(fresh)}."
             if fresh else "- Scored this time from result folders: none."]
    if kept:
        lines.append(f"- Kept from `{page.rows_file.as_posix()}` (no complete result folder here; numbers, "
                     f"speeds and machine as scored then, date and commit in brackets): {_names(kept, stamp=True)}. "
                     "Every kept row's weights were checked against the tracker's current weights file; rows "
                     "whose weights changed are dropped, not kept.")
    now = library_versions()
    for versions in sorted({(r.scored or {}).get("versions") for r in kept} - {now}, key=str):
        names = _names([r for r in kept if (r.scored or {}).get("versions") == versions])
        lines.append(f"- Kept rows scored with other versions than below ({versions or 'not recorded'}): {names}.")
    return lines


def render_page(page: PageInputs) -> str:
    out = [f"# Benchmark: {page.benchmark.title}", "",
           "<!-- Generated by `longtrack benchmark-page`; edit the generator, not this file. -->", "",
           page.benchmark.describe(page.sequences), "",
           score_table(page.rows)]
    status = _status_lines(page)
    if status:
        out += ["Not ranked:", "", *status, ""]
    out += ["## Columns", "", column_notes(page.benchmark.dataset, page.sequences)]
    gaps = _plot_gaps(page.rows)
    if page.plots or gaps:
        out += ["## Plots", ""]
        out += [f"![{p.stem}]({p.as_posix()})" for p in page.plots]
        out += ["", *gaps, ""] if gaps else [""]
    per_seq = per_sequence_table(page.rows, page.sequences)
    if per_seq:
        out += ["## Success AUC per sequence", "", per_seq]
    recorded = sorted({f"{(r.record or {}).get('machine', 'unknown')} with "
                       f"{(r.record or {}).get('workers') or 'an unrecorded number of'} worker(s)"
                       for r in page.rows if r.scores is not None})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    out += ["## How this page was made", "",
            "Regenerate it (finished sequences and result folders are reused; delete a tracker's "
            f"folder under `{page.results_dir}` to redo it; `--no-run` redraws the page from the folders "
            "there and the kept rows, `--forget ROW` drops a kept row):", "", "```bash", page.command, "```", "",
            f"- Generated {now} on {machine_summary()}; load average at the end {load}.",
            *_provenance_lines(page),
            f"- Speeds measured on: {'; '.join(recorded) or 'n/a'} (with more than one worker, each "
            "process uses one torch/OpenCV thread).",
            f"- {library_versions()}.",
            f"- {page.sources} Result folders: `{page.results_dir}/<row>/`.",
            "- Each run seeds Python, numpy, torch and OpenCV per sequence (CRC-32 of its name), and "
            "builds learned trackers from seed 0, so reruns and worker counts give the same boxes.",
            ""]
    return "\n".join(out)
