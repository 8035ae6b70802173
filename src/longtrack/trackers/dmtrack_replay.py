"""One DMTrack network pass per frame shared by several selections of the target.

The recording tracker runs the detector; each replaying tracker has its own association (or
its own thresholds) and reuses the recording tracker's candidates of the same frame. The
association ablation and the threshold calibration use this to pay for the network once.
"""
from __future__ import annotations

import time

from .dmtrack import DMTrackTracker


class RecordingTracker(DMTrackTracker):
    """The tracker that runs the network; keeps its last candidates and their time for the others."""

    def detect(self, frame):
        start = time.perf_counter()
        self.last_candidates = super().detect(frame)
        self.last_detect_seconds = time.perf_counter() - start
        return self.last_candidates


class ReplayingTracker(DMTrackTracker):
    """A tracker with another selection whose ``detect`` replays the recording tracker's candidates.

    Call the recording tracker first in every frame."""

    def __init__(self, source: RecordingTracker, association: str):
        shared = {k: v for k, v in source.__dict__.items() if k not in ("state", "associator")}
        self.__dict__.update(shared)  # the same network, config and thresholds
        self.association, self.source = association, source
        self.state = self.associator = None

    def detect(self, frame):
        return self.source.last_candidates
