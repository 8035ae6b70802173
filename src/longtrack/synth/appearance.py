"""How an object looks: shape, texture and palette, and its sprite (pre-rendered image).

A sprite is a square premultiplied RGBA ``uint8`` image with a mip pyramid, so a frame draws an
object with one small bilinear warp from the level nearest its on-screen size. Textures live in
object coordinates: they turn, stretch and shrink with the object.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass, field, replace

import numpy as np

from .shapes import Shape, random_shape, rasterize_mask, similar_shape

TEXTURES = ("stripes", "checker", "dots", "noise", "gradient")

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Appearance:
    """Shape + texture + 2-3 colour palette (RGB ints)."""

    shape: Shape
    texture: str
    texture_params: dict = field(default_factory=dict)
    palette: tuple[Colour, ...] = ()

    @property
    def class_name(self) -> str:
        return self.shape.class_name

    aspect = None  # no natural proportions: the planner draws them

    def describe(self) -> dict:
        """JSON-able description (metadata)."""
        return {"class": self.class_name, "shape": self.shape.params, "texture": self.texture,
                "texture_params": self.texture_params, "palette": [list(c) for c in self.palette]}

    def phrase(self) -> str:
        """A one-line description (``nlp.txt``)."""
        return f"the {self.texture} {self.class_name} ({len(self.palette)} colours)"

    def make_sprite(self, size: int, aspect: float) -> np.ndarray:
        """The sprite of this look (``aspect``, the on-screen width / height, is not needed)."""
        return render_sprite(self, size)


def _hsv(h: float, s: float, v: float) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def _rgb_to_hsv(colour: Colour) -> tuple[float, float, float]:
    return colorsys.rgb_to_hsv(*(c / 255.0 for c in colour))


def random_palette(rng: np.random.Generator, saturation=(0.45, 0.95), value=(0.35, 0.98)) -> tuple[Colour, ...]:
    """2-3 colours: analogous, complementary or triadic hues, alternating light and dark."""
    base = rng.uniform(0.0, 1.0)
    step = [rng.uniform(0.05, 0.12), 0.5, 1.0 / 3.0][int(rng.integers(0, 3))]
    count = int(rng.integers(2, 4))
    colours = []
    for k in range(count):
        light = k % 2 == 0
        v = rng.uniform(*value) if light else rng.uniform(value[0], (value[0] + value[1]) / 2)
        if light:
            v = max(v, (value[0] + value[1]) / 2)
        colours.append(_hsv(base + k * step, rng.uniform(*saturation), v))
    return tuple(colours)


def similar_palette(palette: tuple[Colour, ...], rng: np.random.Generator, hue=0.015, sv=0.05) -> tuple[Colour, ...]:
    """A nearly identical palette (same-class distractors)."""
    out = []
    for colour in palette:
        h, s, v = _rgb_to_hsv(colour)
        out.append(_hsv(h + rng.uniform(-hue, hue), s + rng.uniform(-sv, sv), v + rng.uniform(-sv, sv)))
    return tuple(out)


def random_texture(rng: np.random.Generator) -> tuple[str, dict]:
    kind = TEXTURES[int(rng.integers(0, len(TEXTURES)))]
    params = {"angle": rng.uniform(0.0, math.pi), "period": rng.uniform(0.25, 0.7),
              "phase": rng.uniform(0.0, 2 * math.pi), "seed": int(rng.integers(0, 2**31))}
    return kind, params


def random_appearance(class_name: str, rng: np.random.Generator) -> Appearance:
    texture, params = random_texture(rng)
    return Appearance(random_shape(class_name, rng), texture, params, random_palette(rng))


def similar_appearance(app: Appearance, rng: np.random.Generator) -> Appearance:
    """Same class, near-identical shape, same texture kind, nearly identical palette."""
    params = dict(app.texture_params)
    params["angle"] = params["angle"] + rng.uniform(-0.15, 0.15)
    params["period"] = params["period"] * rng.uniform(0.9, 1.1)
    params["phase"] = rng.uniform(0.0, 2 * math.pi)
    params["seed"] = int(rng.integers(0, 2**31))
    return Appearance(similar_shape(app.shape, rng), app.texture, params, similar_palette(app.palette, rng))


def drifted_appearance(app: Appearance, rng: np.random.Generator) -> tuple[str, Appearance]:
    """Where a gradual appearance change ends: new hues (``palette``) or a new texture (``texture``)."""
    if rng.uniform() < 0.5:
        shift = rng.uniform(0.1, 0.25) * (1 if rng.uniform() < 0.5 else -1)
        palette = []
        for colour in app.palette:
            h, s, v = _rgb_to_hsv(colour)
            palette.append(_hsv(h + shift, s, v * rng.uniform(0.8, 1.15)))
        return "palette", replace(app, palette=tuple(palette))
    others = [t for t in TEXTURES if t != app.texture]
    texture, params = random_texture(rng)
    return "texture", replace(app, texture=others[int(rng.integers(0, len(others)))], texture_params=params)


def occluder_appearance(rng: np.random.Generator) -> Appearance:
    """Occluders: muted panels, poles and walls."""
    texture = ("noise", "stripes", "gradient")[int(rng.integers(0, 3))]
    _, params = random_texture(rng)
    return Appearance(random_shape("occluder", rng), texture, params,
                      random_palette(rng, saturation=(0.05, 0.35), value=(0.2, 0.75)))


# ---------------------------------------------------------------- rendering

SPRITE_PAD = 1.0 / 16.0  # fraction of the sprite side left empty around the shape (anti-aliasing room)


def sprite_half(size: int) -> float:
    """Half-extent, in sprite pixels, of the shape's ``[-1, 1]`` box inside a ``size`` sprite."""
    return size * (0.5 - SPRITE_PAD)


def _value_noise(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, cells: int) -> np.ndarray:
    grid = rng.uniform(0.0, 1.0, (cells + 2, cells + 2))
    gx = (u + 1.0) / 2.0 * cells
    gy = (v + 1.0) / 2.0 * cells
    ix, iy = np.clip(np.floor(gx).astype(int), 0, cells), np.clip(np.floor(gy).astype(int), 0, cells)
    fx, fy = gx - ix, gy - iy
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    top = grid[iy, ix] * (1 - fx) + grid[iy, ix + 1] * fx
    bottom = grid[iy + 1, ix] * (1 - fx) + grid[iy + 1, ix + 1] * fx
    return top * (1 - fy) + bottom * fy


def texture_field(app: Appearance, u: np.ndarray, v: np.ndarray, pixel: float) -> np.ndarray:
    """Palette position in [0, 1] at object coordinates ``(u, v)``; ``pixel`` = one pixel in u units."""
    p = app.texture_params
    ca, sa = math.cos(p["angle"]), math.sin(p["angle"])
    a, b = u * ca + v * sa, -u * sa + v * ca
    period = p["period"]
    sharp = 0.25 * period / max(pixel, 1e-6)  # edges about one pixel wide
    if app.texture == "stripes":
        t = 0.5 + sharp / math.pi * np.sin(2 * math.pi * a / period + p["phase"])
    elif app.texture == "checker":
        t = 0.5 + sharp / math.pi * np.sin(2 * math.pi * a / period + p["phase"]) * np.sin(2 * math.pi * b / period)
    elif app.texture == "dots":
        da = (a / period + p["phase"] / (2 * math.pi)) % 1.0 - 0.5
        db = (b / period) % 1.0 - 0.5
        dist = np.sqrt(da * da + db * db) * period
        t = 0.5 + (0.28 * period - dist) / (2 * pixel)
    elif app.texture == "noise":
        rng = np.random.default_rng(p["seed"])
        t = 0.65 * _value_noise(rng, u, v, 4) + 0.35 * _value_noise(rng, u, v, 9)
        t = (t - 0.2) / 0.6
    elif app.texture == "gradient":
        t = (a + 1.0) / 2.0
    else:
        raise ValueError(f"unknown texture {app.texture!r}")
    return np.clip(t, 0.0, 1.0)


def render_sprite(app: Appearance, size: int) -> np.ndarray:
    """``(size, size, 4)`` premultiplied RGBA ``uint8`` image of ``app`` (see ``sprite_half``)."""
    alpha = rasterize_mask(app.shape, size, size * SPRITE_PAD).astype(np.int64)
    half = sprite_half(size)
    coords = (np.arange(size) + 0.5 - size / 2.0) / half
    u, v = np.meshgrid(coords, coords)
    t = texture_field(app, u, v, 1.0 / half)
    palette = np.asarray(app.palette, dtype=np.float64)
    pos = t * (len(palette) - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, len(palette) - 2)
    frac = (pos - lo)[..., None]
    rgb = palette[lo] * (1 - frac) + palette[lo + 1] * frac
    shade = 1.0 - 0.09 * np.clip(u * u + v * v, 0.0, 2.0)  # a hint of volume
    rgb = np.clip(np.round(rgb * shade[..., None]), 0, 255).astype(np.int64)
    premult = (rgb * alpha[..., None] + 127) // 255
    return np.concatenate([premult, alpha[..., None]], axis=2).astype(np.uint8)


def pyramid(sprite: np.ndarray, smallest: int = 8) -> list[np.ndarray]:
    """Mip levels by exact 2x2 integer averaging: ``[size, size/2, ...]`` down to ``smallest``."""
    levels = [sprite]
    while levels[-1].shape[0] // 2 >= smallest:
        top = levels[-1].astype(np.uint16)
        n = top.shape[0] // 2
        summed = top[0::2, 0::2] + top[1::2, 0::2] + top[0::2, 1::2] + top[1::2, 1::2]
        levels.append(((summed + 2) // 4).astype(np.uint8)[:n, :n])
    return levels


class ProceduralLooks:
    """The planner's look model for the procedural presets: shapes, textures and palettes.
    (``real_looks.RealLooks`` is the ``lt-real`` one; both answer the same questions.)"""

    def target(self, class_name: str, rng: np.random.Generator) -> Appearance:
        return random_appearance(class_name, rng)

    def distractor(self, target: Appearance, rng: np.random.Generator) -> Appearance:
        return similar_appearance(target, rng)

    def other(self, class_name: str, target: Appearance, rng: np.random.Generator) -> Appearance:
        return random_appearance(class_name, rng)

    def drift(self, target: Appearance, rng: np.random.Generator) -> tuple[str, Appearance]:
        return drifted_appearance(target, rng)

    def occluder(self, rng: np.random.Generator) -> Appearance:
        return occluder_appearance(rng)

    def backgrounds(self, target: Appearance, cut_frames: list[int], rng: np.random.Generator) -> None:
        return None  # the canvas is made from the scene stream at render time
