"""Kept rows: ``docs/benchmark/rows.json``, every row the benchmark page shows, with all the
page and its plots need to redraw it without its result folder.

Result folders do not outlive the machine that made them, and rerunning every tracker costs
hours, so ``longtrack benchmark-page`` keeps a row whose complete result folder is gone from
the rows.json its previous run wrote, marked with the date and commit it was scored at. A
kept row must still describe the weights the page would run for its tracker now: one scored
with another weights file is dropped (a stale row is worse than none).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import LongtrackError
from ..fileio import atomic_write_text
from .benchmark_page import PageRow
from .report import to_json
from .run_record import weights_digest

FORMAT = 1
ROWS_NAME = "rows.json"
WEIGHTS_FREE_KINDS = ("untrained", "weights-free")  # nothing that could go stale


def _nan_for_none(obj):
    """JSON has no NaN (``to_json`` writes None): read it back as NaN, as scoring made it, so a
    kept row's "-" cells and the columns they sit in come back the same."""
    if isinstance(obj, dict):
        return {k: _nan_for_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_for_none(v) for v in obj]
    return float("nan") if obj is None else obj


def write_rows(path: Path, benchmark_id: str, rows: list[PageRow]) -> None:
    """Every ranked row (scored now or kept) into ``path``, atomically."""
    entries = {r.folder: {"record": r.record, "scored": r.scored, "fps": r.fps, "delays": r.delays,
                          "scores": r.scores} for r in rows if r.scores is not None}
    text = json.dumps(to_json({"format": FORMAT, "benchmark": benchmark_id, "rows": entries}), indent=1)
    atomic_write_text(path, text + "\n")


def read_rows(path: Path) -> tuple[str | None, dict[str, PageRow]]:
    """The benchmark id and the rows of ``path`` (none when it does not exist), each marked kept."""
    path = Path(path)
    if not path.is_file():
        return None, {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LongtrackError(f"{path}: unreadable kept rows ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("rows"), dict):
        raise LongtrackError(f"{path}: not a kept-rows file of format {FORMAT}")
    rows = {}
    for name, entry in data["rows"].items():
        missing = [k for k in ("record", "scored", "scores") if not isinstance(entry.get(k), dict)]
        if missing or "per_sequence" not in entry["scores"]:
            raise LongtrackError(f"{path}: row {name!r} lacks {', '.join(missing) or 'scores.per_sequence'}")
        fps = entry.get("fps")
        rows[name] = PageRow(name, entry["record"], scores=_nan_for_none(entry["scores"]),
                             fps=float("nan") if fps is None else float(fps),
                             delays=entry.get("delays"), scored=entry["scored"], kept=True)
    return data.get("benchmark"), rows


def stale_reason(row: PageRow, weights_options: dict[str, str]) -> str | None:
    """Why a kept row no longer describes its tracker's current weights (None: it does). The
    current weights are the ``--weights`` file given for the tracker, else the shipped one."""
    from ..registry import get_tracker_spec

    weights = (row.record or {}).get("weights") or {}
    if weights.get("kind") in WEIGHTS_FREE_KINDS:
        return None
    if weights.get("kind") not in ("file", "folder") or not weights.get("sha256"):
        return "its weights are not recorded"
    tracker = (row.record or {}).get("tracker")
    try:
        spec = get_tracker_spec(str(tracker))
    except LongtrackError:
        return f"tracker {tracker!r} is not registered"
    path = weights_options.get(tracker) or spec.weights_path()
    if path is None:
        return f"{tracker} ships no weights now"
    sha = weights_digest(path)
    if sha != weights["sha256"]:
        return (f"it was scored with {weights.get('name')} ({weights['sha256'][:8]}); "
                f"{Path(path).name} is now {sha[:8]}")
    return None


def merge(fresh: list[PageRow], kept: dict[str, PageRow]) -> list[PageRow]:
    """The page's rows: a complete result folder is scored (``fresh``); a kept row stands in for
    a folder that is absent or incomplete (``complete`` then counts that folder's sequences)."""
    by_name = {r.folder: r for r in fresh}
    for name, row in kept.items():
        folder = by_name.get(name)
        if folder is not None and folder.scores is not None:
            continue
        row.complete = 0 if folder is None else folder.complete
        by_name[name] = row
    return sorted(by_name.values(), key=lambda r: r.folder)
