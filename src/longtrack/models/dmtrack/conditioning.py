"""How the query (template) conditions DMTrack's heads.

* :class:`Template`: the query box is pooled from the query image's pyramid by an aligned 7x7
  RoIAlign on ONE level (mmdetection 2.0 ``SingleRoIExtractor``), then a 1x1 conv per pyramid
  level (``fpn_modulator``) gives the template feature for that level.
* :class:`Controller` (the authors' ``Cond_Conv``): four 1x1 convs **with padding 1** on the 7x7
  template feature, averaged over the 9x9 output (so the 32 border positions contribute only the
  bias), generate the weights of the two dynamic 1x1 convs of each head: layer 1 (``C x C``, on
  the pyramid level, before the tower) and layer 6 (``mid x mid``, after the ``downsampler``).
* :class:`CondModulator`: the ``downsampler_cls`` / ``downsampler_reg`` 1x1 convs (C -> mid) of
  layer 6.
* :func:`modulate`: applies a layer's conditioning to a batch of maps, one query per map. Besides
  the paper's dynamic conv, the three simpler correlations of its ablation (Table 5) are options:
  cross-correlation, depth-wise cross-correlation and the Hadamard product with the template.

Key names are the authors' (``template.fpn_modulator.0.weight``, ``controller.controller_cls1.bias``,
``cond_modulator.downsampler_reg.weight``).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops.roi_levels import SingleRoIExtractor

__all__ = ["Template", "Controller", "CondModulator", "modulate", "dynamic_conv1x1"]

BRANCHES = ("cls", "reg")


class Template(nn.Module):
    """Query box -> per-level template features.

    ``forward(pyramid, rois)``: pyramid = P3-P5 ``[B, C, H_l, W_l]`` of the query images; rois
    ``[Q, 5]`` = ``(batch_index, x1, y1, x2, y2)`` in query-image pixels. Returns
    ``(roi_feat [Q, C, 7, 7], [template_feat_l [Q, C, 7, 7] for each level])``.
    """

    def __init__(self, channels: int, strides: Sequence[int], roi_size: int = 7, sampling_ratio: int = 2,
                 finest_scale: float = 56.0):
        super().__init__()
        self.roi_extractor = SingleRoIExtractor(strides, roi_size, sampling_ratio, aligned=True,
                                                finest_scale=finest_scale, plus_one=False)
        self.fpn_modulator = nn.ModuleList(nn.Conv2d(channels, channels, 1) for _ in strides)

    def forward(self, pyramid: Sequence[Tensor], rois: Tensor) -> tuple[Tensor, list[Tensor]]:
        roi_feat = self.roi_extractor(pyramid, rois)
        return roi_feat, [conv(roi_feat) for conv in self.fpn_modulator]


class Controller(nn.Module):
    """The authors' ``Cond_Conv``: template feature ``[Q, C, 7, 7]`` -> dynamic 1x1 weights.

    ``forward(t)`` returns ``{"cls1": [Q, C, C], "reg1": [Q, C, C], "cls2": [Q, mid, mid],
    "reg2": [Q, mid, mid]}`` with ``W[o, i] = p[o * C_in + i]`` (row-major view of the pooled
    vector, the authors' ``transfrom_params``). ``maps(t)`` gives the 9x9 maps before pooling.
    """

    def __init__(self, channels: int, mid_channels: int):
        super().__init__()
        self.channels, self.mid_channels = channels, mid_channels
        for branch in BRANCHES:
            setattr(self, f"controller_{branch}1", nn.Conv2d(channels, channels * channels, 1, padding=1))
            setattr(self, f"controller_{branch}2", nn.Conv2d(channels, mid_channels * mid_channels, 1, padding=1))

    def maps(self, template: Tensor) -> dict[str, Tensor]:
        """``{"cls1": [Q, C*C, H+2, W+2], ...}``: the controller convs' outputs before pooling."""
        return {f"{b}{layer}": getattr(self, f"controller_{b}{layer}")(template)
                for b in BRANCHES for layer in (1, 2)}

    def forward(self, template: Tensor) -> dict[str, Tensor]:
        out = {}
        for name, generated in self.maps(template).items():
            width = self.channels if name.endswith("1") else self.mid_channels
            out[name] = generated.mean(dim=(2, 3)).view(-1, width, width)
        return out


class CondModulator(nn.Module):
    """Layer 6's fixed part: ``downsampler_{cls,reg}`` 1x1 convs (with bias), C -> mid."""

    def __init__(self, channels: int, mid_channels: int):
        super().__init__()
        self.downsampler_cls = nn.Conv2d(channels, mid_channels, 1)
        self.downsampler_reg = nn.Conv2d(channels, mid_channels, 1)

    def downsample(self, branch: str, x: Tensor) -> Tensor:
        return getattr(self, f"downsampler_{branch}")(x)


def dynamic_conv1x1(x: Tensor, weight: Tensor) -> Tensor:
    """A different bias-free 1x1 conv per map: x ``[Q, Cin, H, W]``, weight ``[Q, Cout, Cin]``."""
    return torch.einsum("qoi,qihw->qohw", weight, x)


def modulate(kind: str, x: Tensor, condition: Tensor) -> Tensor:
    """One conditioned layer, ReLU included: x ``[Q, C, H, W]`` -> ``[Q, C', H, W]``.

    ``condition`` is, per query, the generated weight ``[Q, C', C]`` (``kind="dynamic"``) or the
    template feature ``[Q, C, h, w]`` (the ablation's correlations, C' = C):

    * ``xcorr``: the template slid over x (all channels summed, mean over its h*w*C entries)
      gives one similarity map that gates every channel of x;
    * ``dwxcorr``: each channel of x correlated with the same channel of the template (mean
      over h*w), SiamRPN++'s depth-wise correlation, "same" padding;
    * ``hadamard``: x times the template's average-pooled channel vector.
    """
    if kind == "dynamic":
        return F.relu(dynamic_conv1x1(x, condition))
    q, c, height, width = x.shape
    if kind == "hadamard":
        return F.relu(x * condition.mean(dim=(2, 3))[:, :, None, None])
    kh, kw = condition.shape[-2:]
    padding = (kh // 2, kw // 2)
    if kind == "dwxcorr":
        out = F.conv2d(x.reshape(1, q * c, height, width), condition.reshape(q * c, 1, kh, kw),
                       padding=padding, groups=q * c)
        return F.relu(out.view(q, c, *out.shape[-2:])[..., :height, :width] / (kh * kw))
    if kind == "xcorr":
        response = F.conv2d(x.reshape(1, q * c, height, width), condition, padding=padding, groups=q)
        response = response.view(q, 1, *response.shape[-2:])[..., :height, :width] / (kh * kw * c)
        return F.relu(x * response)
    raise ValueError(f"unknown correlation {kind!r}")
