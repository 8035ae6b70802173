"""OpenCV's CSRT, KCF and TLD (opencv-contrib 5.0) behind the longtrack ``Tracker`` API.

In OpenCV 5.0 CSRT and KCF live in the main namespace (``cv2.TrackerCSRT``, ``cv2.TrackerKCF``),
TLD only in ``cv2.legacy``. Their ``getTrackingScore()`` returns -1 (not computed), so the
confidence is the ``ok`` flag of ``update``: 1.0 when tracking, 0.0 when OpenCV reports a loss
(then the last good box is repeated with ``present=False``). OpenCV errors raised on frames
where the target has left the view are caught and reported the same way: never a crash.
"""
from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np

from ..contract import BaseTracker, Box, Prediction
from ..errors import LongtrackError


class OpenCVTracker(BaseTracker):
    """Wraps one ``cv2`` tracker object; ``make`` builds a fresh one for each ``initialize``."""

    name = "opencv"

    def __init__(self, make: Callable[[], object], weights: str | None = None, device: str = "cpu"):
        super().__init__()
        if weights is not None:
            raise LongtrackError(f"{self.name} uses no weights, got --weights {weights}")
        self.device = "cpu"  # OpenCV's trackers run on the CPU whatever device is asked for
        self._make = make
        self._tracker = None
        self._last_box: Box = (0.0, 0.0, 0.0, 0.0)

    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        width, height = self.image_size
        # OpenCV needs an integer rectangle of at least 1 pixel inside the image.
        x0 = min(max(int(round(box[0])), 0), width - 1)
        y0 = min(max(int(round(box[1])), 0), height - 1)
        x1 = min(max(int(round(box[0] + box[2])), x0 + 1), width)
        y1 = min(max(int(round(box[1] + box[3])), y0 + 1), height)
        rect = (x0, y0, x1 - x0, y1 - y0)
        self._tracker = self._make()
        self._tracker.init(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), rect)
        self._last_box = box

    def _track(self, frame: np.ndarray) -> Prediction:
        try:
            ok, rect = self._tracker.update(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        except cv2.error:  # some OpenCV trackers throw when their window leaves the image
            ok, rect = False, None
        box = tuple(float(v) for v in rect) if ok and rect is not None else None
        if box is None or not all(map(math.isfinite, box)) or box[2] <= 0 or box[3] <= 0 \
                or not _overlaps_image(box, self.image_size):
            return Prediction(self._last_box, 0.0, False)
        self._last_box = box
        score = self._tracker.getTrackingScore() if hasattr(self._tracker, "getTrackingScore") else -1.0
        return Prediction(box, float(score) if 0.0 <= score <= 1.0 else 1.0, True)


def _overlaps_image(box: Box, image_size: tuple[int, int]) -> bool:
    x, y, w, h = box
    return x < image_size[0] and y < image_size[1] and x + w > 0 and y + h > 0


class CSRTTracker(OpenCVTracker):
    """Discriminative correlation filter with channel and spatial reliability (Lukezic et al. 2017)."""

    name = "csrt"

    def __init__(self, weights: str | None = None, device: str = "cpu"):
        super().__init__(cv2.TrackerCSRT.create, weights, device)


class KCFTracker(OpenCVTracker):
    """Kernelized correlation filter (Henriques et al. 2015)."""

    name = "kcf"

    def __init__(self, weights: str | None = None, device: str = "cpu"):
        super().__init__(cv2.TrackerKCF.create, weights, device)


class TLDTracker(OpenCVTracker):
    """Tracking-learning-detection (Kalal et al. 2012), from ``cv2.legacy``."""

    name = "tld"

    def __init__(self, weights: str | None = None, device: str = "cpu"):
        super().__init__(cv2.legacy.TrackerTLD.create, weights, device)
