"""GlobalTrack's dense stages as ONNX graphs, and the network that runs them under onnxruntime.

Where each part runs (``runtime="onnx"``):

======================  ===========  =========================================================
stage                   runs in      what
======================  ===========  =========================================================
``features``            onnxruntime  backbone + FPN: image ``[B, 3, H, W]`` -> P2..P6
``query``               onnxruntime  query RoI features -> 5 QG-RPN kernels + QG-RCNN ``proj_z``
``rpn``                 onnxruntime  QG-RPN modulation + RPN head on P2..P6 -> logits, deltas
``rcnn``                onnxruntime  QG-RCNN modulation + box head on RoI features -> logits, deltas
RoIAlign (query, RoIs)  torch        multi-level RoI extraction (data-dependent level choice)
proposals, decoding     torch        anchors, top-k, NMS, delta decoding (data-dependent sizes)
======================  ===========  =========================================================

Image sizes, the number of queries and of RoIs are dynamic axes, so one export serves any frame.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..errors import LongtrackError
from ..models.globaltrack import GlobalTrack, QueryEncoding
from .graph import GraphSpec, OnnxGraph, Stage
from .network import OnnxNetwork

__all__ = ["graph_specs", "GlobalTrackOnnx"]

LEVELS = ("p2", "p3", "p4", "p5", "p6")


class _Features(Stage):
    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.model.extract_features(image))


class _Query(Stage):
    def forward(self, rpn_roi: Tensor, rcnn_roi: Tensor) -> tuple[Tensor, ...]:
        return (*self.model.rpn_modulator.kernels(rpn_roi), self.model.rcnn_modulator.query_kernel(rcnn_roi))


class _RPN(Stage):
    def forward(self, *levels_and_kernels: Tensor) -> tuple[Tensor, ...]:
        n = len(LEVELS)
        feats, kernels = levels_and_kernels[:n], levels_and_kernels[n:]
        modulated = self.model.rpn_modulator.modulate(feats, kernels)
        outs = [self.model.rpn_head(m) for m in modulated]
        return (*(o[0] for o in outs), *(o[1] for o in outs))


class _RCNN(Stage):
    def forward(self, roi_feats: Tensor, query_kernel: Tensor) -> tuple[Tensor, Tensor]:
        return self.model.bbox_head(self.model.rcnn_modulator(roi_feats, query_kernel))


def graph_specs(model: GlobalTrack) -> list[GraphSpec]:
    """The four stages with example inputs of a small frame (every size axis is dynamic)."""
    model = model.eval()
    cfg = model.config
    if len(cfg.anchor_strides) != len(LEVELS):
        raise LongtrackError(f"globaltrack export expects {len(LEVELS)} pyramid levels, the config has "
                             f"{len(cfg.anchor_strides)}")
    c, r = cfg.fpn_channels, cfg.roi_size
    image = torch.zeros(1, 3, 4 * cfg.pad_divisor, 5 * cfg.pad_divisor)
    with torch.no_grad():
        feats = model.extract_features(image)
    roi = torch.randn(2, c, r, r)
    kernels = [torch.randn(1, c, 1, 1) for _ in LEVELS]
    kernel_names = tuple(f"kernel_{lv}" for lv in LEVELS)
    image_axes = {0: "batch", 2: "height", 3: "width"}
    return [
        GraphSpec("features", _Features(model), (image,), ("image",), LEVELS,
                  {"image": image_axes, **{lv: {0: "batch", 2: f"h_{lv}", 3: f"w_{lv}"} for lv in LEVELS}}),
        GraphSpec("query", _Query(model), (roi, roi), ("rpn_roi", "rcnn_roi"), (*kernel_names, "rcnn_kernel"),
                  {name: {0: "queries"} for name in ("rpn_roi", "rcnn_roi", *kernel_names, "rcnn_kernel")}),
        GraphSpec("rpn", _RPN(model), (*feats, *kernels), (*LEVELS, *kernel_names),
                  (*(f"cls_{lv}" for lv in LEVELS), *(f"reg_{lv}" for lv in LEVELS)),
                  {**{lv: {2: f"h_{lv}", 3: f"w_{lv}"} for lv in LEVELS},
                   **{k: {0: "queries"} for k in kernel_names},
                   **{f"{o}_{lv}": {0: "queries", 2: f"h_{lv}", 3: f"w_{lv}"} for o in ("cls", "reg") for lv in LEVELS}}),
        GraphSpec("rcnn", _RCNN(model), (roi, roi[:1]), ("roi_feats", "query_kernel"), ("cls_score", "bbox_pred"),
                  {"roi_feats": {0: "rois"}, "query_kernel": {0: "kernels"}, "cls_score": {0: "rois"},
                   "bbox_pred": {0: "rois"}}),
    ]


class GlobalTrackOnnx(OnnxNetwork):
    """The stages :class:`~longtrack.trackers.globaltrack.GlobalTrackTracker` calls
    (``extract_features``, ``encode_query``, ``detect``), their dense parts run by onnxruntime."""

    # The post-processing is GlobalTrack's own code, run with these stages (no copy of it here).
    detect = GlobalTrack.detect
    propose = GlobalTrack.propose
    anchors = GlobalTrack.anchors

    def __init__(self, model: GlobalTrack, graphs: dict[str, OnnxGraph]):
        super().__init__(model, graphs)
        self.rpn_coder, self.rcnn_coder = model.rpn_coder, model.rcnn_coder
        self._anchor_cache: dict = {}

    def extract_features(self, images: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.graphs["features"](images))

    def encode_query(self, feats_z: Sequence[Tensor], rois_z: Tensor) -> QueryEncoding:
        model = self.torch_model
        rpn_roi = model.rpn_modulator.query_features(feats_z, rois_z)
        rcnn_roi = model.bbox_roi_extractor(feats_z, rois_z)
        *kernels, rcnn_kernel = self.graphs["query"](rpn_roi, rcnn_roi)
        return QueryEncoding(rpn_roi, rcnn_roi, kernels, rcnn_kernel)

    def rpn(self, feats_x: Sequence[Tensor], query: QueryEncoding,
            image_index: Tensor | None = None) -> tuple[None, list[Tensor], list[Tensor]]:
        """As :meth:`GlobalTrack.rpn` for one search image; the modulated features stay inside
        the graph (``None`` in their place: inference never reads them)."""
        if image_index is not None:
            raise LongtrackError("globaltrack: the ONNX runtime searches one image (image_index is for training)")
        outs = self.graphs["rpn"](*feats_x, *query.rpn_kernels)
        n = len(LEVELS)
        return None, outs[:n], outs[n:]

    def rcnn(self, feats_x: Sequence[Tensor], rois: Tensor, query_kernel: Tensor) -> tuple[Tensor, Tensor]:
        roi_feats = self.torch_model.bbox_roi_extractor(feats_x, rois)
        if roi_feats.shape[0] == 0:  # no proposal: the graph's empty-batch result, without running it
            head = self.torch_model.bbox_head
            return roi_feats.new_zeros((0, head.fc_cls.out_features)), roi_feats.new_zeros((0, head.fc_reg.out_features))
        cls_score, bbox_pred = self.graphs["rcnn"](roi_feats, query_kernel)
        return cls_score, bbox_pred
