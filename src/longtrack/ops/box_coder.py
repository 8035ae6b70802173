"""Box regression targets: (dx, dy, dw, dh) deltas (R-CNN) and (l, t, r, b) distances (FCOS).

All boxes are xyxy tensors. ``plus_one=True`` is mmdetection v1's inclusive-pixel convention
(GlobalTrack): ``w = x2 - x1 + 1``, decoded corners ``x1 = cx - w/2 + 0.5``,
``x2 = cx + w/2 - 0.5``, clipping to ``[0, W - 1]``. ``plus_one=False`` is mmdetection 2.0
(DMTrack, FCOS): ``w = x2 - x1``, clipping to ``[0, W]``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["DeltaXYWHBBoxCoder", "distance2bbox", "bbox2distance", "DistancePointBBoxCoder"]


def _clip(x1: Tensor, y1: Tensor, x2: Tensor, y2: Tensor, max_shape: Sequence[int] | None,
          plus_one: bool) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    if max_shape is None:
        return x1, y1, x2, y2
    extra = 1 if plus_one else 0
    max_x, max_y = float(max_shape[1] - extra), float(max_shape[0] - extra)
    return (x1.clamp(min=0, max=max_x), y1.clamp(min=0, max=max_y),
            x2.clamp(min=0, max=max_x), y2.clamp(min=0, max=max_y))


class DeltaXYWHBBoxCoder:
    """Encode/decode ``(dx, dy, dw, dh) = ((gx - px) / pw, (gy - py) / ph, log(gw / pw), log(gh / ph))``,
    normalised as ``(delta - means) / stds``.

    Decoding clamps ``dw, dh`` to ``+-|log(wh_ratio_clip)|`` (16/1000: a box grows or shrinks at
    most 62.5x) before ``exp``.
    """

    def __init__(self, means: Sequence[float] = (0.0, 0.0, 0.0, 0.0),
                 stds: Sequence[float] = (1.0, 1.0, 1.0, 1.0), plus_one: bool = False,
                 wh_ratio_clip: float = 16 / 1000) -> None:
        if len(means) != 4 or len(stds) != 4:
            raise ValueError(f"means and stds need 4 values each, got {means!r}, {stds!r}")
        self.means = tuple(float(m) for m in means)
        self.stds = tuple(float(s) for s in stds)
        self.plus_one = bool(plus_one)
        self.max_ratio = abs(math.log(wh_ratio_clip))

    def _centre_size(self, boxes: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        extra = 1.0 if self.plus_one else 0.0
        return ((boxes[..., 0] + boxes[..., 2]) * 0.5, (boxes[..., 1] + boxes[..., 3]) * 0.5,
                boxes[..., 2] - boxes[..., 0] + extra, boxes[..., 3] - boxes[..., 1] + extra)

    def encode(self, proposals: Tensor, gt: Tensor) -> Tensor:
        """proposals, gt: (..., 4) xyxy of equal shape -> normalised deltas (..., 4)."""
        if proposals.shape != gt.shape or proposals.shape[-1:] != (4,):
            raise ValueError(f"proposals and gt must both be (..., 4), got {tuple(proposals.shape)} "
                             f"and {tuple(gt.shape)}")
        px, py, pw, ph = self._centre_size(proposals)
        gx, gy, gw, gh = self._centre_size(gt)
        deltas = torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph)], -1)
        return (deltas - deltas.new_tensor(self.means)) / deltas.new_tensor(self.stds)

    def decode(self, rois: Tensor, deltas: Tensor, max_shape: Sequence[int] | None = None) -> Tensor:
        """rois: (..., 4) xyxy; deltas: (..., 4k) (k boxes per RoI, e.g. class-specific).

        max_shape: ``(H, W)`` of the image to clip to, or None. Returns (..., 4k) xyxy.
        """
        if rois.shape[-1:] != (4,) or deltas.shape[-1] % 4 != 0 or deltas.shape[:-1] != rois.shape[:-1]:
            raise ValueError(f"rois must be (..., 4) and deltas (..., 4k) with equal leading dims, "
                             f"got {tuple(rois.shape)} and {tuple(deltas.shape)}")
        d = deltas.unflatten(-1, (-1, 4))  # (..., k, 4)
        d = d * d.new_tensor(self.stds) + d.new_tensor(self.means)
        dx, dy = d[..., 0], d[..., 1]
        dw = d[..., 2].clamp(min=-self.max_ratio, max=self.max_ratio)
        dh = d[..., 3].clamp(min=-self.max_ratio, max=self.max_ratio)
        px, py, pw, ph = (v.unsqueeze(-1) for v in self._centre_size(rois))
        gw, gh = pw * dw.exp(), ph * dh.exp()
        gx, gy = px + pw * dx, py + ph * dy
        half = 0.5 if self.plus_one else 0.0  # inclusive pixel corners sit half a pixel inside
        x1, y1 = gx - gw * 0.5 + half, gy - gh * 0.5 + half
        x2, y2 = gx + gw * 0.5 - half, gy + gh * 0.5 - half
        x1, y1, x2, y2 = _clip(x1, y1, x2, y2, max_shape, self.plus_one)
        return torch.stack([x1, y1, x2, y2], dim=-1).flatten(-2)


def distance2bbox(points: Tensor, distance: Tensor, max_shape: Sequence[int] | None = None,
                  plus_one: bool = False) -> Tensor:
    """points: (..., 2) ``(x, y)``; distance: (..., 4) ``(l, t, r, b)`` -> boxes (..., 4) xyxy.

    max_shape ``(H, W)`` clips to ``[0, W]`` x ``[0, H]`` (``[0, W - 1]`` with ``plus_one``).
    """
    if points.shape[-1:] != (2,) or distance.shape[-1:] != (4,):
        raise ValueError(f"points must be (..., 2) and distance (..., 4), got {tuple(points.shape)} "
                         f"and {tuple(distance.shape)}")
    x, y = points[..., 0], points[..., 1]
    x1, y1 = x - distance[..., 0], y - distance[..., 1]
    x2, y2 = x + distance[..., 2], y + distance[..., 3]
    return torch.stack(_clip(x1, y1, x2, y2, max_shape, plus_one), dim=-1)


def bbox2distance(points: Tensor, boxes: Tensor, max_dis: float | None = None,
                  eps: float = 0.1) -> Tensor:
    """points: (..., 2); boxes: (..., 4) xyxy -> (l, t, r, b) (..., 4).

    With ``max_dis``, distances are clamped to ``[0, max_dis - eps]`` (mmdetection's rule for
    distribution-style heads); without it they are returned as is (negative outside the box).
    """
    x, y = points[..., 0], points[..., 1]
    out = torch.stack([x - boxes[..., 0], y - boxes[..., 1], boxes[..., 2] - x, boxes[..., 3] - y], -1)
    if max_dis is not None:
        out = out.clamp(min=0, max=max_dis - eps)
    return out


class DistancePointBBoxCoder:
    """FCOS coder object: ``encode(points, boxes) -> (l, t, r, b)``, ``decode`` the inverse."""

    def __init__(self, plus_one: bool = False) -> None:
        self.plus_one = bool(plus_one)

    def encode(self, points: Tensor, boxes: Tensor, max_dis: float | None = None,
               eps: float = 0.1) -> Tensor:
        return bbox2distance(points, boxes, max_dis, eps)

    def decode(self, points: Tensor, distance: Tensor, max_shape: Sequence[int] | None = None) -> Tensor:
        return distance2bbox(points, distance, max_shape, self.plus_one)
