"""Time ``load_dataset("lasot", ...)`` on the 280 LaSOT test sequences of the shared fixture
(2.7 million annotation values) beside a plain ``np.loadtxt`` loop over the same files, in one run.

    python scripts/bench/dataset_loading.py [--root ../shared/fixtures/eval/lasot] [--repeat 3]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from longtrack.datasets import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2] / ".." / "shared"
                        / "fixtures" / "eval" / "lasot")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    names = [n for n in (args.root / "testing_set.txt").read_text().split() if n]

    def longtrack_reader():
        load_dataset("lasot", args.root, progress=False)

    def numpy_loadtxt():  # the usual reference loop: no checks across files
        for n in names:
            np.loadtxt(args.root / "annos" / f"{n}.txt", delimiter=",")
            np.loadtxt(args.root / "annos" / "absent" / f"{n}.txt")

    best = {}
    for _ in range(args.repeat):
        for fn in (longtrack_reader, numpy_loadtxt):
            start = time.perf_counter()
            fn()
            best[fn.__name__] = min(best.get(fn.__name__, float("inf")), time.perf_counter() - start)
    for name, seconds in best.items():
        print(f"{name:18s} {seconds:.3f} s  (best of {args.repeat}, {len(names)} sequences)")


if __name__ == "__main__":
    main()
