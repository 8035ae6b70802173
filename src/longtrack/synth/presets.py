"""Presets (what a sequence contains), seed-defined splits and random streams of the generator.

Everything random in a sequence derives from one integer seed. Each part of the generator draws
from its own stream ``(seed, STREAM)``, so that changing how one part draws never shifts another,
and frame ``i`` draws from ``(seed, FRAME_STREAM, i)``: frames can be rendered in any order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..errors import LongtrackError

# Bump when a change alters any frame or annotation for an existing seed: the `synth-lt`
# benchmark numbers are only comparable within one generator version.
GENERATOR_VERSION = "1.0.0"

# Stream identifiers (fixed forever: renumbering would change every sequence).
LAYOUT_STREAM = 1      # frame count, object classes and counts, event schedule
APPEARANCE_STREAM = 2  # shapes, textures, palettes
MOTION_STREAM = 3      # object tracks
CAMERA_STREAM = 4      # pan, zoom, shake
SCENE_STREAM = 5       # background canvas
EFFECT_STREAM = 6      # illumination, blur, sensor noise level
NOISE_STREAM = 7       # sensor-noise tile
FRAME_STREAM = 100     # per-frame draws: (seed, FRAME_STREAM, i)

MIN_SIZE, MAX_SIZE = 64, 2048


def stream(seed: int, *keys: int) -> np.random.Generator:
    """The generator's random stream ``(seed, *keys)``: PCG64, identical on every platform."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), *map(int, keys)])))


@dataclass(frozen=True)
class Duration:
    """A duration drawn as a fraction of the sequence length, never shorter than ``min_frames``."""

    low: float
    high: float
    min_frames: int

    def draw(self, rng: np.random.Generator, num_frames: int) -> int:
        return max(self.min_frames, int(round(num_frames * rng.uniform(self.low, self.high))))


@dataclass(frozen=True)
class PresetConfig:
    """What one preset's sequences contain. Count ranges are inclusive ``(low, high)``."""

    name: str
    size: tuple[int, int]                # default frame size (width, height)
    num_frames: tuple[int, int]
    target_size: tuple[float, float]     # target diameter as a fraction of min(width, height)
    same_class_distractors: tuple[int, int]
    other_objects: tuple[int, int]
    out_of_view: tuple[int, int]
    full_occlusion: tuple[int, int]
    partial_occlusion: tuple[int, int]
    abrupt_motion: tuple[int, int]
    appearance_drift: tuple[int, int]    # at most 1: one alternative appearance per target
    illumination: tuple[int, int]
    blur: tuple[int, int]
    camera_shake: tuple[int, int]
    exit_frames: Duration                # leaving the view (and re-entering)
    gap_frames: Duration                 # G: frames spent entirely outside the view
    transition_frames: Duration          # an occluder arriving or leaving
    occlusion_frames: Duration           # an occluder covering the target
    effect_frames: Duration              # appearance drift, illumination change, defocus
    shake_frames: Duration
    absent_below: float = 0.2            # absent when less than this fraction of the target is visible
    appearance: str = "procedural"       # "real": objects and backgrounds cut from a training root (lt-real)

    def __post_init__(self):
        if self.appearance_drift[1] > 1:
            raise ValueError("appearance_drift is at most one event per sequence")


PRESETS: dict[str, PresetConfig] = {
    "lt": PresetConfig(
        name="lt", size=(480, 360), num_frames=(1000, 3000), target_size=(0.12, 0.26),
        same_class_distractors=(1, 3), other_objects=(2, 4),
        out_of_view=(1, 2), full_occlusion=(1, 2), partial_occlusion=(1, 3), abrupt_motion=(1, 2),
        appearance_drift=(1, 1), illumination=(1, 2), blur=(1, 1), camera_shake=(1, 3),
        exit_frames=Duration(0.008, 0.02, 8), gap_frames=Duration(0.03, 0.12, 8),
        transition_frames=Duration(0.006, 0.015, 6), occlusion_frames=Duration(0.01, 0.04, 6),
        effect_frames=Duration(0.03, 0.1, 10), shake_frames=Duration(0.005, 0.015, 6)),
    "st": PresetConfig(
        name="st", size=(480, 360), num_frames=(100, 300), target_size=(0.14, 0.3),
        same_class_distractors=(0, 2), other_objects=(1, 3),
        out_of_view=(0, 0), full_occlusion=(0, 0), partial_occlusion=(0, 1), abrupt_motion=(0, 0),
        appearance_drift=(0, 1), illumination=(0, 1), blur=(0, 1), camera_shake=(0, 1),
        exit_frames=Duration(0.05, 0.08, 6), gap_frames=Duration(0.06, 0.15, 6),
        transition_frames=Duration(0.04, 0.08, 5), occlusion_frames=Duration(0.08, 0.2, 6),
        effect_frames=Duration(0.15, 0.35, 8), shake_frames=Duration(0.04, 0.1, 5)),
    "mini": PresetConfig(
        name="mini", size=(320, 240), num_frames=(100, 300), target_size=(0.14, 0.28),
        same_class_distractors=(1, 1), other_objects=(1, 2),
        out_of_view=(1, 1), full_occlusion=(0, 0), partial_occlusion=(0, 1), abrupt_motion=(0, 1),
        appearance_drift=(0, 1), illumination=(0, 1), blur=(0, 1), camera_shake=(0, 1),
        exit_frames=Duration(0.04, 0.07, 5), gap_frames=Duration(0.06, 0.15, 6),
        transition_frames=Duration(0.03, 0.06, 4), occlusion_frames=Duration(0.05, 0.12, 5),
        effect_frames=Duration(0.1, 0.25, 8), shake_frames=Duration(0.03, 0.08, 4)),
}
# lt's events, motion and camera (the same seed plans the same events), with real appearance
PRESETS["lt-real"] = replace(PRESETS["lt"], name="lt-real", appearance="real")


@dataclass(frozen=True)
class Split:
    """A split is a range of seeds; ranges of different splits never overlap."""

    name: str
    first_seed: int
    size: int

    def seed(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise LongtrackError(f"split {self.name!r} holds sequences 0..{self.size - 1}, got index {index}")
        return self.first_seed + index

    def __contains__(self, seed: int) -> bool:
        return self.first_seed <= seed < self.first_seed + self.size


SPLITS: dict[str, Split] = {
    "train": Split("train", 0, 1_000_000_000),
    "val": Split("val", 1_000_000_000, 1_000_000),
    "test": Split("test", 1_001_000_000, 1_000_000),
}


def split_of(seed: int) -> str | None:
    """The split whose seed range holds ``seed`` (None beyond all of them)."""
    return next((name for name, split in SPLITS.items() if seed in split), None)


def get_preset(name: str) -> PresetConfig:
    if name not in PRESETS:
        raise LongtrackError(f"unknown synthetic preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]


def get_split(name: str) -> Split:
    if name not in SPLITS:
        raise LongtrackError(f"unknown split {name!r}; known: {', '.join(SPLITS)}")
    return SPLITS[name]


def check_size(size) -> tuple[int, int]:
    """Validate a ``(width, height)`` pair."""
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise LongtrackError(f"size must be (width, height), got {size!r}") from None
    if not (MIN_SIZE <= width <= MAX_SIZE and MIN_SIZE <= height <= MAX_SIZE):
        raise LongtrackError(f"frame size {width}x{height} outside {MIN_SIZE}..{MAX_SIZE} pixels per side")
    return width, height


_SIZE = re.compile(r"\s*([0-9]+)\s*[xX]\s*([0-9]+)\s*")


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> ``(640, 480)``; anything else is a LongtrackError."""
    match = _SIZE.fullmatch(text or "")
    if match is None:
        raise LongtrackError(f"size must look like WIDTHxHEIGHT (e.g. 640x480), got {text!r}")
    return check_size((int(match.group(1)), int(match.group(2))))
