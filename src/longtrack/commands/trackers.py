"""``longtrack trackers``: the registered trackers, whether weights are available, their paper."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("weights: 'yes' = default weights ship with longtrack; 'no' = a learned tracker "
                     "without shipped weights (pass --weights PATH); 'not needed' = weights-free.")


def weights_status(spec) -> str:
    if spec.weights_path() is not None:
        return "yes"
    return "no" if spec.needs_weights else "not needed"


def run(args: argparse.Namespace) -> int:
    from ..registry import get_tracker_spec, tracker_names
    from ..trackers import DEFAULT_TRACKER

    rows = [("name", "weights", "paper")]
    for name in tracker_names():
        spec = get_tracker_spec(name)
        marker = " (default)" if name == DEFAULT_TRACKER else ""
        rows.append((name + marker, weights_status(spec), spec.paper))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for i, row in enumerate(rows):
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}")
        if i == 0:
            print(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 5}")
    return 0
