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

    def observe(self, boxes, frame_index: int, add_new: bool = True,
                target: DistractorTrack | None = None) -> list[bool]:
        """Associate boxes seen at ``frame_index`` with the remembered distractors, one box per
        distractor, nearest first; update the matched ones, remember unmatched boxes as new
        distractors when ``add_new``, forget old ones. Returns, per box, whether a distractor
        explains it.

        One-to-one matching matters: when the target reappears beside a distractor, the
        distractor claims its own (nearer) detection and the target's stays unexplained.
        ``target`` (where the target was last seen) competes in the matching like a distractor,
        but a box it claims stays unexplained: a lost target is most likely where it was.
        """
        centers = [np.array([x + w / 2.0, y + h / 2.0]) for x, y, w, h in boxes]
        sizes = [float(np.sqrt(max(w * h, 1.0))) for _, _, w, h in boxes]
        tracks = self.tracks + ([target] if target is not None else [])
        pairs = []
        for t, track in enumerate(tracks):
            reach = min(self.gate + self.speed * max(frame_index - track.last_seen, 1), self.max_gate)
            for b, center in enumerate(centers):
                distance = float(np.hypot(*(center - track.center)))
                if distance <= reach * max(track.size, sizes[b]):
                    pairs.append((distance, t, b))
        explained = [False] * len(centers)
        claimed, taken_by_target = set(), set()
        for _, t, b in sorted(pairs):
            if t in claimed or explained[b] or b in taken_by_target:
                continue
            claimed.add(t)
            if t == len(self.tracks):  # the target's own slot
                taken_by_target.add(b)
                continue
            explained[b] = True
            self.tracks[t].center, self.tracks[t].size, self.tracks[t].last_seen = centers[b], sizes[b], frame_index
        if add_new:
            self.tracks += [DistractorTrack(centers[b], sizes[b], frame_index)
                            for b in range(len(centers)) if not explained[b] and b not in taken_by_target]
        self.tracks = [t for t in self.tracks if frame_index - t.last_seen <= self.max_age]
        return explained
