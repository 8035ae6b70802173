"""Ground truth from geometry: every object's visible box and visible fraction in every frame.

Nothing here looks at rendered pixels. An object's outline is its shape's convex hull moved by
the object's per-frame transform, which gives exact boxes. How much of it is visible is measured
on a grid of sample points inside the shape: a point is hidden when it lies outside the frame
or inside an object drawn in front. Where part of an object is hidden behind another, its box
shrinks to the visible samples (to half a grid cell).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shapes import Shape, rasterize_mask

SAMPLE_GRID = 32   # visibility samples per side of the shape's box (the target's; others use fewer)
OTHER_GRID = 20
COVER_GRID = 64    # resolution of the masks that hide what lies behind an object
_CHUNK = 256       # frames per vectorised batch


@dataclass
class Geometry:
    """One object's outline, samples and per-frame transform (all tracks ``(N,)``)."""

    hull: np.ndarray     # (M, 2) object coordinates
    samples: np.ndarray  # (P, 2) object coordinates of grid cells inside the shape
    cover: np.ndarray    # (COVER_GRID, COVER_GRID) bool: where the shape is opaque
    x: np.ndarray
    y: np.ndarray
    half_w: np.ndarray
    half_h: np.ndarray
    angle: np.ndarray

    grid: int = SAMPLE_GRID

    @classmethod
    def of(cls, shape: Shape, x, y, half_w, half_h, angle, grid: int = SAMPLE_GRID) -> "Geometry":
        samples_mask = rasterize_mask(shape, grid, 0.0) >= 128
        rows, cols = np.nonzero(samples_mask)
        samples = np.stack([(cols + 0.5) / grid * 2 - 1, (rows + 0.5) / grid * 2 - 1], axis=1)
        cover = rasterize_mask(shape, COVER_GRID, 0.0) >= 128
        return cls(shape.hull(), samples, cover, *(np.asarray(a, dtype=np.float64)
                                                   for a in (x, y, half_w, half_h, angle)), grid)

    def sliced(self, frames) -> "Geometry":
        return Geometry(self.hull, self.samples, self.cover, self.x[frames], self.y[frames],
                        self.half_w[frames], self.half_h[frames], self.angle[frames], self.grid)

    def __len__(self) -> int:
        return len(self.x)

    def _points(self, uv: np.ndarray, frames) -> tuple[np.ndarray, np.ndarray]:
        c, s = np.cos(self.angle[frames])[:, None], np.sin(self.angle[frames])[:, None]
        a, b = self.half_w[frames][:, None] * uv[None, :, 0], self.half_h[frames][:, None] * uv[None, :, 1]
        return self.x[frames][:, None] + c * a - s * b, self.y[frames][:, None] + s * a + c * b

    def outline_boxes(self) -> np.ndarray:
        """Exact boxes of the whole outline, ``(N, 4)`` as (x1, y1, x2, y2)."""
        xs, ys = self._points(self.hull, slice(None))
        return np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], axis=1)

    def covers(self, px: np.ndarray, py: np.ndarray, frames) -> np.ndarray:
        """Whether this object hides the points ``(F, P)`` at ``frames``."""
        c, s = np.cos(self.angle[frames])[:, None], np.sin(self.angle[frames])[:, None]
        dx, dy = px - self.x[frames][:, None], py - self.y[frames][:, None]
        u = (c * dx + s * dy) / self.half_w[frames][:, None]
        v = (-s * dx + c * dy) / self.half_h[frames][:, None]
        inside = (np.abs(u) < 1.0) & (np.abs(v) < 1.0)
        iu = np.clip(((u + 1.0) * (COVER_GRID / 2.0)).astype(int), 0, COVER_GRID - 1)
        iv = np.clip(((v + 1.0) * (COVER_GRID / 2.0)).astype(int), 0, COVER_GRID - 1)
        return inside & self.cover[iv, iu]

    def half_cell(self, frames) -> tuple[np.ndarray, np.ndarray]:
        """On-screen half-extent of one sample cell along x and y, ``(F,)`` each."""
        c, s = np.abs(np.cos(self.angle[frames])), np.abs(np.sin(self.angle[frames]))
        hw, hh = self.half_w[frames], self.half_h[frames]
        return (c * hw + s * hh) / self.grid, (s * hw + c * hh) / self.grid


@dataclass
class Visibility:
    """One object's ground truth: ``boxes`` (N, 4) xywh of the visible part clipped to the frame
    (zeros where not visible), ``visible`` (N,), and the fractions behind it."""

    boxes: np.ndarray
    visible: np.ndarray
    visible_fraction: np.ndarray
    in_view_fraction: np.ndarray


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a[:, 0] < b[:, 2]) & (b[:, 0] < a[:, 2]) & (a[:, 1] < b[:, 3]) & (b[:, 1] < a[:, 3])


def annotate(geometries: list[Geometry], draw_order: list[int], width: int, height: int,
             visible_at_least: float) -> list[Visibility]:
    """Visibility of every object (same order as ``geometries``); ``draw_order`` lists indices
    back to front. An object is visible when at least ``visible_at_least`` of it can be seen."""
    outlines = [g.outline_boxes() for g in geometries]
    results: list[Visibility | None] = [None] * len(geometries)
    for depth, j in enumerate(draw_order):
        geom, box = geometries[j], outlines[j].copy()
        front = draw_order[depth + 1:]
        overlaps = {k: _overlap(box, outlines[k]) for k in front}
        touches = (box[:, 2] > 0) & (box[:, 0] < width) & (box[:, 3] > 0) & (box[:, 1] < height)
        inside = (box[:, 0] >= 0) & (box[:, 2] <= width) & (box[:, 1] >= 0) & (box[:, 3] <= height)
        hidden_somewhere = np.zeros(len(geom), dtype=bool)
        for ov in overlaps.values():
            hidden_somewhere |= ov
        seen = inside.astype(np.float64)
        in_view = inside.astype(np.float64)
        need = np.nonzero(touches & (~inside | hidden_somewhere))[0]
        for start in range(0, len(need), _CHUNK):
            frames = need[start:start + _CHUNK]
            px, py = geom._points(geom.samples, frames)
            in_frame = (px >= 0) & (px < width) & (py >= 0) & (py < height)
            covered = np.zeros_like(in_frame)
            for k, ov in overlaps.items():
                hit = ov[frames]
                if hit.any():
                    covered[hit] |= geometries[k].covers(px[hit], py[hit], frames[hit])
            shown = in_frame & ~covered
            seen[frames] = shown.mean(axis=1)
            in_view[frames] = in_frame.mean(axis=1)
            # partly hidden behind something: shrink the box to the visible samples
            partly = np.nonzero((in_frame & covered).any(axis=1) & shown.any(axis=1))[0]
            if len(partly):
                f = frames[partly]
                sx = np.where(shown[partly], px[partly], np.nan)
                sy = np.where(shown[partly], py[partly], np.nan)
                ex, ey = geom.half_cell(f)
                box[f, 0] = np.maximum(box[f, 0], np.nanmin(sx, axis=1) - ex)
                box[f, 1] = np.maximum(box[f, 1], np.nanmin(sy, axis=1) - ey)
                box[f, 2] = np.minimum(box[f, 2], np.nanmax(sx, axis=1) + ex)
                box[f, 3] = np.minimum(box[f, 3], np.nanmax(sy, axis=1) + ey)
        seen[~touches] = 0.0
        in_view[~touches] = 0.0
        visible = seen >= visible_at_least
        clipped = np.stack([np.clip(box[:, 0], 0, width), np.clip(box[:, 1], 0, height),
                            np.clip(box[:, 2], 0, width), np.clip(box[:, 3], 0, height)], axis=1)
        xywh = np.round(np.concatenate([clipped[:, :2], clipped[:, 2:] - clipped[:, :2]], axis=1), 2)
        xywh[~visible] = 0.0
        xywh += 0.0  # no negative zeros in the files
        results[j] = Visibility(xywh, visible, seen, in_view)
    return results
