"""ONNX export of the learned trackers' networks, and the onnxruntime execution path.

* :func:`export_network`: a tracker's network -> an export folder (``longtrack export``).
* :func:`onnx_network`: the object a tracker calls in place of its torch network when built with
  ``runtime="onnx"`` (and ``onnx_dir=FOLDER``, else a cached export made on first use).

GlobalTrack's and DMTrack's dense stages become graphs while their data-dependent parts (RoIAlign,
top-k, NMS, decoding, association) keep running in torch/numpy around them; ProContEXT's whole
network, candidate elimination included, is one graph. Each method's module says which part runs where.
See docs/performance.md, section "ONNX export".
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import torch
from torch import nn

from ..errors import LongtrackError
from .folder import cache_folder, network_digest, read_manifest, write_folder
from .graph import OnnxGraph

__all__ = ["EXPORTABLE", "RUNTIMES", "export_network", "onnx_network", "check_runtime"]

# tracker -> the module holding its ``graph_specs(model)`` and its onnxruntime network class.
EXPORTABLE = {
    "globaltrack": ("longtrack.export.globaltrack", "GlobalTrackOnnx"),
    "dmtrack": ("longtrack.export.dmtrack", "DMTrackOnnx"),
    "procontext": ("longtrack.export.procontext", "ProContEXTOnnx"),
}
RUNTIMES = ("torch", "onnx")


def _method(tracker: str):
    if tracker not in EXPORTABLE:
        raise LongtrackError(f"no ONNX export for tracker {tracker!r}; exportable: {', '.join(sorted(EXPORTABLE))}")
    module_name, runner = EXPORTABLE[tracker]
    module = importlib.import_module(module_name)
    return module, getattr(module, runner)


def check_runtime(tracker: str, runtime: str, device) -> str:
    """``runtime`` if it is one of ``RUNTIMES`` and runs on ``device``, else one clear error
    (onnxruntime is installed here with its CPU provider only)."""
    if runtime not in RUNTIMES:
        raise LongtrackError(f"{tracker}: runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "onnx" and torch.device(device).type != "cpu":
        raise LongtrackError(f"{tracker}: runtime='onnx' runs on the CPU, not on {device}")
    return runtime


def export_network(tracker: str, model: nn.Module, out_dir: str | os.PathLike) -> Path:
    """Write ``model``'s stages and manifest into ``out_dir``; returns the folder."""
    module, _ = _method(tracker)
    model = model.to("cpu").eval()
    return write_folder(out_dir, tracker, network_digest(model), module.graph_specs(model))


def onnx_network(tracker: str, model: nn.Module, onnx_dir: str | os.PathLike | None = None,
                 cache_root: str | os.PathLike | None = None, threads: int | None = None):
    """The onnxruntime stand-in for ``model`` (same stage methods). ``onnx_dir``: an export of this
    very network (checked by digest); None: the cached export, made on first use."""
    module, runner = _method(tracker)
    model = model.to("cpu").eval()
    digest = network_digest(model)
    if onnx_dir is None:
        onnx_dir = cache_folder(tracker, digest, lambda: module.graph_specs(model), cache_root)
    graphs = {name: OnnxGraph(path, threads) for name, path in read_manifest(onnx_dir, tracker, digest).items()}
    return runner(model, graphs)
