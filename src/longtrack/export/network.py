"""What every onnxruntime stand-in for a tracker's network shares.

A stand-in exposes the stage methods its tracker calls, runs the dense ones through
:class:`~.graph.OnnxGraph` sessions and the rest with the torch model it wraps (which keeps the
config and the parameter-free parts: RoIAlign, anchors, box coders).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import LongtrackError
from .graph import OnnxGraph

__all__ = ["OnnxNetwork"]


class OnnxNetwork:
    """``config`` reads and writes through to the torch model (tracker options may set it);
    ``to`` accepts the CPU only and ``eval`` is a no-op, so a tracker's ``model.to(device).eval()``
    works unchanged."""

    def __init__(self, model: nn.Module, graphs: dict[str, OnnxGraph]):
        self.torch_model = model
        self.graphs = graphs

    @property
    def config(self):
        return self.torch_model.config

    @config.setter
    def config(self, value) -> None:
        self.torch_model.config = value

    def to(self, device) -> "OnnxNetwork":
        if torch.device(device).type != "cpu":
            raise LongtrackError(f"runtime='onnx' runs on the CPU, not on {device}")
        return self

    def eval(self) -> "OnnxNetwork":
        return self
