"""``longtrack synth --out DIR --preset {lt,st,mini,lt-real} --split {train,val,test} --num N [--size WxH] [--seed S]
[--source-root DIR]``: write synthetic sequences in the LaSOT layout, plus ``DIR/list.txt`` (their names, in order)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..synth.presets import PRESETS, SPLITS

    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--preset", default="lt", choices=list(PRESETS),
                        help="lt: 1000-3000 frames with exits, occlusions and distractors; st: 100-300 frames, "
                             "target always visible; mini: small frames for quick checks; lt-real: lt's events "
                             "with objects and backgrounds cut from real training sequences (default: lt)")
    parser.add_argument("--split", default="test", choices=list(SPLITS),
                        help="which seed range to draw from; splits never overlap (default: test)")
    parser.add_argument("--num", type=int, required=True, metavar="N", help="number of sequences (indices 0..N-1)")
    parser.add_argument("--size", default=None, metavar="WxH",
                        help="frame size, e.g. 640x480 (default: the preset's, 480x360 for lt/st, 320x240 for mini)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="use seeds S, S+1, ... instead of the split's own seeds (each sequence then "
                             "belongs to the split whose seed range holds its seed)")
    parser.add_argument("--num-frames", type=int, default=None, metavar="F",
                        help="override the drawn length of every sequence (events are scaled to fit)")
    parser.add_argument("--source-root", default=None, metavar="DIR",
                        help="lt-real only: the training root (LaSOT or GOT-10k layout) to cut objects and "
                             "backgrounds from (default: ../shared/data/real-train beside the repository); "
                             "evaluation sets are refused")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..errors import LongtrackError
    from ..datasets.lasot import class_of
    from ..fileio import atomic_path, check_writable, clean_stale_temporaries
    from ..synth import make_sequence, parse_size, write_lasot
    from ..synth.planner import drawn_length
    from ..synth.presets import get_preset, get_split

    if args.num < 1:
        raise LongtrackError(f"--num must be 1 or more, got {args.num}")
    if args.seed is not None and args.seed < 0:
        raise LongtrackError(f"--seed must be 0 or more, got {args.seed}")
    size = parse_size(args.size) if args.size is not None else None
    split = get_split(args.split)
    seeds = [split.seed(k) if args.seed is None else args.seed + k for k in range(args.num)]
    make_sequence(args.preset, args.split, 0, size, seeds[0], args.num_frames, args.source_root)  # bad settings fail here
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise LongtrackError(f"--out {out} is a file, expected a folder")
    check_writable(out / "list.txt")
    if not os.access(out, os.W_OK | os.X_OK):
        raise LongtrackError(f"output folder {out} is not writable")

    # list.txt first: a run killed part-way leaves a list naming sequences not yet written, which
    # the reader refuses, rather than a smaller dataset that looks whole.
    names = [make_sequence(args.preset, args.split, index, size, seed, args.num_frames, args.source_root).name
             for index, seed in enumerate(seeds)]
    with atomic_path(out / "list.txt") as tmp:
        tmp.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        os.chmod(tmp, 0o644)  # a dataset file: readable like the images beside it
    for folder in {out / class_of(n) for n in names}:  # half-written sequences of a killed run
        clean_stale_temporaries(folder)

    # sequences are made one at a time: each holds its canvas and sprites while it is written
    preset = get_preset(args.preset)
    total = args.num * args.num_frames if args.num_frames else sum(drawn_length(preset, s) for s in seeds)
    with tqdm(total=total, unit="frame", desc="synth", disable=None, file=sys.stderr) as bar:
        for index, seed in enumerate(seeds):
            seq = make_sequence(args.preset, args.split, index, size, seed, args.num_frames, args.source_root)
            bar.set_postfix_str(seq.name)
            write_lasot(seq, out, progress=bar.update)
    print(f"wrote {len(names)} {args.preset} sequences ({total} frames, split {args.split}) to {out}")
    return 0
