"""The two geometric pieces of TANet's global search (Algorithm 2), which the paper does not
publish as code:

* :func:`attention_regions`: the attention map -> candidate search regions (its connected
  regions above a threshold, strongest first);
* :class:`SimilarityView`: a scale + translation of the frame, so that any local tracker,
  initialised on its first frame (its template), searches a chosen region: the region is
  moved to where the tracker looks and scaled to the size it expects. This re-initialises a
  tracker "at a new position keeping its first-frame template" through its public
  ``initialize``/``track`` only, so every registered tracker can be wrapped unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..contract import Box

__all__ = ["Region", "attention_regions", "SimilarityView", "TemplateCheck"]


@dataclass(frozen=True)
class Region:
    """One connected region of the attention map, in frame pixels."""

    center: tuple[float, float]  # attention-weighted centroid
    box: Box  # bounding box of the region's pixels
    mass: float  # sum of the attention over the region (in map pixels)
    peak: float  # its highest attention value


def attention_regions(attention: np.ndarray, frame_size: tuple[int, int], threshold: float = 0.5,
                      max_regions: int = 3, min_pixels: int = 2) -> list[Region]:
    """Connected regions of ``attention > threshold`` (8-connectivity), strongest (largest
    attention mass) first, at most ``max_regions``, each with at least ``min_pixels`` pixels.

    ``attention``: ``(O, O)`` float map covering the whole frame (the generator's output);
    ``frame_size``: ``(width, height)`` of the frame the map is scaled to.
    """
    att = np.asarray(attention, dtype=np.float32)
    count, labels, stats, _ = cv2.connectedComponentsWithStats((att > threshold).astype(np.uint8), connectivity=8)
    sx, sy = frame_size[0] / att.shape[1], frame_size[1] / att.shape[0]
    regions = []
    for k in range(1, count):
        if stats[k, cv2.CC_STAT_AREA] < min_pixels:
            continue
        ys, xs = np.nonzero(labels == k)
        weights = att[ys, xs]
        mass = float(weights.sum())
        cx = float((xs + 0.5) @ weights / mass) * sx
        cy = float((ys + 0.5) @ weights / mass) * sy
        x0, y0 = stats[k, cv2.CC_STAT_LEFT], stats[k, cv2.CC_STAT_TOP]
        box = (x0 * sx, y0 * sy, stats[k, cv2.CC_STAT_WIDTH] * sx, stats[k, cv2.CC_STAT_HEIGHT] * sy)
        regions.append(Region((cx, cy), box, mass, float(weights.max())))
    regions.sort(key=lambda r: r.mass, reverse=True)
    return regions[:max_regions]


@dataclass(frozen=True)
class SimilarityView:
    """``view = scale * frame + shift`` (pixel-edge coordinates); the identity by default."""

    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def placing(cls, center, size, onto_center, onto_size) -> "SimilarityView":
        """The view that moves a region (``center``, ``size``) onto (``onto_center``,
        ``onto_size``): isotropic scale from the areas, then the centres coincide."""
        scale = math.sqrt((onto_size[0] * onto_size[1]) / max(size[0] * size[1], 1e-6))
        return cls(scale, (onto_center[0] - scale * center[0], onto_center[1] - scale * center[1]))

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and self.shift == (0.0, 0.0)

    def warp(self, frame: np.ndarray) -> np.ndarray:
        """The frame as the view sees it (same size; uncovered pixels take the frame's mean)."""
        if self.is_identity:
            return frame
        height, width = frame.shape[:2]
        # warpAffine maps pixel centres: x_c' = s x_c + s/2 - 1/2 + shift (edges -> centres).
        offset = 0.5 * self.scale - 0.5
        matrix = np.array([[self.scale, 0.0, self.shift[0] + offset], [0.0, self.scale, self.shift[1] + offset]])
        fill = tuple(float(v) for v in cv2.mean(frame)[:3])
        return cv2.warpAffine(frame, matrix, (width, height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=fill)

    def box_to_frame(self, box) -> Box:
        x, y, w, h = (float(v) for v in box)
        s = self.scale
        return ((x - self.shift[0]) / s, (y - self.shift[1]) / s, w / s, h / s)

    def box_to_view(self, box) -> Box:
        x, y, w, h = (float(v) for v in box)
        s = self.scale
        return (x * s + self.shift[0], y * s + self.shift[1], w * s, h * s)


class TemplateCheck:
    """Normalised cross-correlation of a box with the first-frame target (``verify="template"``):
    both resized so the target's side is about ``working_size`` pixels, the box allowed to shift
    by ``margin`` of its size; the best ``TM_CCOEFF_NORMED`` value, in [-1, 1]."""

    def __init__(self, frame: np.ndarray, box, working_size: float = 24.0, margin: float = 0.15):
        self.template = _crop(frame, box)
        self.working_size, self.margin = working_size, margin

    def similarity(self, frame: np.ndarray, box) -> float:
        x, y, w, h = (float(v) for v in box)
        if not (w > 0 and h > 0):
            return -1.0
        factor = min(1.0, self.working_size / math.sqrt(w * h))
        tw, th = max(int(round(w * factor)), 2), max(int(round(h * factor)), 2)
        mw, mh = max(int(round(tw * self.margin)), 1), max(int(round(th * self.margin)), 1)
        region = _crop(frame, (x - mw / factor, y - mh / factor, (tw + 2 * mw) / factor, (th + 2 * mh) / factor))
        region = cv2.resize(region, (tw + 2 * mw, th + 2 * mh), interpolation=cv2.INTER_AREA)
        template = cv2.resize(self.template, (tw, th), interpolation=cv2.INTER_AREA)
        scores = cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED)
        return float(np.nan_to_num(scores, nan=-1.0).max())


def _crop(frame: np.ndarray, box) -> np.ndarray:
    """The box's pixels, padded with the frame's mean where it leaves the frame (>= 1 pixel)."""
    x, y, w, h = (float(v) for v in box)
    x0, y0 = int(math.floor(x)), int(math.floor(y))
    x1, y1 = max(int(math.ceil(x + w)), x0 + 1), max(int(math.ceil(y + h)), y0 + 1)
    height, width = frame.shape[:2]
    fill = tuple(float(v) for v in cv2.mean(frame)[:3])
    pad = (max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width))
    inside = frame[max(y0, 0):min(y1, height), max(x0, 0):min(x1, width)]
    if inside.size == 0:
        return np.full((y1 - y0, x1 - x0, 3), fill, dtype=frame.dtype)
    return cv2.copyMakeBorder(inside, *pad, cv2.BORDER_CONSTANT, value=fill)
