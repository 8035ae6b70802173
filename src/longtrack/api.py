"""The front door: ``create`` builds a registered tracker, ``track_video`` runs one over a video.

The contract those trackers follow (``Prediction``, ``Tracker``, ``BaseTracker``) is ``contract.py``.
"""
from __future__ import annotations

from typing import Iterator, Sequence

from .contract import Prediction, Tracker, as_rgb, initial_box
from .errors import LongtrackError


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
    of frames). Yields one ``Prediction`` per frame, the first being the given box clipped to
    the frame (``initial_box``)."""
    trk = create(tracker, weights=weights, device=device) if isinstance(tracker, str) else tracker
    frames = source
    if isinstance(source, (str, int)) or hasattr(source, "__fspath__"):
        from .video import open_source

        frames = open_source(source)
    first = True
    for frame in frames:
        if first:
            start = initial_box(box, as_rgb(frame).shape)
            trk.initialize(frame, start)
            first = False
            yield Prediction(start, 1.0, True)
        else:
            yield trk.track(frame)
    if first:
        raise LongtrackError(f"no frame could be read from {source!r}")
