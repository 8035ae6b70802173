"""``longtrack synth --out DIR --preset {lt,st,mini} --split {train,val,test} --num N [--size WxH] [--seed S]``:
write synthetic sequences in the LaSOT layout, plus ``DIR/list.txt`` (their names, in order)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HELP = "write synthetic long-term sequences in the LaSOT layout"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..synth.presets import PRESETS, SPLITS

    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--preset", default="lt", choices=list(PRESETS),
                        help="lt: 1000-3000 frames with exits, occlusions and distractors; st: 100-300 frames, "
                             "target always visible; mini: small frames for quick checks (default: lt)")
    parser.add_argument("--split", default="test", choices=list(SPLITS),
                        help="which seed range to draw from; splits never overlap (default: test)")
    parser.add_argument("--num", type=int, required=True, metavar="N", help="number of sequences (indices 0..N-1)")
    parser.add_argument("--size", default=None, metavar="WxH",
                        help="frame size, e.g. 640x480 (default: the preset's, 480x360 for lt/st, 320x240 for mini)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="use seeds S, S+1, ... instead of the split's own seeds")
    parser.add_argument("--num-frames", type=int, default=None, metavar="F",
                        help="override the drawn length of every sequence (events are scaled to fit)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..errors import LongtrackError
    from ..fileio import atomic_path, check_writable
    from ..synth import iter_sequences, parse_size, write_lasot

    if args.num < 1:
        raise LongtrackError(f"--num must be 1 or more, got {args.num}")
    if args.seed is not None and args.seed < 0:
        raise LongtrackError(f"--seed must be 0 or more, got {args.seed}")
    size = parse_size(args.size) if args.size is not None else None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise LongtrackError(f"--out {out} is a file, expected a folder")
    check_writable(out / "list.txt")
    if not os.access(out, os.W_OK | os.X_OK):
        raise LongtrackError(f"output folder {out} is not writable")

    sequences = list(iter_sequences(args.preset, args.split, args.num, size=size, seed=args.seed,
                                    num_frames=args.num_frames))
    total = sum(len(s) for s in sequences)
    names = []
    with tqdm(total=total, unit="frame", desc="synth", disable=None, file=sys.stderr) as bar:
        for seq in sequences:
            bar.set_postfix_str(seq.name)
            write_lasot(seq, out, progress=bar.update)
            names.append(seq.name)
    with atomic_path(out / "list.txt") as tmp:
        tmp.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        os.chmod(tmp, 0o644)  # a dataset file: readable like the images beside it
    print(f"wrote {len(names)} {args.preset} sequences ({total} frames, split {args.split}) to {out}")
    return 0
