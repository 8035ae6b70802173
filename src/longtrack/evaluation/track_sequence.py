"""Run one tracker over one benchmark sequence, in memory (the runner writes the files).

Frame 0 is the initialization frame: the tracker is initialised on it with the ground-truth
box (clipped to the frame, at least 2x2 pixels: ``contract.initial_box``), and its prediction is
that box with confidence 1, present. The time of frame 0 is the
``initialize`` call, of every other frame its ``track`` call (decoding is not counted, as the
official toolkits time only the tracker).
"""
from __future__ import annotations

import importlib
import math
import random
import sys
import time
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..contract import initial_box
from ..datasets.sequence import Sequence
from ..errors import LongtrackError
from ..registry import TrackerSpec

# ``weights="none"``: build a learned tracker at its random initialisation (the "untrained" row),
# even when it ships default weights; ``weights=None`` means the shipped default.
UNTRAINED = "none"
BUILD_SEED = 0


@dataclass
class SequenceOutput:
    """A finished sequence: ``boxes (N, 4)`` xywh, ``scores (N,)``, ``present (N,)`` bool,
    ``times (N,)`` seconds per frame."""

    boxes: np.ndarray
    scores: np.ndarray
    present: np.ndarray
    times: np.ndarray


class SequenceFailed(Exception):
    """The tracker raised (or answered nonsense) on a frame; carries where, for the log."""

    def __init__(self, sequence: str, frame: int, error: BaseException | str):
        detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(f"{sequence}: frame {frame}: {detail}")
        self.sequence, self.frame = sequence, frame


def resolve_weights(spec: TrackerSpec, weights: str | None) -> str | None:
    """The weights file a run uses: ``None`` -> the shipped default (None when there is none),
    ``"none"`` -> None (random initialisation), a path -> that path."""
    if weights is None:
        return spec.weights_path()
    if str(weights).lower() == UNTRAINED:
        return None
    return str(weights)


def build_tracker(spec: TrackerSpec, weights: str | None, device: str):
    """Build ``spec``'s tracker with ``resolve_weights``'s file, from a fixed random seed so that
    a randomly initialised model is the same network in every worker process."""
    seed_everything(BUILD_SEED)
    if weights is None or str(weights).lower() != UNTRAINED:
        return spec.build(weights=weights, device=device)
    # ``spec.build`` turns None into the shipped default; an untrained row must bypass that.
    module_name, attr = spec.factory.split(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(weights=None, device=device, **spec.options)


def sequence_seed(name: str) -> int:
    """A seed that depends only on the sequence, so results do not depend on which worker (or
    in which order) a sequence ran."""
    return zlib.crc32(name.encode("utf-8"))


def seed_everything(seed: int) -> None:
    """Seed Python, numpy, and -- when the tracker loaded them -- torch and OpenCV."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setRNGSeed(seed % 2**31)


def track_sequence(tracker, seq: Sequence, on_frame: Callable[[int], None] | None = None) -> SequenceOutput:
    """Track ``seq`` from frame 0 to its end, decoding one frame at a time.

    ``on_frame(1)`` is called after each frame (progress). Raises ``SequenceFailed`` when the
    tracker raises an ``Exception`` or returns a non-finite box; ``KeyboardInterrupt`` passes.
    """
    n = len(seq)
    if not seq.frames:
        raise SequenceFailed(seq.name, 0, "no frame images (the dataset folder holds annotations only)")
    boxes = np.empty((n, 4), dtype=np.float64)
    scores = np.empty(n, dtype=np.float64)
    present = np.empty(n, dtype=bool)
    times = np.empty(n, dtype=np.float64)
    seed_everything(sequence_seed(seq.name))
    for i in range(n):
        try:
            frame = seq.frame(i)
            start = time.perf_counter()
            if i == 0:
                # The tracker starts from the box clipped to the frame; frame 0's result is the
                # ground truth itself, as the official toolkits report it.
                tracker.initialize(frame, initial_box(seq.init_box, np.shape(frame)))
                box, score, is_present = seq.init_box, 1.0, True
            else:
                pred = tracker.track(frame)
                box, score, is_present = pred.box, pred.score, pred.present
            times[i] = time.perf_counter() - start
        except LongtrackError as exc:
            raise SequenceFailed(seq.name, i, str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - a tracker bug fails this sequence, not the run
            raise SequenceFailed(seq.name, i, exc) from exc
        if len(box) != 4 or not all(math.isfinite(v) for v in box) or not math.isfinite(score):
            raise SequenceFailed(seq.name, i, f"the tracker returned a non-finite box {box} or score {score}")
        boxes[i], scores[i], present[i] = box, score, is_present
        if on_frame is not None:
            on_frame(1)
    return SequenceOutput(boxes, scores, present, times)
