"""Comparison tables (console, markdown, CSV) and JSON output of ``score_results`` dicts."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from ..datasets.sequence import Sequence
from ..fileio import atomic_write_text

# Headline columns per protocol: (key path, column title, display: "%" = a fraction shown in
# percent with one decimal, "3" = three decimals, "1" = one decimal).
COLUMNS = {
    "ope": [(("success_auc",), "Success AUC", "%"), (("precision",), "Precision@20", "%"),
            (("norm_precision",), "Norm. precision", "%")],
    "tlp": [(("success_auc",), "Success AUC", "%"), (("precision",), "Precision@20", "%"),
            (("success_rate_50",), "SR0.5", "%"), (("lsm",), "LSM", "%")],
    "got10k": [(("ao",), "AO", "%"), (("sr50",), "SR0.5", "%"), (("sr75",), "SR0.75", "%")],
    "oxuva": [(("tpr",), "TPR", "%"), (("tnr",), "TNR", "%"), (("max_gm",), "MaxGM", "%")],
    "votlt": [(("precision",), "Precision", "3"), (("recall",), "Recall", "3"),
              (("f_score",), "F-score", "3"), (("threshold",), "Threshold", "3")],
}
# The column that ranks trackers (best first).
RANK_BY = {"ope": "success_auc", "tlp": "success_auc", "got10k": "ao", "oxuva": "max_gm",
           "votlt": "f_score"}
# Present only for some results (our runs, datasets with absence).
OPTIONAL_COLUMNS = [
    (("presence", "tpr"), "TPR", "%"), (("presence", "tnr"), "TNR", "%"),
    (("presence", "max_gm"), "MaxGM", "%"), (("longterm", "f_score"), "LT F-score", "3"),
    (("redetection", "redetected_fraction"), "Re-detected", "%"),
    (("redetection", "median_frames"), "Re-detect median (frames)", "1"),
]


def to_json(obj):
    """JSON-ready copy: arrays -> lists, numpy scalars -> Python, NaN / inf -> None."""
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_json(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def write_json(path, results: dict) -> None:
    atomic_write_text(path, json.dumps(to_json(results), indent=2) + "\n")


def _get(result: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


def table_columns(results: dict[str, dict], protocol: str) -> list[tuple]:
    """The protocol's columns, plus optional ones every result has."""
    cols = list(COLUMNS[protocol])
    for col in OPTIONAL_COLUMNS:
        if results and all(_get(r, col[0]) is not None for r in results.values()):
            cols.append(col)
    return cols


def table_rows(results: dict[str, dict], protocol: str) -> tuple[list[str], list[list]]:
    """Header and rows (raw numbers), trackers sorted by the first column, best first."""
    cols = table_columns(results, protocol)
    header = ["Tracker"] + [c[1] for c in cols]
    def rank(item):
        value = item[1].get(RANK_BY[protocol])
        return -(value if isinstance(value, (int, float)) and math.isfinite(value) else -1e9)

    rows = [[name] + [_get(r, c[0]) for c in cols] for name, r in sorted(results.items(), key=rank)]
    return header, rows


def _fmt(value, display: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if display == "%":
        return f"{100 * value:.1f}"
    return f"{value:.{int(display)}f}"


def markdown_table(results: dict[str, dict], protocol: str) -> str:
    """A markdown table: percentages with one decimal for rates, three decimals otherwise."""
    cols = table_columns(results, protocol)
    header, rows = table_rows(results, protocol)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(row[0])] + [_fmt(v, c[2]) for v, c in zip(row[1:], cols)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def console_table(results: dict[str, dict], protocol: str) -> str:
    """A fixed-width table for the terminal."""
    cols = table_columns(results, protocol)
    header, rows = table_rows(results, protocol)
    cells = [header] + [[str(r[0])] + [_fmt(v, c[2]) for v, c in zip(r[1:], cols)] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))) for row in cells)


def csv_text(results: dict[str, dict], protocol: str) -> str:
    """CSV with full-precision numbers (empty cell = not available)."""
    header, rows = table_rows(results, protocol)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row[0]] + ["" if v is None or (isinstance(v, float) and not math.isfinite(v))
                                    else repr(float(v)) for v in row[1:]])
    return buf.getvalue()


def sequence_flags(seq: Sequence) -> dict[str, bool]:
    """Per-sequence attribute flags: scalar 0/1 attributes, and per-frame bool arrays reduced
    with "any frame" (LaSOT's full occlusion / out of view)."""
    flags = {}
    for name, value in seq.attributes.items():
        arr = np.asarray(value)
        if arr.dtype == bool:
            flags[name] = bool(arr.any())
        elif arr.ndim == 0 and np.issubdtype(arr.dtype, np.number) and arr.item() in (0, 1):
            flags[name] = bool(arr.item())
    return flags


def attribute_breakdown(sequences: list[Sequence], per_sequence: dict[str, dict],
                        key: str = "success_auc") -> dict[str, tuple[float, int]]:
    """Mean of ``key`` over the sequences that have each attribute: ``{attr: (mean, count)}``.
    Attributes held by every sequence or by none are left out (they separate nothing)."""
    groups: dict[str, list[float]] = {}
    for seq in sequences:
        if seq.name not in per_sequence or key not in per_sequence[seq.name]:
            continue
        for attr, on in sequence_flags(seq).items():
            if on:
                groups.setdefault(attr, []).append(per_sequence[seq.name][key])
    n = len(sequences)
    return {a: (float(np.mean(v)), len(v)) for a, v in sorted(groups.items()) if 0 < len(v) < n}


def write_table_files(results: dict[str, dict], protocol: str, markdown: Path | None = None,
                      csv_path: Path | None = None) -> None:
    if markdown is not None:
        atomic_write_text(markdown, markdown_table(results, protocol))
    if csv_path is not None:
        atomic_write_text(csv_path, csv_text(results, protocol))
