"""The contract trackers build on: ``Box``, ``Prediction``, the ``Tracker`` protocol,
``BaseTracker``, frame conversion (``as_rgb``), the first-box checks and ``TrackerError``.

Trackers, video I/O and everything below them import this module; the front door that builds
trackers and runs them over videos (``create``, ``track_video``) is ``api.py``, above it.

Frames are ``H x W x 3`` uint8 RGB numpy arrays; boxes are ``(x, y, w, h)`` floats in pixels.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from .boxes import clip_xywh
from .errors import LongtrackError

Box = tuple[float, float, float, float]
MIN_BOX_SIDE = 2.0  # pixels of the first box inside the frame, each side (see ``initial_box``)
MAX_DETAIL = 300  # characters of a tracker's own error message kept in a TrackerError


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


def initial_box(box, frame_shape: tuple[int, ...]) -> Box:
    """The first box a tracker starts from: ``validate_box``'s checks, then clipped to the frame,
    and at least ``MIN_BOX_SIDE`` pixels wide and high inside it (a smaller box holds too few
    pixels for any tracker's template, and OpenCV's trackers crash on it)."""
    values = validate_box(box, frame_shape)
    height, width = frame_shape[:2]
    x, y, w, h = (float(v) for v in clip_xywh(values, width, height))
    if w < MIN_BOX_SIDE or h < MIN_BOX_SIDE:
        raise LongtrackError(f"box {values} covers {w:g}x{h:g} pixels of the first frame ({width}x{height}); "
                             f"the first box must cover at least {MIN_BOX_SIDE:g}x{MIN_BOX_SIDE:g} pixels")
    return x, y, w, h


class TrackerError(LongtrackError):
    """An error raised inside a tracker's ``initialize`` / ``track``, as one line naming the
    tracker and the frame; the original exception is its ``__cause__`` (``--debug`` shows it)."""

    def __init__(self, tracker: str, frame: int, error: BaseException):
        detail = " ".join(str(error).split())  # OpenCV's messages span several lines
        if len(detail) > MAX_DETAIL:
            detail = detail[:MAX_DETAIL] + " ..."
        kind, module = type(error).__name__, type(error).__module__.split(".")[0]
        what = "" if isinstance(error, LongtrackError) else f"{kind if module == 'builtins' else f'{module}.{kind}'}: "
        super().__init__(f"tracker {tracker} failed on frame {frame}: {what}{detail}")
        self.tracker, self.frame = tracker, frame


@contextmanager
def errors_named(tracker: str, frame: int) -> Iterator[None]:
    """Turn any error but a ``TrackerError`` raised inside the block into a ``TrackerError``
    naming ``tracker`` and ``frame`` (the ``initialize`` / ``track`` boundary of a tracker)."""
    try:
        yield
    except TrackerError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line naming the tracker and the frame
        raise TrackerError(tracker, frame, exc) from exc


class BaseTracker:
    """Base for longtrack trackers: converts frames, validates the first box and keeps the
    image size. Subclasses implement ``_initialize(frame, box)`` and ``_track(frame)``."""

    name = "tracker"

    def __init__(self):
        self.image_size: tuple[int, int] | None = None  # (width, height)
        self.frame_index = -1  # of the last frame given: 0 = the initialization frame

    def initialize(self, frame: np.ndarray, box: Sequence[float]) -> None:
        """Start on ``frame`` from ``box`` (checked by ``validate_box``; ``longtrack track``,
        ``track_video`` and ``eval`` first make it ``initial_box``, clipped and not too small)."""
        frame = as_rgb(frame)
        box = validate_box(box, frame.shape)
        self.image_size = (frame.shape[1], frame.shape[0])
        self.frame_index = 0
        with errors_named(self.name, 0):
            self._initialize(frame, box)

    def track(self, frame: np.ndarray) -> Prediction:
        if self.image_size is None:
            raise LongtrackError(f"{self.name}: track() called before initialize()")
        self.frame_index = getattr(self, "frame_index", 0) + 1
        frame = as_rgb(frame)
        with errors_named(self.name, self.frame_index):
            return self._track(frame)

    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        raise NotImplementedError

    def _track(self, frame: np.ndarray) -> Prediction:
        raise NotImplementedError
