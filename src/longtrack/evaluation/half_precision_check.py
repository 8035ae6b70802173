"""The check a shipped weights file needs before it is stored in float16: the largest box
difference between a tracker run on the fp32 weights and on their fp16-stored copy, over the same
frames (a box may move by at most :data:`MAX_BOX_DIFFERENCE` pixels).

Run it as ``longtrack fp16-check``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["MAX_BOX_DIFFERENCE", "boxes_of", "box_differences"]

MAX_BOX_DIFFERENCE = 0.1  # pixels: below what any benchmark's overlap measures can tell apart


def boxes_of(tracker, seq, frames: int) -> np.ndarray:
    """The tracker's boxes over frames ``1 .. frames-1`` of ``seq``, started on its first box."""
    tracker.initialize(seq.frame(0), seq.boxes[0])
    return np.array([tracker.track(seq.frame(i)).box for i in range(1, min(frames, len(seq)))])


def box_differences(full, half, sequences, frames: int):
    """Per sequence ``(name, largest absolute difference of any box coordinate)``, as it runs."""
    for seq in sequences:
        yield seq.name, float(np.abs(boxes_of(full, seq, frames) - boxes_of(half, seq, frames)).max())
