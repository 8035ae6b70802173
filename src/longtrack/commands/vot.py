"""``longtrack vot --tracker NAME [--weights PATH]``: serve a tracker to the VOT toolkit over TraX.

Meant to be started by the toolkit (``protocol = trax`` and ``command = longtrack vot --tracker
NAME`` in trackers.ini): stdin/stdout carry the TraX messages. ``longtrack vot-workspace``
writes entries that use the equivalent ``python -m longtrack.vot.trax_server``.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..trackers import DEFAULT_TRACKER
    from ..vot.trax_server import ENV_LOG, default_log_path

    parser.add_argument("--tracker", default=DEFAULT_TRACKER,
                        help=f"tracker name (default: {DEFAULT_TRACKER}); see `longtrack trackers`")
    parser.add_argument("--weights", default=None, metavar="PATH", help="checkpoint (default: the shipped weights)")
    parser.add_argument("--device", default="cpu", help="torch device for learned trackers (default: cpu)")
    parser.add_argument("--log", type=Path, default=None, metavar="FILE",
                        help=f"append the server's log here (default: ${ENV_LOG}, else {default_log_path()})")
    parser.epilog = ("Started by the VOT toolkit, not by hand: it speaks TraX on stdin/stdout. "
                     "Errors end the TraX session with the reason and go to the log with a traceback.")


def run(args: argparse.Namespace) -> int:
    import os

    from ..vot.trax_server import ENV_LOG, ServerConfig, serve

    log = args.log or (Path(os.environ[ENV_LOG]) if os.environ.get(ENV_LOG, "").strip() else None)
    return serve(ServerConfig(tracker=args.tracker, weights=args.weights, device=args.device, log_path=log))
