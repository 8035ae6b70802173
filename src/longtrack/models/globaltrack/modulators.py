"""The two query-guided modulators of GlobalTrack (QG-RPN and QG-RCNN).

Key names are the authors' (``rpn_modulator.proj_modulator.K``, ``rpn_modulator.proj_out.K``,
``rcnn_modulator.proj_z|proj_x|proj_out``), so their checkpoints load unchanged.
"""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from ...ops.roi_levels import SingleRoIExtractor

__all__ = ["RPNModulator", "RCNNModulator"]


def _normal_init(module: nn.Conv2d, std: float = 0.01) -> None:
    nn.init.normal_(module.weight, 0.0, std)
    nn.init.zeros_(module.bias)


class RPNModulator(nn.Module):
    """QG-RPN: the query's 7x7 RoI feature becomes, per pyramid level, a ``[C, 1, 1]`` kernel (a
    7x7 conv without padding) that scales the search features channel-wise; a 1x1 conv follows.
    No norm, no activation.

    ``roi_extractor`` pools the query from P2-P5 (the level its size selects).
    """

    def __init__(self, channels: int, roi_extractor: SingleRoIExtractor, num_levels: int = 5,
                 roi_size: int = 7):
        super().__init__()
        self.roi_extractor = roi_extractor
        self.proj_modulator = nn.ModuleList(nn.Conv2d(channels, channels, roi_size) for _ in range(num_levels))
        self.proj_out = nn.ModuleList(nn.Conv2d(channels, channels, 1) for _ in range(num_levels))
        for m in (*self.proj_modulator, *self.proj_out):
            _normal_init(m)

    def query_features(self, feats_z: Sequence[Tensor], rois_z: Tensor) -> Tensor:
        """``rois_z [Q, 5]`` (image index, x1, y1, x2, y2) -> RoI features ``[Q, C, 7, 7]``."""
        return self.roi_extractor(feats_z, rois_z)

    def kernels(self, query_roi: Tensor) -> list[Tensor]:
        """``[Q, C, 7, 7]`` -> one ``[Q, C, 1, 1]`` modulation vector per level."""
        return [proj(query_roi) for proj in self.proj_modulator]

    def modulate(self, feats_x: Sequence[Tensor], kernels: Sequence[Tensor],
                 image_index: Tensor | None = None) -> list[Tensor]:
        """Search levels ``[B, C, H_l, W_l]`` -> per query ``[Q, C, H_l, W_l]``; query ``q`` modulates
        search image ``image_index[q]`` (all 0 when None: one search image)."""
        out = []
        for x, kernel, proj in zip(feats_x, kernels, self.proj_out):
            gallery = x if image_index is None else x[image_index]
            out.append(proj(kernel * gallery))
        return out


class RCNNModulator(nn.Module):
    """QG-RCNN: ``proj_out(proj_x(x_i) * proj_z(z))`` (Hadamard product of 3x3 projections of the
    proposal's and the query's 7x7 RoI features, then a 1x1 conv)."""

    def __init__(self, channels: int):
        super().__init__()
        self.proj_z = nn.Conv2d(channels, channels, 3, padding=1)
        self.proj_x = nn.Conv2d(channels, channels, 3, padding=1)
        self.proj_out = nn.Conv2d(channels, channels, 1)
        for m in (self.proj_z, self.proj_x, self.proj_out):
            _normal_init(m)

    def query_kernel(self, query_roi: Tensor) -> Tensor:
        """``[Q, C, 7, 7]`` -> ``[Q, C, 7, 7]`` (``proj_z``; computed once per query)."""
        return self.proj_z(query_roi)

    def forward(self, roi_x: Tensor, query_kernel: Tensor) -> Tensor:
        """``roi_x [K, C, 7, 7]``, ``query_kernel [K or 1, C, 7, 7]`` -> ``[K, C, 7, 7]``."""
        return self.proj_out(self.proj_x(roi_x) * query_kernel)
