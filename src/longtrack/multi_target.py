"""Several targets at once: the ``MultiTargetTracker`` contract and its N-pass fallback.

A tracker that follows several targets in one pass (GlobalTrack: one backbone pass per frame,
one query-modulated search per target) has ``initialize_many(frame, boxes)`` and
``track_many(frame) -> list[Prediction]`` itself. Every other tracker gets them from
:class:`SeparateTrackers`: one instance per target, so N targets cost N passes per frame.
Predictions come back in the order the boxes were given.
"""
from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from .contract import Prediction, Tracker
from .errors import LongtrackError

__all__ = ["MultiTargetTracker", "SeparateTrackers", "as_multi_target", "create_multi", "target_boxes"]


@runtime_checkable
class MultiTargetTracker(Protocol):
    """Follows several boxes of the same video; ``initialize_many`` resets all of them."""

    def initialize_many(self, frame: np.ndarray, boxes: Sequence[Sequence[float]]) -> None: ...

    def track_many(self, frame: np.ndarray) -> list[Prediction]: ...


def target_boxes(boxes: Sequence[Sequence[float]]) -> list[Sequence[float]]:
    """``boxes`` as a list, refusing an empty one (each box is checked by the tracker itself)."""
    boxes = list(boxes)
    if not boxes:
        raise LongtrackError("initialize_many needs at least one box")
    return boxes


class SeparateTrackers:
    """``SeparateTrackers(build)``: one single-target tracker per box, each made by ``build()``
    (N targets = N passes per frame). ``first``: an instance already built, used for target 0."""

    def __init__(self, build: Callable[[], Tracker], first: Tracker | None = None):
        self.build = build
        self.spare = first
        self.trackers: list[Tracker] = []

    def initialize_many(self, frame: np.ndarray, boxes: Sequence[Sequence[float]]) -> None:
        boxes = target_boxes(boxes)
        pool = self.trackers or ([self.spare] if self.spare is not None else [])
        while len(pool) < len(boxes):
            pool.append(self.build())
        self.trackers = pool[:len(boxes)]
        for tracker, box in zip(self.trackers, boxes):
            tracker.initialize(frame, box)

    def track_many(self, frame: np.ndarray) -> list[Prediction]:
        if not self.trackers:
            raise LongtrackError("track_many() called before initialize_many()")
        return [tracker.track(frame) for tracker in self.trackers]


def as_multi_target(build: Callable[[], Tracker]) -> MultiTargetTracker:
    """The tracker ``build()`` makes when it has ``initialize_many`` / ``track_many`` (one pass
    for all targets), else :class:`SeparateTrackers` over ``build``."""
    first = build()
    if isinstance(first, MultiTargetTracker):
        return first
    return SeparateTrackers(build, first)


def create_multi(name: str, weights: str | None = None, device: str = "cpu", **options) -> MultiTargetTracker:
    """A registered tracker for several targets: ``create(name, ...)`` itself when it tracks them
    in one pass (``globaltrack``), else one instance per target."""
    from .registry import get_tracker_spec

    spec = get_tracker_spec(name)
    return as_multi_target(lambda: spec.build(weights=weights, device=device, **options))
