"""``longtrack convert --method NAME --official FILE --out FILE``: an authors' checkpoint -> a
longtrack weights file (config + state dict) that ``--weights`` accepts."""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import yaml

from ..errors import LongtrackError
from ..fileio import sha256_of


def add_arguments(parser) -> None:
    from ..convert import CONVERTERS

    parser.add_argument("--method", required=True, choices=sorted(CONVERTERS),
                        help="the method whose authors made the checkpoint")
    parser.add_argument("--official", required=True, metavar="FILE",
                        help="the authors' checkpoint (a state dict, or a dict holding one under 'net')")
    parser.add_argument("--out", required=True, metavar="FILE", help="the longtrack weights file to write")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="a model-config value the checkpoint's shapes cannot tell "
                             "(e.g. num_heads=12); YAML syntax for the value; repeatable")


def _parse_overrides(items: list[str]) -> dict:
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise LongtrackError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            overrides[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise LongtrackError(f"--set {item!r}: the value is not valid YAML") from exc
    return overrides


def _load_official(path: Path) -> object:
    import torch

    if not path.is_file():
        raise LongtrackError(f"official checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):
            raise LongtrackError(f"{path} is not a torch checkpoint") from exc
        # The authors' training files may pickle their own classes (settings objects); loading
        # those would run foreign code, so we refuse and say how to extract the tensors.
        raise LongtrackError(
            f"{path} holds pickled Python objects besides tensors, which longtrack does not load; "
            "in the authors' environment re-save just the weights, e.g. "
            "torch.save(torch.load(FILE, weights_only=False)['net'], 'net.pth'), then convert that") from exc
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise LongtrackError(f"{path} is truncated or not a torch checkpoint ({type(exc).__name__})") from exc


def run(args) -> int:
    from ..checkpoint import save_weights
    from ..convert import CONVERTED_TRACKER_CONFIG, get_converter, unwrap_official
    from ..fileio import check_writable

    official_path = Path(args.official)
    out = check_writable(args.out)
    overrides = _parse_overrides(args.overrides)
    official = unwrap_official(_load_official(official_path))
    model_config, state_dict = get_converter(args.method)(official, overrides)
    config = {"model": model_config}
    if args.method in CONVERTED_TRACKER_CONFIG:
        config["tracker"] = dict(CONVERTED_TRACKER_CONFIG[args.method])
    save_weights(out, method=args.method, config=config, state_dict=state_dict,
                 source={"official_file": official_path.name, "sha256": sha256_of(official_path),
                         "overrides": overrides})
    count = sum(v.numel() for k, v in state_dict.items() if not k.endswith("num_batches_tracked"))
    print(f"converted {len(official)} tensors of {official_path} ({args.method}, {count:,} values) -> {out}")
    return 0
