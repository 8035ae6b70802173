"""DMTrack's dense stages as ONNX graphs, and the network that runs them under onnxruntime.

Where each part runs (``runtime="onnx"``), for both backbones (``dla34``, ``mobilenetv2``):

======================  ===========  =========================================================
stage                   runs in      what
======================  ===========  =========================================================
``features``            onnxruntime  backbone (+ IDA-up) + FPN: normalised image -> P3..P5 and
                                     the stride-4 map the re-id branch reads
``query``               onnxruntime  template RoI feature -> per-level template features and the
                                     dynamic 1x1 weights of layers 1 and 6 (once per sequence)
``detect``              onnxruntime  query-conditioned FCOS head on P3..P5 -> scores, distances,
                                     centre-ness per level
``embed``               onnxruntime  re-id head: stride-4 map + P3 -> embedding map
normalisation           torch        mean/std of the 0-255 image (elementwise)
template RoIAlign       torch        one level per RoI (data-dependent level choice)
decoding, association   torch/numpy  top-k, NMS, box decoding, embedding sampling, tracklets
======================  ===========  =========================================================

Image sizes and the number of queries are dynamic axes, so one export serves any frame. Only the
paper's ``correlation: dynamic`` is exported: the ablation's correlations slide the template as a
grouped convolution whose group count is the number of queries times the channels.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..errors import LongtrackError
from ..models.dmtrack import DMTrack
from .graph import GraphSpec, OnnxGraph, Stage
from .network import OnnxNetwork

__all__ = ["graph_specs", "DMTrackOnnx"]

LEVELS = ("p3", "p4", "p5")
CONDITIONS = ("cls1", "reg1", "cls2", "reg2")  # the Controller's outputs, in this order per level
HEAD_OUTPUTS = ("cls_score", "bbox_pred", "centerness")


def _condition_names() -> tuple[str, ...]:
    return tuple(f"{c}_{lv}" for lv in LEVELS for c in CONDITIONS)


class _Features(Stage):
    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        feats = self.model.features(image)
        return (*feats["pyramid"], feats["low"])


class _Query(Stage):
    """:meth:`DMTrack.query` after its RoIAlign: fpn_modulator per level, then the Controller."""

    def forward(self, roi_feat: Tensor) -> tuple[Tensor, ...]:
        template_feats = [conv(roi_feat) for conv in self.model.template.fpn_modulator]
        conditions = [self.model.controller(feat) for feat in template_feats]
        return (*template_feats, *(cond[c] for cond in conditions for c in CONDITIONS))


class _Detect(Stage):
    def forward(self, *levels_and_conditions: Tensor) -> tuple[Tensor, ...]:
        n = len(LEVELS)
        pyramid, flat = levels_and_conditions[:n], levels_and_conditions[n:]
        conditions = [dict(zip(CONDITIONS, flat[i * len(CONDITIONS):(i + 1) * len(CONDITIONS)])) for i in range(n)]
        # Every query on the one search image, by index: the gather keeps the query axis dynamic.
        image_index = torch.zeros_like(flat[0][:, 0, 0], dtype=torch.long)
        outs = self.model.detect(pyramid, conditions, image_index)
        return tuple(out[k] for out in outs for k in HEAD_OUTPUTS)


class _Embed(Stage):
    def forward(self, low: Tensor, p3: Tensor) -> Tensor:
        return self.model.reid(low, p3)


def graph_specs(model: DMTrack) -> list[GraphSpec]:
    """The stages (``embed`` only with a re-id branch), with example inputs of a small image."""
    model = model.eval()
    cfg = model.config
    if cfg.correlation != "dynamic":
        raise LongtrackError(f"dmtrack export covers correlation 'dynamic' (the paper's), not {cfg.correlation!r}")
    if len(cfg.strides) != len(LEVELS):
        raise LongtrackError(f"dmtrack export expects {len(LEVELS)} pyramid levels, the config has "
                             f"{len(cfg.strides)}")
    image = torch.zeros(1, 3, 2 * cfg.size_divisor, 3 * cfg.size_divisor)
    with torch.no_grad():
        feats = model.features(image)
        roi_feat = torch.randn(1, cfg.head_channels, cfg.roi_size, cfg.roi_size)
        conditions = _Query(model)(roi_feat)[len(LEVELS):]
    pyramid, low = feats["pyramid"], feats["low"]
    cond_names = _condition_names()
    template_names = tuple(f"template_{lv}" for lv in LEVELS)
    head_names = tuple(f"{k}_{lv}" for lv in LEVELS for k in HEAD_OUTPUTS)
    level_axes = {lv: {2: f"h_{lv}", 3: f"w_{lv}"} for lv in LEVELS}
    specs = [
        GraphSpec("features", _Features(model), (image,), ("image",), (*LEVELS, "low"),
                  {"image": {0: "batch", 2: "height", 3: "width"},
                   **{lv: {0: "batch", **axes} for lv, axes in level_axes.items()},
                   "low": {0: "batch", 2: "h_low", 3: "w_low"}}),
        GraphSpec("query", _Query(model), (roi_feat,), ("roi_feat",), (*template_names, *cond_names),
                  {name: {0: "queries"} for name in ("roi_feat", *template_names, *cond_names)}),
        GraphSpec("detect", _Detect(model), (*pyramid, *conditions), (*LEVELS, *cond_names), head_names,
                  {**level_axes, **{c: {0: "queries"} for c in cond_names},
                   **{f"{k}_{lv}": {0: "queries", **level_axes[lv]} for lv in LEVELS for k in HEAD_OUTPUTS}}),
    ]
    if model.reid is not None:
        specs.append(GraphSpec("embed", _Embed(model), (low, pyramid[0]), ("low", "p3"), ("embedding",),
                               {"low": {0: "batch", 2: "h_low", 3: "w_low"}, "p3": {0: "batch", **level_axes["p3"]},
                                "embedding": {0: "batch", 2: "h_low", 3: "w_low"}}))
    return specs


class DMTrackOnnx(OnnxNetwork):
    """The stages :class:`~longtrack.trackers.dmtrack.DMTrackTracker` calls (``normalise``,
    ``features``, ``query``, ``detect``, ``embed``), their dense parts run by onnxruntime."""

    def __init__(self, model: DMTrack, graphs: dict[str, OnnxGraph]):
        super().__init__(model, graphs)
        self.normalise = model.normalise

    def features(self, images: Tensor) -> dict[str, Tensor | tuple[Tensor, ...]]:
        *pyramid, low = self.graphs["features"](images)
        return {"pyramid": tuple(pyramid), "low": low}

    def query(self, pyramid: Sequence[Tensor], rois: Tensor) -> dict:
        roi_feat = self.torch_model.template.roi_extractor(pyramid, rois)
        outs = self.graphs["query"](roi_feat)
        n, k = len(LEVELS), len(CONDITIONS)
        flat = outs[n:]
        conditions = [dict(zip(CONDITIONS, flat[i * k:(i + 1) * k])) for i in range(n)]
        return {"roi_feat": roi_feat, "template_feats": outs[:n], "conditions": conditions}

    def detect(self, pyramid: Sequence[Tensor], conditions: Sequence[dict],
               image_index: Tensor | None = None) -> list[dict[str, Tensor]]:
        """As :meth:`DMTrack.detect` with every query on one search image."""
        if image_index is not None or pyramid[0].shape[0] != 1:
            raise LongtrackError("dmtrack: the ONNX runtime searches one image (image_index is for training)")
        outs = self.graphs["detect"](*pyramid, *(cond[c] for cond in conditions for c in CONDITIONS))
        k = len(HEAD_OUTPUTS)
        return [dict(zip(HEAD_OUTPUTS, outs[i * k:(i + 1) * k])) for i in range(len(LEVELS))]

    def embed(self, features: dict) -> Tensor | None:
        if "embed" not in self.graphs:
            return None
        return self.graphs["embed"](features["low"], features["pyramid"][0])[0]
