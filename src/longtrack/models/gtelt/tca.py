"""Temporal context aggregation (TCA): the activated tracker's next query from its output
embedding e_j and a memory of the last L online queries.

``q = norm1(e + CrossAttn(e, memory))``, then two FFNs, each with a skip connection and a norm.
With an empty memory only the two FFNs run (``q = FFN-part(e)``), as the paper says.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["TemporalContextAggregation"]


class _FFN(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.linear1 = nn.Linear(dim, hidden)
        self.linear2 = nn.Linear(hidden, dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x + self.dropout(self.linear2(self.dropout(F.relu(self.linear1(x))))))


class TemporalContextAggregation(nn.Module):
    """``forward(embedding, memory, memory_valid) -> online query``.

    embedding: ``[B, c]`` (e_j of the activated tracker); memory: ``[B, L, c]`` online queries,
    oldest first; memory_valid: ``[B, L]`` bool, False for empty slots. A row whose memory is
    all empty skips the cross-attention. Returns ``[B, c]``.
    """

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.cross_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.ffn1 = _FFN(dim, ffn_dim, dropout)
        self.ffn2 = _FFN(dim, ffn_dim, dropout)

    def forward(self, embedding: Tensor, memory: Tensor, memory_valid: Tensor) -> Tensor:
        x = embedding
        has_memory = memory_valid.any(dim=1)
        if bool(has_memory.any()):
            # Rows without memory get one unmasked dummy key (attention over no key is NaN);
            # their result is discarded below.
            ignore = ~memory_valid
            ignore[:, -1] &= has_memory
            attended = self.cross_attn(embedding[:, None], memory, memory, key_padding_mask=ignore,
                                       need_weights=False)[0][:, 0]
            with_memory = self.norm(embedding + self.dropout(attended))
            x = torch.where(has_memory[:, None], with_memory, embedding)
        return self.ffn2(self.ffn1(x))
