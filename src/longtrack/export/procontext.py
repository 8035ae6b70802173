"""ProContEXT's network as one ONNX graph, and the network that runs it under onnxruntime.

Where each part runs (``runtime="onnx"``), for both patch embeddings (``conv``, ``mobilenetv2``):

======================  ===========  =========================================================
stage                   runs in      what
======================  ===========  =========================================================
``network``             onnxruntime  the whole forward: templates ``[B, T, 3, Hz, Wz]`` + search
                                     ``[B, 3, Hx, Wx]`` -> patch embedding, the ViT with
                                     candidate elimination (explicit attention weights, sort,
                                     gather, scatter back), centre head -> score / size /
                                     offset maps, the score-map maximum, and the kept and
                                     removed search-token indices of every eliminating block
crops, normalisation    torch/numpy  the tracker's own (``crop_around`` / ``sample_target``)
Hann window, decoding   torch        the tracker's own (``decode_center`` on the maps)
======================  ===========  =========================================================

One stage, not a template stage and a search stage: templates and search tokens are encoded
jointly from the first block on, so there is nothing to split off. The crop sizes are fixed
(the positional tables are learned per grid); only the batch axis is dynamic. Elimination runs
with the config's ``ce_keep_ratios`` (the tracker's default ``keep_ratio=None``): its number of
kept tokens is fixed in the graph, so another ``keep_ratio`` is refused.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..errors import LongtrackError
from ..models.procontext import ProContEXT
from .graph import GraphSpec, OnnxGraph, Stage
from .network import OnnxNetwork

__all__ = ["graph_specs", "ProContEXTOnnx"]

MAPS = ("score_map", "size_map", "offset_map", "score")


class _Network(Stage):
    """:meth:`ProContEXT.forward` at the config's keep ratios; the maps, then the index lists."""

    def forward(self, templates: Tensor, search: Tensor) -> tuple[Tensor, ...]:
        out = self.model(templates, search)
        return (*(out[k] for k in MAPS), *out["kept_search_indices"], *out["removed_search_indices"])


def _index_names(count: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(f"kept_{i}" for i in range(count)), tuple(f"removed_{i}" for i in range(count))


def graph_specs(model: ProContEXT) -> list[GraphSpec]:
    """The one stage, with example crops of the config's sizes."""
    model = model.eval()
    cfg = model.config
    templates = torch.randn(1, cfg.num_templates, 3, cfg.template_size, cfg.template_size)
    search = torch.randn(1, 3, cfg.search_size, cfg.search_size)
    with torch.no_grad():
        eliminating = len(model(templates, search)["kept_search_indices"])
    kept, removed = _index_names(eliminating)
    batch = {0: "batch"}
    return [GraphSpec("network", _Network(model), (templates, search), ("templates", "search"),
                      (*MAPS, *kept, *removed), {name: batch for name in ("templates", "search", *MAPS, *kept, *removed)})]


class ProContEXTOnnx(OnnxNetwork):
    """What :class:`~longtrack.trackers.procontext.ProContEXTTracker` calls (``model(templates,
    search)``, ``feat_size``), the forward run by onnxruntime. Returns the torch model's dict less
    ``pred_boxes`` and ``features`` (the tracker decodes the maps itself, and never reads the tokens)."""

    def __init__(self, model: ProContEXT, graphs: dict[str, OnnxGraph]):
        super().__init__(model, graphs)
        outputs = graphs["network"].session.get_outputs()
        self.eliminating = sum(o.name.startswith("kept_") for o in outputs)

    @property
    def feat_size(self) -> int:
        return self.torch_model.feat_size

    def __call__(self, templates: Tensor | Sequence[Tensor], search: Tensor,
                 keep_ratio: float | None = None) -> dict:
        if keep_ratio is not None:
            raise LongtrackError("procontext: the ONNX graph eliminates at the config's keep ratios; "
                                 f"keep_ratio={keep_ratio} needs runtime='torch'")
        if not isinstance(templates, Tensor):
            templates = torch.stack(list(templates), dim=1)
        if templates.shape[1] != self.config.num_templates:
            raise ValueError(f"ProContEXT expects {self.config.num_templates} templates, got {templates.shape[1]}")
        outs = self.graphs["network"](templates, search)
        maps, indices = outs[:len(MAPS)], outs[len(MAPS):]
        n = self.eliminating
        return {**dict(zip(MAPS, maps)), "kept_search_indices": indices[:n], "removed_search_indices": indices[n:]}
