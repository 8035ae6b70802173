"""Weighted gathers of feature rows: the one primitive behind RoIAlign and deformable conv."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def weighted_row_sum(table: Tensor, index: Tensor, weight: Tensor) -> Tensor:
    """``out[m] = sum_p weight[m, p] * table[index[m, p]]``.

    table: (N, C) rows (features in channels-last order); index: (M, P) int64 in [0, N);
    weight: (M, P). Returns (M, C) in ``table``'s dtype. ``embedding_bag`` does the gather
    and the weighted sum in one fused pass, so no (M, P, C) intermediate is ever built,
    and it is differentiable with respect to both ``table`` and ``weight``.
    """
    if index.shape[0] == 0 or index.shape[1] == 0:
        return table.new_zeros((index.shape[0], table.shape[1]))
    if torch.onnx.is_in_onnx_export():
        # embedding_bag exports as a Loop over rows, an order of magnitude slower under
        # onnxruntime than these P row gathers (P is fixed: the 4 bilinear corners).
        weight = weight.to(table.dtype)
        out = table[index[:, 0]] * weight[:, :1]
        for p in range(1, index.shape[1]):
            out = out + table[index[:, p]] * weight[:, p:p + 1]
        return out
    # A strided table (e.g. a permuted feature map) makes embedding_bag ~30x slower.
    return F.embedding_bag(index, table.contiguous(), per_sample_weights=weight.to(table.dtype), mode="sum")
