"""The papers' training augmentations, as pure functions of a numpy ``Generator``.

Box jitter follows OSTrack (``get_jittered_box``); the colour ones follow pytracking's
``ToGrayscale`` / ``ToTensorAndJitter``. Images are ``H x W x 3`` uint8 RGB.
"""
from __future__ import annotations

import numpy as np

__all__ = ["jitter_box", "flip_boxes", "flip_image", "to_grayscale", "jitter_colour"]


def jitter_box(box_xywh: np.ndarray, scale_jitter: float, center_jitter: float,
               rng: np.random.Generator) -> np.ndarray:
    """Size ``*= exp(N(0, 1) * scale_jitter)`` per side; the centre moves by up to
    ``center_jitter / 2`` times the jittered box's mean side, per axis."""
    box = np.asarray(box_xywh, dtype=np.float64)
    if scale_jitter == 0 and center_jitter == 0:
        return box.copy()
    size = box[2:] * np.exp(rng.standard_normal(2) * scale_jitter)
    max_offset = np.sqrt(size.prod()) * center_jitter
    centre = box[:2] + 0.5 * box[2:] + max_offset * (rng.random(2) - 0.5)
    return np.concatenate([centre - 0.5 * size, size])


def flip_boxes(boxes_xywh: np.ndarray, width: float) -> np.ndarray:
    """Mirror ``(..., 4)`` xywh boxes in an image ``width`` pixels wide."""
    out = np.array(boxes_xywh, dtype=np.float64, copy=True)
    out[..., 0] = width - out[..., 0] - out[..., 2]
    return out


def flip_image(image: np.ndarray) -> np.ndarray:
    """Mirror an ``H x W (x C)`` array left-right."""
    return np.ascontiguousarray(image[:, ::-1])


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """RGB -> gray (ITU-R 601 luma), kept as three equal channels."""
    gray = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(np.clip(np.rint(gray), 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def jitter_colour(image: np.ndarray, brightness: float, colour: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Multiply by one brightness factor ``U(1-b, 1+b)`` and per-channel factors ``U(1-c, 1+c)``."""
    if brightness == 0 and colour == 0:
        return image
    gain = np.full(3, rng.uniform(max(0.0, 1 - brightness), 1 + brightness), dtype=np.float32)
    if colour > 0:
        gain *= rng.uniform(max(0.0, 1 - colour), 1 + colour, size=3).astype(np.float32)
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
