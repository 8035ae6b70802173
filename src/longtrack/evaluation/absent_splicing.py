"""Target-absent frames for tuning on a training root that has none (real-train): a clip of a
sequence with frames of a sequence of another class spliced in (resized to the clip's frame size;
the target is not in them), after which the clip's own frames resume where they stopped.

Presence tuning (``longtrack tune-presence --absent``) and TANet's switching tuning
(``longtrack tune-switching --absent``) make their clips this way.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..datasets.evaluation_only import refuse_for_training
from .presence_tuning import TuningSequence

__all__ = ["class_of", "partner", "spliced", "spliced_dataset_sequences"]


def class_of(name: str) -> str:
    """The class of a LaSOT-style sequence name: ``cat-12`` -> ``cat``."""
    return name.rsplit("-", 1)[0]


def partner(sequences: list, k: int):
    """The next sequence after ``sequences[k]`` (wrapping round) of another class, else None."""
    mine = class_of(sequences[k].name)
    return next((s for s in sequences[k + 1:] + sequences[:k] if class_of(s.name) != mine), None)


def spliced(seq, other, cut: int, kept: int, absent: int) -> TuningSequence:
    """``seq``'s frames ``0 .. cut-1``, ``absent`` frames of ``other`` (fewer when it is shorter;
    none when it is None), then ``seq``'s frames ``cut .. kept-1``."""
    kept = min(kept, len(seq))
    cut = min(cut, kept)
    gap = min(absent, len(other)) if other is not None else 0
    height, width = seq.frame(0).shape[:2]

    def frame(i: int) -> np.ndarray:
        if i < cut:
            return seq.frame(i)
        if i < cut + gap:
            return cv2.resize(other.frame(i - cut), (width, height), interpolation=cv2.INTER_AREA)
        return seq.frame(i - gap)

    boxes = np.asarray(seq.boxes, dtype=np.float64)[:kept]
    flags = np.asarray(seq.absent, dtype=bool)[:kept]
    boxes = np.concatenate([boxes[:cut], np.zeros((gap, 4)), boxes[cut:]])
    flags = np.concatenate([flags[:cut], np.ones(gap, bool), flags[cut:]])
    name = seq.name if gap == 0 else f"{seq.name}+{gap}x{other.name}"
    return TuningSequence(name, frame, boxes, flags)


def spliced_dataset_sequences(name: str, root: str, split: str | None, absent: int, visible: int | None = None,
                              max_frames: int | None = None) -> list[TuningSequence]:
    """The sequences of a training dataset whose first box is visible (evaluation sets refused),
    each spliced with ``absent`` frames of its :func:`partner`: after its first ``visible``
    frames, followed by its next ``visible`` (``visible`` None: halfway through its first
    ``max_frames``, or all of it)."""
    from ..datasets import load_dataset

    refuse_for_training(root, "presence tuning")
    sequences = list(load_dataset(name, root, split=split, progress=False))
    clips = []
    for k, seq in enumerate(sequences):
        if seq.absent[0]:
            continue
        if visible is not None:
            cut, kept = visible, 2 * visible
        else:
            kept = len(seq) if max_frames is None else min(len(seq), max_frames)
            cut = (kept + 1) // 2
        clips.append(spliced(seq, partner(sequences, k), cut, kept, absent))
    return clips
