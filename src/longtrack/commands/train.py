"""``longtrack train CONFIG [--out DIR] [--resume] [--device DEV]``: train a model from a YAML
config; the same command runs under ``torchrun --nproc_per_node N`` with DDP."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML training config (see docs/training.md)")
    parser.add_argument("--out", default=None,
                        help="output folder for log.jsonl, checkpoint.pt, weights.pt "
                             "(default: runs/<config name>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT/checkpoint.pt (start fresh when there is none)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="change one config value (repeatable; VALUE read as YAML), e.g. "
                             "--set model.correlation=xcorr for an ablation; kept in OUT/config.yaml")
    parser.add_argument("--device", default="auto",
                        help="cpu, cuda, cuda:N or auto (this process's GPU if any, else the CPU)")
    parser.add_argument("--allow-code-methods", action="store_true",
                        help="accept a config whose method is 'package.module:build' (it imports and runs "
                             "that module: only for configs you trust); default: built-in methods only")


def run(args: argparse.Namespace) -> int:
    from ..train.config import load_config
    from ..train.methods import allow_code_methods
    from ..train.run import train

    if args.allow_code_methods:
        allow_code_methods()
    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    train(load_config(args.config, args.set), out, resume=args.resume, device=args.device)
    return 0
