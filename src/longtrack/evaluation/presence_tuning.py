"""Tune a learned tracker's presence threshold on training data and store it in its weights.

The papers of GlobalTrack and ProContEXT never say when the target is absent; their trackers
report ``present = confidence >= t``. ``t`` is chosen to maximise the OxUvA geometric mean of TPR
and TNR pooled over every frame after the first (:func:`.oxuva.best_presence_threshold`), on
training sequences only: a dataset root (evaluation sets refused) and/or synthetic sequences,
e.g. ``lt-real`` val-split sequences cut from real-train, which hold the absences real-train lacks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from ..checkpoint import load_weights, save_weights
from ..datasets.evaluation_only import refuse_for_training
from .oxuva import best_presence_threshold

__all__ = ["TuningSequence", "dataset_sequences", "synthetic_sequences", "run_for_tuning", "tune_presence",
           "write_threshold"]


@dataclass
class TuningSequence:
    name: str
    frame: object  # index -> H x W x 3 uint8 RGB
    boxes: np.ndarray  # (N, 4) xywh ground truth
    absent: np.ndarray  # (N,) bool


def dataset_sequences(name: str, root: str, split: str | None = None, max_frames: int | None = None):
    """The sequences of a training dataset whose first box is visible (evaluation sets refused)."""
    from ..datasets import load_dataset

    refuse_for_training(root, "presence tuning")
    out = []
    for seq in load_dataset(name, root, split=split, progress=False):
        n = len(seq) if max_frames is None else min(len(seq), max_frames)
        if not seq.absent[0]:
            out.append(TuningSequence(seq.name, seq.frame, np.asarray(seq.boxes)[:n], np.asarray(seq.absent)[:n]))
    return out


def synthetic_sequences(preset: str, split: str, num: int, num_frames: int | None, source_root=None):
    from ..synth import make_sequence

    out = []
    for index in range(num):
        seq = make_sequence(preset, split, index, num_frames=num_frames, source_root=source_root)
        out.append(TuningSequence(seq.name, seq.render, np.asarray(seq.boxes), np.asarray(seq.absent)))
    return out


def run_for_tuning(tracker, seq: TuningSequence) -> tuple[np.ndarray, np.ndarray]:
    """``(confidences (N,), boxes (N, 4))``; frame 0 is the given box with confidence 1."""
    scores, boxes = [1.0], [np.asarray(seq.boxes[0], dtype=np.float64)]
    tracker.initialize(seq.frame(0), seq.boxes[0])
    for i in tqdm(range(1, len(seq.boxes)), desc=seq.name, leave=False):
        pred = tracker.track(seq.frame(i))
        scores.append(pred.score)
        boxes.append(np.asarray(pred.box, dtype=np.float64))
    return np.asarray(scores), np.stack(boxes)


def tune_presence(tracker, sequences: list[TuningSequence]) -> tuple[dict, list[tuple]]:
    """The best threshold row (``threshold``, ``tpr``, ``tnr``, ``gm``, ...) and the runs."""
    runs = []
    for seq in tqdm(sequences, desc="presence tuning", unit="seq"):
        scores, boxes = run_for_tuning(tracker, seq)
        runs.append((scores, boxes, seq.boxes, seq.absent))
    best, _ = best_presence_threshold(runs)
    return best, runs


def write_threshold(weights: str, out: str, threshold: float, tuned_on: str, half: bool = False) -> None:
    """Save ``weights`` again at ``out`` with ``tracker.presence_threshold`` in its config."""
    loaded = load_weights(weights)
    config = {**loaded.config, "tracker": {**loaded.tracker_config(weights), "presence_threshold": float(threshold),
                                            "tuned_on": tuned_on}}
    state = {k: v.half() if half and v.is_floating_point() else v for k, v in loaded.state_dict.items()}
    save_weights(out, method=loaded.method, config=config, state_dict=state, step=loaded.step,
                 source=loaded.provenance)
