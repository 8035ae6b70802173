"""The one type every dataset reader yields."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import LongtrackError


@dataclass
class Sequence:
    """A video with single-target ground truth.

    Attributes:
        name: the benchmark's sequence name (result files are named after it).
        frames: frame image paths in order (lazy: nothing is decoded until ``frame(i)``).
        boxes: ``(N, 4)`` float64 xywh ground truth exactly as the annotation file gives it
            (absent frames keep whatever the file says: zeros, NaN, the last box...).
        absent: ``(N,)`` bool, True where the target is not visible.
        labelled: ``(N,)`` bool, True where the frame carries an annotation (OxUvA labels ~1 Hz;
            dense benchmarks label every frame).
        attributes: per-sequence flags or per-frame arrays (``full_occlusion``, ``out_of_view``,
            ``cover``, LaSOT/OTB attribute names, ...).
        image_size: ``(width, height)`` when known without decoding a frame.
        polygons: ``(N, 8)`` corner polygons when the benchmark annotates rotated boxes (VOT).
        meta: anything else the reader found (class name, object id, fps...).
    """

    name: str
    frames: list[Path]
    boxes: np.ndarray
    absent: np.ndarray
    labelled: np.ndarray | None = None
    attributes: dict = field(default_factory=dict)
    image_size: tuple[int, int] | None = None
    polygons: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    loader: Callable[[Path], np.ndarray] | None = None  # custom frame decoder (default: OpenCV)

    def __post_init__(self):
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.absent = np.asarray(self.absent, dtype=bool).reshape(-1)
        if self.labelled is None:
            self.labelled = np.ones(len(self.boxes), dtype=bool)
        self.labelled = np.asarray(self.labelled, dtype=bool).reshape(-1)
        n = len(self.boxes)
        if len(self.absent) != n or len(self.labelled) != n:
            raise LongtrackError(
                f"sequence {self.name}: {n} boxes but {len(self.absent)} absence flags "
                f"and {len(self.labelled)} label flags")
        if self.frames and len(self.frames) != n:
            raise LongtrackError(f"sequence {self.name}: {len(self.frames)} frames but {n} annotations")
        if self.polygons is not None and len(self.polygons) != n:
            raise LongtrackError(f"sequence {self.name}: {len(self.polygons)} polygons but {n} boxes")

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def init_box(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self.boxes[0])

    def frame(self, index: int) -> np.ndarray:
        """Decode frame ``index`` as an ``H x W x 3`` uint8 RGB array."""
        path = self.frames[index]
        if self.loader is not None:
            return self.loader(path)
        from ..video import read_image

        return read_image(path)

    def iter_frames(self):
        for i in range(len(self.frames)):
            yield self.frame(i)
