"""Shape families: an object's class is its shape family.

A shape lives in object coordinates ``(u, v)`` and is normalised so that its bounding box is
exactly ``[-1, 1] x [-1, 1]`` (``v`` points down, like image rows). An object then places it with
``p = c + R(angle) @ diag(half_w, half_h) @ (u, v)``, so ``half_w`` and ``half_h`` are the
half-extents of the unrotated shape.

A shape is a list of polygons, each filled (``True``) or cut out (``False``, the hole of a ring).
Filled polygons hold the whole outline, so the convex hull of their vertices gives exact boxes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

CLASSES = ("ellipse", "box", "triangle", "star", "blob", "ring", "cross", "diamond", "hexagon", "crescent")

_CIRCLE_VERTICES = 128


@dataclass(frozen=True)
class Shape:
    """A shape family (``class_name``) with its own parameters (JSON-able numbers)."""

    class_name: str
    params: dict = field(default_factory=dict)

    def polygons(self) -> list[tuple[np.ndarray, bool]]:
        """``[(vertices (M, 2) float64 in [-1, 1], filled), ...]`` in drawing order."""
        raw = _BUILDERS[self.class_name](self.params)
        filled = np.concatenate([poly for poly, fill in raw if fill])
        lo, hi = filled.min(axis=0), filled.max(axis=0)
        centre, half = (lo + hi) / 2.0, (hi - lo) / 2.0
        return [((poly - centre) / half, fill) for poly, fill in raw]

    def hull(self) -> np.ndarray:
        """Convex hull of the outline, ``(M, 2)`` in object coordinates."""
        points = np.concatenate([poly for poly, fill in self.polygons() if fill]).astype(np.float32)
        return cv2.convexHull(points).reshape(-1, 2).astype(np.float64)


def _circle(radius: float = 1.0, centre=(0.0, 0.0), start=0.0, stop=2 * math.pi, n=_CIRCLE_VERTICES,
            endpoint=False) -> np.ndarray:
    angles = np.linspace(start, stop, n, endpoint=endpoint)
    return np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], axis=1)


def _ellipse(params):
    return [(_circle(), True)]


def _box(params):
    r = params["corner"]
    if r <= 0:
        return [(np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]), True)]
    corners = [(1 - r, 1 - r, 0.0), (-1 + r, 1 - r, 0.5 * math.pi), (-1 + r, -1 + r, math.pi),
               (1 - r, -1 + r, 1.5 * math.pi)]
    arcs = [_circle(r, (cx, cy), a, a + 0.5 * math.pi, 9, endpoint=True) for cx, cy, a in corners]
    return [(np.concatenate(arcs), True)]


def _triangle(params):
    return [(np.array([[params["apex"], -1.0], [1.0, 1.0], [-1.0, 1.0]]), True)]


def _star(params):
    n, inner = int(params["points"]), params["inner"]
    angles = -0.5 * math.pi + np.arange(2 * n) * math.pi / n
    radii = np.where(np.arange(2 * n) % 2 == 0, 1.0, inner)
    return [(np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1), True)]


def _blob(params):
    angles = np.linspace(0.0, 2 * math.pi, 96, endpoint=False)
    radius = np.ones_like(angles)
    for k, (amp, phase) in enumerate(zip(params["amplitudes"], params["phases"]), start=2):
        radius = radius + amp * np.cos(k * angles + phase)
    return [(np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1), True)]


def _ring(params):
    return [(_circle(), True), (_circle(params["inner"]), False)]


def _cross(params):
    w = params["arm"]
    return [(np.array([[-w, -1], [w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1], [-w, 1],
                       [-w, w], [-1, w], [-1, -w], [-w, -w]], dtype=np.float64), True)]


def _diamond(params):
    y = params["waist"]
    return [(np.array([[0.0, -1.0], [1.0, y], [0.0, 1.0], [-1.0, y]]), True)]


def _hexagon(params):
    angles = params["turn"] + np.arange(6) * math.pi / 3
    return [(np.stack([np.cos(angles), np.sin(angles)], axis=1), True)]


def _crescent(params):
    d, ri = params["offset"], params["inner"]  # inner circle centred at (d, 0) bites the outer one
    x = (1.0 + d * d - ri * ri) / (2.0 * d)
    y = math.sqrt(max(1.0 - x * x, 0.0))
    phi = math.atan2(y, x)
    psi = math.atan2(y, x - d)
    outer = _circle(1.0, (0.0, 0.0), phi, 2 * math.pi - phi, 96, endpoint=True)
    inner = _circle(ri, (d, 0.0), 2 * math.pi - psi, psi, 64, endpoint=True)[1:-1]
    return [(np.concatenate([outer, inner]), True)]


_BUILDERS = {"ellipse": _ellipse, "box": _box, "triangle": _triangle, "star": _star, "blob": _blob,
             "ring": _ring, "cross": _cross, "diamond": _diamond, "hexagon": _hexagon,
             "crescent": _crescent, "occluder": _box}


def random_shape(class_name: str, rng: np.random.Generator) -> Shape:
    """A random member of a shape family."""
    u = rng.uniform
    params = {
        "ellipse": lambda: {},
        "box": lambda: {"corner": u(0.0, 0.35)},
        "triangle": lambda: {"apex": u(-0.6, 0.6)},
        "star": lambda: {"points": int(rng.integers(5, 8)), "inner": u(0.38, 0.58)},
        "blob": lambda: {"amplitudes": [u(0.0, 0.2) for _ in range(3)],
                         "phases": [u(0.0, 2 * math.pi) for _ in range(3)]},
        "ring": lambda: {"inner": u(0.45, 0.7)},
        "cross": lambda: {"arm": u(0.22, 0.4)},
        "diamond": lambda: {"waist": u(-0.3, 0.3)},
        "hexagon": lambda: {"turn": u(0.0, math.pi / 3)},
        "crescent": lambda: {"offset": u(0.35, 0.55), "inner": u(0.75, 0.9)},
        "occluder": lambda: {"corner": u(0.0, 0.15)},
    }[class_name]()
    return Shape(class_name, params)


def similar_shape(shape: Shape, rng: np.random.Generator, amount: float = 0.06) -> Shape:
    """A near-identical member of the same family (a distractor): every real parameter moves a little."""

    def jitter(value):
        if isinstance(value, list):
            return [jitter(v) for v in value]
        if isinstance(value, int):
            return value
        return float(value + rng.uniform(-amount, amount) * max(abs(value), 0.1))

    return Shape(shape.class_name, {k: jitter(v) for k, v in shape.params.items()})


def rasterize_mask(shape: Shape, size: int, pad: float, supersample: int = 4) -> np.ndarray:
    """Anti-aliased coverage of ``shape`` on a ``size x size`` grid, ``uint8`` 0..255.

    The shape's ``[-1, 1]`` box maps to the continuous pixel range ``[pad, size - pad]``.
    Rendered at ``supersample`` times the size with integer polygon filling, then box-averaged
    in integers, so the result is bit-identical everywhere.
    """
    big = size * supersample
    half = (size / 2.0 - pad) * supersample
    canvas = np.zeros((big, big), dtype=np.uint8)
    shift = 4  # fractional bits of cv2.fillPoly coordinates
    for poly, fill in shape.polygons():
        # continuous coordinate c covers pixel index c - 0.5 (OpenCV puts pixel centres on integers)
        pts = (big / 2.0 + poly * half - 0.5) * (1 << shift)
        cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 1 if fill else 0, cv2.LINE_8, shift)
    # box sums by contiguous slice additions (much faster than a strided reduce)
    rows = canvas.reshape(size, supersample, big)
    row_sum = rows[:, 0].astype(np.uint16)
    for k in range(1, supersample):
        row_sum += rows[:, k]
    cells = row_sum.reshape(size, size, supersample)
    counts = cells[:, :, 0].copy()
    for k in range(1, supersample):
        counts += cells[:, :, k]
    area = supersample * supersample
    return ((counts.astype(np.int32) * 255 + area // 2) // area).astype(np.uint8)
