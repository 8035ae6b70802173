"""The user-facing tracking contract: ``Prediction``, the ``Tracker`` protocol, ``create``
and ``track_video``.

Frames are ``H x W x 3`` uint8 RGB numpy arrays; boxes are ``(x, y, w, h)`` floats in pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from .errors import LongtrackError

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Prediction:
    """One frame's answer: the box, a confidence in [0, 1] (higher = surer) and presence."""

    box: Box
    score: float
    present: bool

    def __post_init__(self):
        object.__setattr__(self, "box", tuple(float(v) for v in self.box))
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "present", bool(self.present))


@runtime_checkable
class Tracker(Protocol):
    """A single-object tracker. Holds all temporal state; ``initialize`` resets it."""

    def initialize(self, frame: np.ndarray, box: Sequence[float]) -> None: ...

    def track(self, frame: np.ndarray) -> Prediction: ...


def as_rgb(frame: np.ndarray) -> np.ndarray:
    """Return an ``H x W x 3`` uint8 RGB frame; grayscale and RGBA are converted, not rejected."""
    arr = np.asarray(frame)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise LongtrackError(f"a frame must be HxW, HxWx1, HxWx3 or HxWx4, got shape {np.shape(frame)}")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def validate_box(box, frame_shape: tuple[int, ...] | None = None) -> Box:
    """Check an initial box: four finite numbers, positive size, overlapping the frame."""
    try:
        values = tuple(float(v) for v in box)
    except (TypeError, ValueError) as exc:
        raise LongtrackError(f"box must be four numbers x,y,w,h, got {box!r}") from exc
    if len(values) != 4:
        raise LongtrackError(f"box must be four numbers x,y,w,h, got {len(values)} values")
    if not all(math.isfinite(v) for v in values):
        raise LongtrackError(f"box has a NaN or infinite value: {values}")
    x, y, w, h = values
    if w <= 0 or h <= 0:
        raise LongtrackError(f"box must have a positive width and height, got w={w:g}, h={h:g}")
    if frame_shape is not None:
        height, width = frame_shape[:2]
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            raise LongtrackError(f"box {values} lies outside the first frame ({width}x{height})")
    return values


class BaseTracker:
    """Base for longtrack trackers: converts frames, validates the first box and keeps the
    image size. Subclasses implement ``_initialize(frame, box)`` and ``_track(frame)``."""

    name = "tracker"

    def __init__(self):
        self.image_size: tuple[int, int] | None = None  # (width, height)

    def initialize(self, frame: np.ndarray, box: Sequence[float]) -> None:
        frame = as_rgb(frame)
        box = validate_box(box, frame.shape)
        self.image_size = (frame.shape[1], frame.shape[0])
        self._initialize(frame, box)

    def track(self, frame: np.ndarray) -> Prediction:
        if self.image_size is None:
            raise LongtrackError(f"{self.name}: track() called before initialize()")
        return self._track(as_rgb(frame))

    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        raise NotImplementedError

    def _track(self, frame: np.ndarray) -> Prediction:
        raise NotImplementedError


def create(name: str, weights: str | None = None, device: str = "cpu", **options) -> Tracker:
    """Build a registered tracker. ``weights=None`` uses the shipped default weights (if any)."""
    from .registry import get_tracker_spec

    return get_tracker_spec(name).build(weights=weights, device=device, **options)


def track_video(
    source,
    box: Sequence[float],
    tracker: str | Tracker = "classic-lt",
    weights: str | None = None,
    device: str = "cpu",
) -> Iterator[Prediction]:
    """Track ``box`` through ``source`` (video file, image folder, camera index or an iterable
    of frames). Yields one ``Prediction`` per frame, the first being the given box."""
    trk = create(tracker, weights=weights, device=device) if isinstance(tracker, str) else tracker
    frames = source
    if isinstance(source, (str, int)) or hasattr(source, "__fspath__"):
        from .video import open_source

        frames = open_source(source)
    first = True
    for frame in frames:
        if first:
            trk.initialize(frame, box)
            first = False
            yield Prediction(validate_box(box), 1.0, True)
        else:
            yield trk.track(frame)
    if first:
        raise LongtrackError(f"no frame could be read from {source!r}")
