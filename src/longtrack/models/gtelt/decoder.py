"""The decoder of GTELT's N local trackers and its DETR-style head.

Each local tracker i is a target query q_i (content) and a reference position p_i (x, y in [0, 1]
of the test-image canvas). A layer is Deformable DETR's: self-attention among the N queries,
cross-attention to F_t, FFN, each with add & norm. The cross-attention samples F_t around p_i at
offsets predicted from the query (``longtrack.ops.MSDeformAttn`` with one level: conv4), or, for the
paper's EGT ablation, attends to all of F_t. The query's positional part is an MLP of the sine
encoding of p_i, so it follows p_i when an activated tracker's reference moves to its last box.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import MSDeformAttn
from .encoder import sine_point_encoding

__all__ = ["MLP", "DecoderLayer", "LocalTrackerDecoder", "inverse_sigmoid"]


def inverse_sigmoid(x: Tensor, eps: float = 1e-5) -> Tensor:
    x = x.clamp(0, 1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


class MLP(nn.Module):
    """``num_layers`` linear layers with ReLU between them (DETR's box MLP)."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, num_layers: int):
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x) if i == len(self.layers) - 1 else F.relu(layer(x))
        return x


class DecoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float, num_points: int,
                 cross_attention: str):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.deformable = cross_attention == "deformable"
        if self.deformable:
            self.cross_attn = MSDeformAttn(dim, n_levels=1, n_heads=heads, n_points=num_points)
        else:
            self.cross_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tgt: Tensor, query_pos: Tensor, references: Tensor, memory: Tensor,
                memory_pos: Tensor, memory_mask: Tensor | None, shapes: Tensor, starts: Tensor) -> Tensor:
        q = k = tgt + query_pos
        tgt = self.norm2(tgt + self.dropout(self.self_attn(q, k, tgt, need_weights=False)[0]))
        if self.deformable:
            attended = self.cross_attn(tgt + query_pos, references[:, :, None], memory, shapes, starts, memory_mask)
        else:
            attended = self.cross_attn(tgt + query_pos, memory + memory_pos, memory,
                                       key_padding_mask=memory_mask, need_weights=False)[0]
        tgt = self.norm1(tgt + self.dropout(attended))
        ffn = self.linear2(self.dropout(F.relu(self.linear1(tgt))))
        return self.norm3(tgt + self.dropout(ffn))


class LocalTrackerDecoder(nn.Module):
    """Default local trackers, decoder layers and the head.

    ``default_state(batch)``: ``(queries [B, N, c], references [B, N, 2])``: the learned target
    queries and ``sigmoid(linear(q_i))``.
    ``forward(queries, references, memory, memory_pos, memory_mask, grid_hw)``:
        queries ``[B, N, c]``, references ``[B, N, 2]`` (x, y in [0, 1]), memory = F_t
        ``[B, h*w, c]`` with ``memory_pos`` and ``memory_mask`` (True on padding, or None),
        ``grid_hw = (h, w)``. Returns ``logits [B, N]``, ``boxes [B, N, 4]`` (cx, cy, w, h in [0, 1];
        the centre is predicted relative to p_i, as Deformable DETR) and ``embeddings [B, N, c]``
        (e_i, the last layer's output).
    """

    def __init__(self, config):
        super().__init__()
        dim = config.hidden_dim
        self.num_trackers = config.num_trackers
        self.queries = nn.Embedding(config.num_trackers, dim)
        self.reference_head = nn.Linear(dim, 2)
        self.position_mlp = MLP(dim, dim, dim, 2)
        self.layers = nn.ModuleList(
            DecoderLayer(dim, config.num_heads, config.decoder_ffn_dim, config.dropout, config.num_points,
                         config.cross_attention) for _ in range(config.decoder_layers))
        self.class_head = nn.Linear(dim, 1)
        self.box_head = MLP(dim, dim, 4, 3)
        self.dim = dim
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # Deformable DETR's head initialisation: prior probability 0.01, boxes start at the
        # reference with a small size (sigmoid(-2) ~ 0.12 of the canvas).
        nn.init.constant_(self.class_head.bias, -math.log((1 - 0.01) / 0.01))
        last = self.box_head.layers[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        with torch.no_grad():
            last.bias[2:] = -2.0
        nn.init.xavier_uniform_(self.reference_head.weight, gain=1.0)
        nn.init.zeros_(self.reference_head.bias)

    def default_state(self, batch: int) -> tuple[Tensor, Tensor]:
        queries = self.queries.weight[None].expand(batch, -1, -1)
        return queries, self.reference_head(queries).sigmoid()

    def forward(self, queries: Tensor, references: Tensor, memory: Tensor, memory_pos: Tensor,
                memory_mask: Tensor | None, grid_hw: tuple[int, int]) -> dict[str, Tensor]:
        references = references.to(memory.dtype)
        shapes = torch.tensor([grid_hw], dtype=torch.long, device=memory.device)
        starts = torch.zeros(1, dtype=torch.long, device=memory.device)
        query_pos = self.position_mlp(sine_point_encoding(references, self.dim).to(memory.dtype))
        tgt = queries
        for layer in self.layers:
            tgt = layer(tgt, query_pos, references, memory, memory_pos, memory_mask, shapes, starts)
        delta = self.box_head(tgt)
        centre = (delta[..., :2] + inverse_sigmoid(references)).sigmoid()
        boxes = torch.cat((centre, delta[..., 2:].sigmoid()), dim=-1)
        return {"logits": self.class_head(tgt)[..., 0], "boxes": boxes, "embeddings": tgt}
