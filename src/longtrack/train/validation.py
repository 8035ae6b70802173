"""Validation pairs from a real annotated dataset: the first frame's box as the query, a later
frame where the target is visible as the search. This is what a global-search tracker does on
every frame after a loss, so "top-1 detection overlaps the target" is the figure to watch while
training. Validation data is read, never trained on: ``data.validation`` may name real-val.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LongtrackError
from .config import ValidationConfig

__all__ = ["ValidationPair", "validation_pairs"]


@dataclass(frozen=True)
class ValidationPair:
    sequence: str
    query_frame: np.ndarray  # H x W x 3 uint8 RGB
    query_box: np.ndarray  # (4,) xywh
    search_frame: np.ndarray
    search_box: np.ndarray


def validation_pairs(cfg: ValidationConfig, seed: int = 0) -> list[ValidationPair]:
    """``cfg.pairs`` pairs spread evenly over the sequences (fixed by ``seed``)."""
    from ..datasets import load_dataset

    sequences = load_dataset(cfg.dataset, cfg.root, split=cfg.split, progress=False)
    rng = np.random.default_rng(seed)
    usable = []
    for seq in sequences:
        boxes = np.asarray(seq.boxes, dtype=np.float64)
        visible = ~seq.absent & np.isfinite(boxes).all(axis=1) & (boxes[:, 2:] > 1).all(axis=1)
        later = np.flatnonzero(visible[1:]) + 1
        if visible[0] and len(later):
            usable.append((seq, later))
    if not usable:
        raise LongtrackError(f"data.validation: no sequence under {cfg.root} has a visible first box and "
                             "a later visible frame")
    pairs = []
    for k in range(cfg.pairs):
        seq, later = usable[k % len(usable)]
        index = int(rng.choice(later))
        pairs.append(ValidationPair(seq.name, seq.frame(0), np.asarray(seq.boxes[0], dtype=np.float64),
                                    seq.frame(index), np.asarray(seq.boxes[index], dtype=np.float64)))
    return pairs
