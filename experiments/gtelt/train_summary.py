"""Compare GTELT training runs at equal budgets: the mean of each logged quantity over the last
steps of every run (``log.jsonl`` of ``longtrack train``), as a markdown table.

    python experiments/gtelt/train_summary.py runs/gtelt-ablation/base runs/gtelt-ablation/egt ... [--last 40]

Columns: total loss, its terms (focal, L1, GIoU loss, reference), the matched local tracker's IoU
with the target, the fraction of frames entered with an activated tracker, and steps/s.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from longtrack.errors import LongtrackError

COLUMNS = ("loss", "focal", "l1", "giou", "reference", "iou", "activated", "steps_per_s")


def read_log(run: Path) -> list[dict]:
    path = run / "log.jsonl"
    if not path.is_file():
        raise LongtrackError(f"{path}: no training log")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise LongtrackError(f"{path}:{number}: not JSON ({exc.msg})") from exc
    return [row for row in rows if "loss" in row]


def summary(rows: list[dict], last_steps: int) -> dict[str, float]:
    """Means over the rows whose step lies in the last ``last_steps`` steps of the log."""
    final = rows[-1]["step"]
    window = [row for row in rows if row["step"] > final - last_steps]
    return {"step": final, **{key: sum(row.get(key, 0.0) for row in window) / len(window) for key in COLUMNS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--last", type=int, default=40, help="steps averaged at the end of each run")
    args = parser.parse_args()
    print("| run | steps | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for run in args.runs:
        values = summary(read_log(run), args.last)
        cells = " | ".join(f"{values[key]:.3f}" for key in COLUMNS)
        print(f"| {run.name} | {values['step']} | {cells} |")


if __name__ == "__main__":
    main()
