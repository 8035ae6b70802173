"""Memory of look-alike objects (distractors) seen by the global re-detector.

While the target is tracked confidently, other places that match its templates are other
objects (a same-class distractor, a similar texture); they are remembered with their positions.
When the target is lost, a re-detection that one of these remembered objects explains (close to
where it was last seen, allowing for its motion since) is not taken for the target. The same
idea as KeepTrack's candidate association (Mayer et al., ICCV 2021), in its simplest form.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class DistractorTrack:
    center: np.ndarray  # (2,) x, y
    size: float  # sqrt of the box area
    last_seen: int  # frame index


class DistractorMemory:
    """Distractor tracks fed with candidate boxes ``(x, y, w, h)``; nearest-centre association."""

    def __init__(self, gate: float = 0.6, speed: float = 0.03, max_gate: float = 2.0, max_age: int = 100):
        self.gate = gate  # association radius, in target sizes
        self.speed = speed  # how far an unseen distractor may have moved, in target sizes per frame
        self.max_gate = max_gate  # ... but never further than this
        self.max_age = max_age  # frames after which an unseen distractor is forgotten
        self.tracks: list[DistractorTrack] = []

    def reset(self) -> None:
        self.tracks = []

    def _match(self, box, frame_index: int) -> DistractorTrack | None:
        x, y, w, h = box
        center = np.array([x + w / 2.0, y + h / 2.0])
        best, best_distance = None, np.inf
        for track in self.tracks:
            scale = max(track.size, np.sqrt(max(w * h, 1.0)))
            radius = scale * min(self.gate + self.speed * (frame_index - track.last_seen), self.max_gate)
            distance = float(np.hypot(*(center - track.center)))
            if distance <= radius and distance < best_distance:
                best, best_distance = track, distance
        return best

    def explains(self, box, frame_index: int) -> bool:
        """True when a remembered distractor could be at ``box`` now."""
        return self._match(box, frame_index) is not None

    def observe(self, boxes, frame_index: int) -> None:
        """Update the tracks with distractor boxes seen at ``frame_index``; forget old ones."""
        for box in boxes:
            x, y, w, h = box
            center, size = np.array([x + w / 2.0, y + h / 2.0]), float(np.sqrt(max(w * h, 1.0)))
            track = self._match(box, frame_index)
            if track is None:
                self.tracks.append(DistractorTrack(center, size, frame_index))
            elif track.last_seen != frame_index:
                track.center, track.size, track.last_seen = center, size, frame_index
        self.tracks = [t for t in self.tracks if frame_index - t.last_seen <= self.max_age]
