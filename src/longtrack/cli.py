"""The ``longtrack`` command line: one entry point, one module per sub-command.

Each module in ``longtrack.commands`` defines ``add_arguments(parser)`` and ``run(args) -> int``;
its one-line help is its entry in ``COMMANDS``. Modules are imported only when their command
runs, so ``--help`` stays fast and a broken optional dependency never breaks unrelated commands.
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys

COMMANDS = {
    "demo": "make a synthetic long-term clip, track it, write an annotated MP4 and print scores",
    "track": "track a box through a video file, an image folder or a camera",
    "trackers": "list the registered trackers, their weights and their papers",
    "synth": "write synthetic long-term sequences in the LaSOT layout",
    "eval": "run a tracker over a benchmark and write results in its own format (resumable)",
    "score": "score result folders on a benchmark exactly as its official toolkit does",
    "benchmark-page": "regenerate docs/benchmark.md (synthetic) or docs/benchmark-real.md (--suite real)",
    "train": "train a model from a config file (works under torchrun)",
    "bench": "measure frames per second of trackers by phase: fixed threads, warm-up, median of repeats",
    "tune-presence": "tune a learned tracker's presence threshold on training data and store it in its weights",
    "calibrate": "fit a tracker's online thresholds on training data (dmtrack, classic-lt, tanet) and store them",
    "fp16-check": "largest box difference between a tracker on fp32 weights and on their float16-stored copy",
    "tune-switching": "tune TANet's switching thresholds for one local tracker on training data (per-tracker table)",
    "convert": "turn an authors' published checkpoint into a longtrack checkpoint",
    "export": "export a learned tracker's network stages as ONNX graphs for onnxruntime",
    "vot": "serve a tracker to the VOT toolkit over TraX",
    "vot-workspace": "write a ready VOT long-term workspace for any dataset longtrack reads",
    "pretrained": "download, check and cache the ImageNet-pretrained backbone files, or list them",
}


def _module_name(command: str) -> str:
    return "longtrack.commands." + command.replace("-", "_")


def build_parser(load: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="longtrack", description="Long-term single-object visual tracking toolkit.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == load:
            importlib.import_module(_module_name(name)).add_arguments(p)
    return parser


# A value list that starts with a minus (``--box -5,0,10,10``): argparse would take it for an option.
_NEGATIVE_LIST = re.compile(r"-[0-9.][^,\s]*(,[^,\s]*)+")


def attach_negative_lists(argv: list[str]) -> list[str]:
    """``["--box", "-5,0,10,10"]`` -> ``["--box=-5,0,10,10"]``, which argparse reads as a value."""
    out: list[str] = []
    for arg in argv:
        if _NEGATIVE_LIST.fullmatch(arg) and out and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = attach_negative_lists(list(sys.argv[1:] if argv is None else argv))
    command = next((a for a in argv if a in COMMANDS), None)
    debug = "--debug" in argv
    try:
        args = build_parser(load=command).parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        module = importlib.import_module(_module_name(args.command))
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("longtrack: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI boundary turns errors into one line
        from .errors import LongtrackError

        if debug:
            raise
        if isinstance(exc, LongtrackError):
            print(f"longtrack: error: {exc}", file=sys.stderr)
        else:
            print(f"longtrack: error: {type(exc).__name__}: {exc} (run with --debug for details)",
                  file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
