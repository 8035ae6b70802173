"""One dense stage of a network as an ONNX graph: how it is exported, and how it is run.

A :class:`GraphSpec` names a ``torch.nn.Module`` wrapping one stage (e.g. GlobalTrack's backbone +
FPN), example inputs, the input/output names and which axes vary (image size, number of RoIs).
:func:`export_graph` writes it with the TorchScript-based exporter (``dynamo=False``: it needs no
``onnxscript`` and keeps the dynamic axes of ``torch.onnx.export``); :class:`OnnxGraph` runs the
file under onnxruntime with torch tensors in and out, so the Python parts around it stay unchanged.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import LongtrackError
from ..fileio import atomic_path

__all__ = ["GraphSpec", "OnnxGraph", "Stage", "export_graph", "OPSET", "require_onnxruntime"]

OPSET = 17  # onnxruntime 1.16+ runs it; every op the exported stages use exists there


class Stage(nn.Module):
    """One stage of ``model`` as a module of its own: subclasses write ``forward`` from the
    model's parts (the whole model is held, so its weights are shared, not copied)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model


@dataclass
class GraphSpec:
    name: str  # file stem: ``<name>.onnx``
    module: nn.Module  # forward(*inputs) -> tuple of tensors
    example: tuple[Tensor, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    dynamic_axes: dict[str, dict[int, str]] = field(default_factory=dict)


def require_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise LongtrackError("the ONNX runtime needs onnxruntime: pip install 'longtrack[onnx]'") from exc
    return onnxruntime


def export_graph(spec: GraphSpec, path: str | os.PathLike) -> None:
    """Write ``spec`` to ``path`` atomically (a half-written graph never looks complete)."""
    try:
        import onnx  # noqa: F401 - torch.onnx.export needs it installed
    except ImportError as exc:
        raise LongtrackError("ONNX export needs onnx: pip install 'longtrack[onnx]'") from exc
    spec.module.eval()
    with atomic_path(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of dynamo, which needs onnxscript and
        # handles these dynamic image sizes no better; the warning says nothing actionable here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(spec.module, spec.example, str(tmp), dynamo=False, opset_version=OPSET,
                          input_names=list(spec.inputs), output_names=list(spec.outputs),
                          dynamic_axes=spec.dynamic_axes, do_constant_folding=True)


class OnnxGraph:
    """An onnxruntime session of one exported stage: ``graph(*tensors) -> list[Tensor]`` (CPU,
    float32), with as many intra-op threads as torch uses, so the two runtimes compare fairly."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        ort = require_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads or torch.get_num_threads())
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its optimiser's notes on loop subgraphs are noise
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise LongtrackError(f"{path}: onnxruntime cannot load it ({' '.join(str(exc).split())[:200]})") from exc
        self.path = str(path)
        self.input_names = [i.name for i in self.session.get_inputs()]

    def __call__(self, *tensors: Tensor) -> list[Tensor]:
        if len(tensors) != len(self.input_names):
            raise LongtrackError(f"{self.path}: takes {len(self.input_names)} inputs, got {len(tensors)}")
        feed = {name: np.ascontiguousarray(t.detach().to("cpu", torch.float32).numpy())
                for name, t in zip(self.input_names, tensors)}
        return [torch.from_numpy(out) for out in self.session.run(None, feed)]
