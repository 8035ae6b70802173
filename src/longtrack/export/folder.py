"""An export folder: one ``<stage>.onnx`` per dense stage and a ``manifest.json`` naming them.

The manifest records the tracker, the network's digest (SHA-256 of its config and every tensor
of its state dict), the opset and the torch version. A folder is only used for the very network it
was exported from: loading checks the digest, so the ONNX stages and the Python parts around them
(RoIAlign, NMS, top-k, which keep running in torch) always come from the same weights.

Without a folder, ``runtime="onnx"`` exports once into the cache,
``$XDG_CACHE_HOME/longtrack/onnx/<tracker>-<digest[:16]>/`` (``~/.cache/...``), built in a hidden
temporary folder and renamed into place, so a run interrupted mid-export leaves nothing that looks
complete and two runs exporting at once both end with one whole folder.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

import torch
from torch import nn

from ..errors import LongtrackError
from ..fileio import atomic_write_text, clean_stale_temporaries, make_temporary_dir
from .graph import OPSET, GraphSpec, export_graph

__all__ = ["MANIFEST", "network_digest", "write_folder", "read_manifest", "cache_folder", "default_cache_root"]

MANIFEST = "manifest.json"
FORMAT = 1


def network_digest(model: nn.Module) -> str:
    """SHA-256 of the model's class, config and state dict (names, dtypes, shapes, values)."""
    digest = hashlib.sha256(type(model).__name__.encode())
    digest.update(repr(getattr(model, "config", None)).encode())
    for key, value in sorted(model.state_dict().items()):
        tensor = value.detach().to("cpu").contiguous()
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def write_folder(folder: str | os.PathLike, tracker: str, digest: str, specs: list[GraphSpec]) -> Path:
    """Export every stage into ``folder`` (each file atomically), the manifest last."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise LongtrackError(f"{folder} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        export_graph(spec, folder / f"{spec.name}.onnx")
    manifest = {"format": FORMAT, "tracker": tracker, "network_digest": digest, "opset": OPSET,
                "torch": torch.__version__,
                "graphs": {s.name: {"file": f"{s.name}.onnx", "inputs": list(s.inputs), "outputs": list(s.outputs)}
                           for s in specs}}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return folder


def read_manifest(folder: str | os.PathLike, tracker: str, digest: str) -> dict[str, Path]:
    """``{stage: path}`` of an export folder made for this tracker's network, else one clear error."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise LongtrackError(f"{folder} holds no {MANIFEST}: export it with `longtrack export --tracker {tracker} "
                             f"--out {folder}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        graphs = {name: folder / entry["file"] for name, entry in manifest["graphs"].items()}
        made_for, made_from = manifest["tracker"], manifest["network_digest"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LongtrackError(f"{path} is not a longtrack export manifest") from exc
    if made_for != tracker:
        raise LongtrackError(f"{folder} holds the {made_for} networks, not {tracker}'s")
    if made_from != digest:
        raise LongtrackError(f"{folder} was exported from other weights than the ones loaded "
                             f"(network digest {made_from[:12]}, loaded {digest[:12]}); export these weights again")
    missing = [str(p) for p in graphs.values() if not p.is_file()]
    if missing:
        raise LongtrackError(f"{folder}: missing {', '.join(missing)}")
    return graphs


def default_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "longtrack" / "onnx"


def cache_folder(tracker: str, digest: str, specs_of, root: str | os.PathLike | None = None) -> Path:
    """The cached export folder of this network, exported on first use (``specs_of()`` builds the
    stages only then). Built beside its final place and renamed in whole."""
    root = Path(root) if root is not None else default_cache_root()
    final = root / f"{tracker.replace(':', '_')}-{digest[:16]}"
    if (final / MANIFEST).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(root)
    building = make_temporary_dir(final)
    try:
        write_folder(building, tracker, digest, specs_of())
        try:
            os.replace(building, final)
        except OSError:
            if not (final / MANIFEST).is_file():  # not a concurrent export that finished first
                raise
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(building)
    return final
