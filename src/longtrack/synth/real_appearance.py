"""Real appearance for the ``lt-real`` world: objects cut from annotated boxes of real frames,
occluders cut from real frames, and real frames as backgrounds.

These hold only where to cut (a frame path, a box, fractions); the pixels are made when a
sequence builds its sprites and canvas. As in the procedural world, all pixel work is integer:
OpenCV's fixed-point ``uint8`` bilinear warps with matrices on a 2**-16 grid, exact 2x2 integer
averaging to shrink large crops, integer alpha. The masks are computed once per sprite size from
float64 element-wise maths rounded to ``uint8``. Removing the source's own object from a
background frame uses OpenCV's Telea inpainting.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .appearance import SPRITE_PAD, pyramid, sprite_half
from .shapes import Shape, rasterize_mask

ELLIPSE = Shape("ellipse", {})  # the outline of every real cut-out: the ellipse inscribed in its box
FEATHER = 0.2        # the alpha ramps from 0 on the ellipse to 255 this far inside (share of the radius)
ASPECT_RANGE = (0.25, 4.0)
INPAINT_MARGIN = 0.1  # the source object's box is grown by this share (plus 2 px) before inpainting
_WARP = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
_MATRIX_STEP = 2.0 ** -16
_MAX_SUPERSAMPLE = 4  # a crop is sampled at up to 2**4 times the sprite size, then averaged down


def _exact(matrix: np.ndarray) -> np.ndarray:
    return np.round(matrix / _MATRIX_STEP) * _MATRIX_STEP


def _halve(image: np.ndarray) -> np.ndarray:
    """Exact 2x2 integer average (a trailing odd row or column is dropped)."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    top = image[:h, :w].astype(np.uint16)
    summed = top[0::2, 0::2] + top[1::2, 0::2] + top[0::2, 1::2] + top[1::2, 1::2]
    return ((summed + 2) // 4).astype(np.uint8)


def read_frame(path: str, shrink: int = 0) -> np.ndarray:
    """The frame at ``path`` as RGB, halved ``shrink`` times."""
    from ..video import read_image

    image = read_image(path)
    for _ in range(shrink):
        image = _halve(image)
    return image


def clean_frame(image: np.ndarray, box, scale: float = 1.0) -> np.ndarray:
    """``image`` with the annotated object ``box`` (xywh, times ``scale`` to reach ``image``'s
    pixels; None: nothing) inpainted away, so that it leaves no unannotated copy of itself."""
    if box is None:
        return image
    x, y, w, h = (v * scale for v in box)
    margin = 2 + INPAINT_MARGIN * max(w, h)
    x0, y0 = max(int(math.floor(x - margin)), 0), max(int(math.floor(y - margin)), 0)
    x1 = min(int(math.ceil(x + w + margin)), image.shape[1])
    y1 = min(int(math.ceil(y + h + margin)), image.shape[0])
    if x1 <= x0 or y1 <= y0:
        return image
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[y0:y1, x0:x1] = 255
    return cv2.inpaint(image, mask, 3, cv2.INPAINT_TELEA)


def square_from(image: np.ndarray, rect, size: int) -> np.ndarray:
    """``(size, size, 3)``: the rectangle ``rect`` (x, y, w, h; pixel edges) of ``image`` stretched
    onto a sprite's shape square (``[pad, size - pad]``, see ``sprite_half``)."""
    x, y, w, h = rect
    k = 0
    while k < _MAX_SUPERSAMPLE and max(w, h) > 2.0 * 2.0 * sprite_half(size << k):
        k += 1  # sample finely enough that bilinear never skips source pixels, then average down
    big = size << k
    pad = big * SPRITE_PAD
    sx, sy = w / (big - 2 * pad), h / (big - 2 * pad)
    matrix = np.array([[sx, 0.0, x + (0.5 - pad) * sx - 0.5], [0.0, sy, y + (0.5 - pad) * sy - 0.5]])
    out = cv2.warpAffine(image, _exact(matrix), (big, big), flags=_WARP, borderMode=cv2.BORDER_REFLECT_101)
    return pyramid(out, smallest=size)[-1] if k else out


def feathered_ellipse(size: int) -> np.ndarray:
    """``(size, size)`` uint8 alpha: opaque inside, ramping (smoothstep) to 0 on the ellipse
    inscribed in the shape square; nothing is drawn outside it, so the box stays exact."""
    coords = (np.arange(size) + 0.5 - size / 2.0) / sprite_half(size)
    r = np.hypot(coords[None, :], coords[:, None])
    t = np.clip((1.0 - r) / FEATHER, 0.0, 1.0)
    return np.round(t * t * (3.0 - 2.0 * t) * 255.0).astype(np.uint8)


def premultiplied(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.int64)[..., None]
    colour = (rgb.astype(np.int64) * a + 127) // 255
    return np.concatenate([colour, a], axis=2).astype(np.uint8)


@dataclass(frozen=True)
class RealCrop:
    """An object cut from frame ``frame`` (0-based) of source sequence ``source`` at its annotated
    ``box``. Its outline is the ellipse inscribed in the box, so its ground-truth box is where the
    annotated box lands."""

    class_name: str
    source: str
    frame: int
    path: str
    box: tuple[float, float, float, float]
    shape: Shape = ELLIPSE

    @property
    def aspect(self) -> float:
        """Width / height of the box: the object keeps its proportions."""
        return float(np.clip(self.box[2] / self.box[3], *ASPECT_RANGE))

    def describe(self) -> dict:
        return {"class": self.class_name, "source": self.source, "frame": self.frame + 1,
                "box": [round(float(v), 2) for v in self.box], "mask": "feathered ellipse"}

    def phrase(self) -> str:
        return f"the {self.class_name} (real, from {self.source} frame {self.frame + 1})"

    def make_sprite(self, size: int, aspect: float) -> np.ndarray:
        rgb = square_from(read_frame(self.path), self.box, size)
        return premultiplied(rgb, feathered_ellipse(size))


@dataclass(frozen=True)
class RealPatch:
    """An occluder: a region of a real frame (the frame's own object inpainted away) in the
    procedural occluder's outline. The region has the occluder's on-screen proportions; ``fx``,
    ``fy`` place it and ``fs`` sizes it, as fractions of what fits in the frame."""

    shape: Shape
    source: str
    frame: int
    path: str
    object_box: tuple[float, float, float, float] | None
    fx: float
    fy: float
    fs: float
    class_name: str = "occluder"
    aspect = None  # proportions are the occluder's, chosen by the planner

    def describe(self) -> dict:
        return {"class": self.class_name, "shape": self.shape.params, "source": self.source,
                "frame": self.frame + 1, "region": [round(self.fx, 4), round(self.fy, 4), round(self.fs, 4)]}

    def phrase(self) -> str:
        return f"an occluder (real, from {self.source} frame {self.frame + 1})"

    def make_sprite(self, size: int, aspect: float) -> np.ndarray:
        image = clean_frame(read_frame(self.path), self.object_box)
        height, width = image.shape[:2]
        rw = self.fs * min(width, height * aspect)
        rh = rw / aspect
        rect = (self.fx * (width - rw), self.fy * (height - rh), rw, rh)
        return premultiplied(square_from(image, rect, size), rasterize_mask(self.shape, size, size * SPRITE_PAD))


@dataclass(frozen=True)
class RealBackground:
    """A real frame (its annotated object inpainted away) scaled to cover the canvas."""

    source: str
    frame: int
    path: str
    object_box: tuple[float, float, float, float] | None

    def describe(self) -> dict:
        return {"source": self.source, "frame": self.frame + 1}

    def make_canvas(self, width: int, height: int) -> np.ndarray:
        image = read_frame(self.path)
        shrink = 0
        while shrink < 4 and max(width / image.shape[1], height / image.shape[0]) < 0.5:
            image, shrink = _halve(image), shrink + 1  # far larger than the canvas: average down first
        image = clean_frame(image, self.object_box, 0.5 ** shrink)
        src_h, src_w = image.shape[:2]
        scale = max(width / src_w, height / src_h)  # cover: crop the overflow, centred
        ox, oy = (src_w - width / scale) / 2.0, (src_h - height / scale) / 2.0
        matrix = np.array([[1.0 / scale, 0.0, ox + 0.5 / scale - 0.5], [0.0, 1.0 / scale, oy + 0.5 / scale - 0.5]])
        return cv2.warpAffine(image, _exact(matrix), (width, height), flags=_WARP, borderMode=cv2.BORDER_REFLECT_101)
