"""Which real sequence and frame each object, occluder and background of an ``lt-real`` sequence
is cut from. The planner asks a look model for every appearance (``ProceduralLooks`` in
``appearance.py`` is the other one); this one draws from the same random stream, so a sequence
is a pure function of its seed and the source root's contents.

* target: a class drawn uniformly, then one of its sequences, then one of its usable frames;
* same-class distractors: other sequences of the target's class; where the class has only the
  target's sequence, the same sequence at a frame far from those already cut (a third of the
  sequence away where it has such frames, else a sixth, else any other frame);
* other objects: a class other than the target's drawn uniformly, then one of its sequences (any
  other sequence where the root has one class);

Frames of a sequence already cut are avoided (and frames within a sixth of the sequence of them,
where others remain), so two look-alikes from one sequence are two different views; a
``RealLooks`` therefore serves one plan.
* appearance drift: the target's own sequence at a far frame (a real change of pose and light);
* occluders: regions of real frames in the procedural occluder outline;
* backgrounds: a frame of a sequence of another class than the target's (objects of the
  target's class in the background would be unannotated look-alikes), one per camera segment:
  each camera cut moves to a new real scene.
"""
from __future__ import annotations

import numpy as np

from .real_appearance import RealBackground, RealCrop, RealPatch
from .real_source import SourceIndex, SourceSequence
from .shapes import random_shape


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(0, len(items)))]


class RealLooks:
    """The look model of the ``lt-real`` preset, over one source root's index."""

    def __init__(self, index: SourceIndex):
        self.index = index
        self._by_name = {s.name: s for s in index.sequences}
        self._used: dict[str, list[int]] = {}  # sequence name -> frames cut so far

    def _crop(self, seq: SourceSequence, frame: int) -> RealCrop:
        self._used.setdefault(seq.name, []).append(int(frame))
        box = tuple(float(v) for v in seq.boxes[frame])
        return RealCrop(seq.class_name, seq.name, int(frame), seq.frames[frame], box)

    def _frame(self, seq: SourceSequence, rng, gaps=(6.0, 0.0)) -> int:
        """A usable frame at least ``len / gap`` frames from every frame of ``seq`` cut so far,
        for the first gap that leaves any (0: just not cut yet); any usable frame otherwise."""
        frames = [int(f) for f in seq.usable]
        used = self._used.get(seq.name, [])
        for gap in gaps:
            kept = [f for f in frames if all(abs(f - u) >= (len(seq) / gap if gap else 1) for u in used)]
            if kept:
                return _pick(rng, kept)
        return _pick(rng, frames)

    def _far_frame(self, seq: SourceSequence, rng) -> int:
        return self._frame(seq, rng, (3.0, 6.0, 0.0))

    def target(self, class_name: str, rng) -> RealCrop:
        seq = _pick(rng, self.index.by_class[_pick(rng, self.index.classes)])
        return self._crop(seq, self._frame(seq, rng))

    def distractor(self, target: RealCrop, rng) -> RealCrop:
        peers = [s for s in self.index.by_class[target.class_name] if s.name != target.source]
        if peers:
            seq = _pick(rng, peers)
            return self._crop(seq, self._frame(seq, rng))
        seq = self._by_name[target.source]
        return self._crop(seq, self._far_frame(seq, rng))

    def other(self, class_name: str, target: RealCrop, rng) -> RealCrop:
        classes = [c for c in self.index.classes if c != target.class_name]
        if classes:
            seq = _pick(rng, self.index.by_class[_pick(rng, classes)])
        else:
            seq = _pick(rng, [s for s in self.index.sequences if s.name != target.source] or list(self.index.sequences))
        return self._crop(seq, self._frame(seq, rng))

    def drift(self, target: RealCrop, rng) -> tuple[str, RealCrop]:
        seq = self._by_name[target.source]
        return "real_frame", self._crop(seq, self._far_frame(seq, rng))

    def _frame_of(self, seq: SourceSequence, frame: int):
        box = tuple(float(v) for v in seq.boxes[frame]) if seq.present[frame] else None
        return seq.name, int(frame), seq.frames[frame], box

    def occluder(self, rng) -> RealPatch:
        shape = random_shape("occluder", rng)
        seq = _pick(rng, self.index.sequences)
        frame = int(rng.integers(0, len(seq)))
        return RealPatch(shape, *self._frame_of(seq, frame), float(rng.uniform(0.0, 1.0)),
                         float(rng.uniform(0.0, 1.0)), float(rng.uniform(0.35, 0.8)))

    def backgrounds(self, target: RealCrop, cut_frames: list[int], rng) -> list[tuple[int, RealBackground]]:
        pool = [s for s in self.index.sequences if s.class_name != target.class_name] or list(self.index.sequences)
        out = []
        for start in [0] + sorted(cut_frames):
            seq = _pick(rng, pool)
            out.append((int(start), RealBackground(*self._frame_of(seq, int(rng.integers(0, len(seq)))))))
        return out
