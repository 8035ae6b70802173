"""The background: a textured canvas larger than the frame, and the camera moving over it.

The canvas is made once per sequence with integer drawing and float64 element-wise maths (no
BLAS, no float OpenCV kernels), so it is bit-identical on every machine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from .appearance import random_palette
from .motion import ar1

CANVAS_SCALE = 2.0  # canvas side / frame side


def canvas_size(width: int, height: int) -> tuple[int, int]:
    return int(math.ceil(width * CANVAS_SCALE)), int(math.ceil(height * CANVAS_SCALE))


def _value_noise(rng: np.random.Generator, width: int, height: int, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1], ``(height, width)``, with about ``cells`` features across the width."""
    cells_x = max(2, cells)
    cells_y = max(2, int(round(cells * height / width)))
    grid = rng.uniform(0.0, 1.0, (cells_y + 2, cells_x + 2))

    def axis(n: int, cells_n: int):
        g = (np.arange(n) + 0.5) / n * cells_n
        i = np.floor(g).astype(int)
        f = g - i
        return i, f * f * (3 - 2 * f)

    ix, fx = axis(width, cells_x)
    iy, fy = axis(height, cells_y)
    rows = grid[:, ix] * (1 - fx) + grid[:, ix + 1] * fx  # (cells_y + 2, width)
    return rows[iy] * (1 - fy)[:, None] + rows[iy + 1] * fy[:, None]


def _fractal(rng, width, height, base_cells, octaves) -> np.ndarray:
    total = np.zeros((height, width))
    weight = 0.0
    for o in range(octaves):
        amp = 0.7 ** o
        total += amp * _value_noise(rng, width, height, base_cells * 2 ** o)
        weight += amp
    return total / weight


def make_canvas(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """``(height, width, 3)`` uint8 RGB canvas: colour noise, a gradient and textured clutter.

    The smooth layers are computed at half resolution and enlarged with OpenCV's bit-exact
    bilinear resize; the clutter is drawn at full resolution.
    """
    full_width, full_height = width, height
    width, height = (width + 1) // 2, (height + 1) // 2
    palette = np.asarray(random_palette(rng, saturation=(0.15, 0.6), value=(0.3, 0.85)), dtype=np.float64)
    structure = _fractal(rng, width, height, int(rng.integers(3, 7)), 5)
    pos = np.clip((structure - 0.25) / 0.5, 0.0, 1.0) * (len(palette) - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, len(palette) - 2)
    frac = (pos - lo)[..., None]
    rgb = palette[lo] * (1 - frac) + palette[lo + 1] * frac
    for c in range(3):  # colour variation independent of the structure
        rgb[..., c] += 60.0 * (_fractal(rng, width, height, 8, 3) - 0.5)
    angle = rng.uniform(0.0, 2 * math.pi)
    xs = np.linspace(-1.0, 1.0, width)[None, :]
    ys = np.linspace(-1.0, 1.0, height)[:, None]
    gradient = 1.0 + rng.uniform(0.1, 0.3) * (xs * math.cos(angle) + ys * math.sin(angle))
    smooth = np.clip(np.round(rgb * gradient[..., None]), 0, 255).astype(np.uint8)
    canvas = cv2.resize(smooth, (full_width, full_height), interpolation=cv2.INTER_LINEAR_EXACT)
    _draw_clutter(rng, canvas, palette)
    return cv2.GaussianBlur(canvas, (3, 3), 0.7, hint=cv2.ALGO_HINT_ACCURATE)


def _draw_clutter(rng: np.random.Generator, canvas: np.ndarray, palette: np.ndarray) -> None:
    """Shapes, strokes and textured patches, drawn with integer rasterisation."""
    height, width = canvas.shape[:2]
    count = int(width * height / 4096 * rng.uniform(1.0, 2.0))
    unit = math.sqrt(width * height)
    shift = 4
    for _ in range(count):
        base = palette[int(rng.integers(0, len(palette)))] if rng.uniform() < 0.6 else rng.uniform(30, 230, 3)
        colour = tuple(int(c) for c in np.clip(base + rng.uniform(-45, 45, 3), 0, 255))
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = unit * math.exp(rng.uniform(math.log(0.006), math.log(0.07)))
        kind = int(rng.integers(0, 4))
        if kind == 0:
            axes = (int(r * (1 << shift)), int(r * rng.uniform(0.3, 1.0) * (1 << shift)))
            cv2.ellipse(canvas, (int(cx * (1 << shift)), int(cy * (1 << shift))), axes,
                        rng.uniform(0, 180), 0, 360, colour, -1, cv2.LINE_AA, shift)
        elif kind == 1:
            n = int(rng.integers(3, 7))
            angles = np.sort(rng.uniform(0, 2 * math.pi, n))
            radii = r * rng.uniform(0.5, 1.0, n)
            pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1)
            cv2.fillPoly(canvas, [np.round(pts * (1 << shift)).astype(np.int32)], colour, cv2.LINE_AA, shift)
        elif kind == 2:
            a = rng.uniform(0, 2 * math.pi)
            p0 = (int((cx - r * math.cos(a)) * (1 << shift)), int((cy - r * math.sin(a)) * (1 << shift)))
            p1 = (int((cx + r * math.cos(a)) * (1 << shift)), int((cy + r * math.sin(a)) * (1 << shift)))
            cv2.line(canvas, p0, p1, colour, int(rng.integers(1, 4)), cv2.LINE_AA, shift)
        else:
            _textured_patch(rng, canvas, cx, cy, r, colour)


def _textured_patch(rng, canvas, cx, cy, r, colour) -> None:
    height, width = canvas.shape[:2]
    x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 1, width)
    y0, y1 = max(int(cy - r * 0.7), 0), min(int(cy + r * 0.7) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1]
    period = rng.uniform(3.0, 9.0)
    a = rng.uniform(0, math.pi)
    wave = np.sin(2 * math.pi * (xs * math.cos(a) + ys * math.sin(a)) / period)
    if rng.uniform() < 0.5:
        wave = wave * np.sin(2 * math.pi * (-xs * math.sin(a) + ys * math.cos(a)) / period)
    dark = np.asarray(colour, dtype=np.float64) * rng.uniform(0.3, 0.7)
    mix = np.clip(0.5 + wave, 0.0, 1.0)[..., None]
    patch = np.asarray(colour, dtype=np.float64) * mix + dark * (1 - mix)
    canvas[y0:y1, x0:x1] = np.clip(np.round(patch), 0, 255).astype(np.uint8)


@dataclass
class CameraPath:
    """Per-frame viewport over the canvas: centre (canvas pixels) and zoom (viewport / frame size)."""

    centre_x: np.ndarray
    centre_y: np.ndarray
    zoom: np.ndarray


def _fold(x: np.ndarray) -> np.ndarray:
    """Reflect an unbounded path into [0, 1] (a triangle wave): bounces off the canvas edges."""
    x = np.mod(x, 2.0)
    return np.where(x > 1.0, 2.0 - x, x)


def camera_path(rng: np.random.Generator, num_frames: int, width: int, height: int,
                cut_frames: list[int], shake_margin: float) -> CameraPath:
    """Smooth pan, slow zoom, and a jump to another part of the canvas at each cut."""
    cw, ch = canvas_size(width, height)
    theta = 0.004
    log_zoom = ar1(0.004 * rng.standard_normal(num_frames), 1.0 - theta)
    zoom = np.exp(np.clip(log_zoom, math.log(0.85), math.log(1.2)))
    paths = []
    for _ in range(2):
        speed = rng.uniform(0.001, 0.004)  # share of the pan range per frame
        velocity = ar1(0.05 * rng.standard_normal(num_frames), 0.95) * speed / 0.16
        drift = rng.uniform(-0.5, 0.5) * speed
        path = rng.uniform(0, 1) + np.cumsum(velocity + drift)
        for t in cut_frames:
            path[t:] += rng.uniform(0.3, 0.7)
        paths.append(_fold(path))
    half_w = zoom * (width / 2.0 + shake_margin) + 2.0
    half_h = zoom * (height / 2.0 + shake_margin) + 2.0
    centre_x = half_w + paths[0] * np.maximum(cw - 2 * half_w, 0.0)
    centre_y = half_h + paths[1] * np.maximum(ch - 2 * half_h, 0.0)
    return CameraPath(centre_x, centre_y, zoom)
