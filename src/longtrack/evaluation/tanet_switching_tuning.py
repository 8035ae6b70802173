"""Tune TANet's switching thresholds for one local tracker on training sequences.

The bare local tracker runs over each training clip (in local search ``tanet:<local>`` is that
tracker). Every frame after the first is labelled **tracked** (target present and the tracker's
box has IoU >= 0.5 with the truth) or **lost** (target absent, or IoU < 0.5), and three values
are recorded: the tracker's confidence, the NCC of its box with the first-frame target (the
wrapper's :class:`~longtrack.trackers.tanet_search.TemplateCheck`), and the number of
consecutive frames up to this one whose confidence is below ``beta1`` (the wrapper's low count).

The rule, the same for each threshold: the cut that maximises the **balanced accuracy**
(TPR + TNR) / 2 of telling tracked from lost frames, pooled over all clips, with the cut halfway
between the two neighbouring observed values; ties go to the cut nearest the paper's value.

* ``beta1``: tracked iff confidence >= beta1 (Algorithm 2: a low frame is one where the local
  tracker may have lost the target);
* ``beta2``: lost iff low count >= beta2, with the tuned beta1, over 1..``max_patience`` (the
  paper's patience: short dips while still on target are waited out, a real loss is not);
* ``verify_threshold``: tracked iff NCC >= it (a verified answer must look like the target).

A threshold whose best cut is no better than chance (balanced accuracy <= 0.5, or a value that
never varies, as the ok flag of a tracker that never reports a loss) keeps the paper's value.
real-train holds no target-absent frame, so each clip can splice in ``absent`` frames of a
sequence of another class (resized, the target is not in them) halfway through
(:mod:`.absent_splicing`, as ``longtrack tune-presence --absent`` does).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..boxes import iou
from ..datasets.evaluation_only import refuse_for_training
from ..errors import LongtrackError
from ..fileio import atomic_path
from ..trackers.tanet_search import TemplateCheck
from ..trackers.tanet_switching import PAPER_SWITCHING
from .absent_splicing import partner, spliced
from .presence_tuning import TuningSequence

__all__ = ["TRACKED_IOU", "SwitchingRecord", "training_clips", "record_local_run", "best_cut", "best_patience",
           "low_counts", "choose_thresholds", "load_or_record"]

TRACKED_IOU = 0.5  # a frame is "tracked" at IoU >= this with the truth (the success-rate convention)


@dataclass
class SwitchingRecord:
    """One clip's frames after the first: the tracker's confidence, its box's NCC with the
    first-frame target, and whether the frame is tracked (else lost or absent)."""

    name: str
    score: np.ndarray
    ncc: np.ndarray
    tracked: np.ndarray  # bool


def training_clips(root: str, dataset: str = "lasot", max_frames: int | None = None, absent: int = 50,
                   max_sequences: int | None = None) -> list[TuningSequence]:
    """The tuning clips of a training root (evaluation sets refused before anything is read):
    its sequences whose first frame shows the target, in the reader's order, at most
    ``max_sequences``, each cut to ``max_frames`` and spliced halfway with ``absent`` frames of the
    next sequence of another class (:mod:`.absent_splicing`)."""
    from ..datasets import load_dataset

    refuse_for_training(root, "switching tuning")
    sequences = list(load_dataset(dataset, root, progress=False))
    usable = [k for k, seq in enumerate(sequences) if len(seq) >= 2 and not seq.absent[0]]
    clips = []
    for k in usable[:max_sequences]:
        seq = sequences[k]
        other = partner(sequences, k) if absent > 0 else None
        n = len(seq) if max_frames is None else min(len(seq), max_frames)
        clips.append(spliced(seq, other, (n + 1) // 2, n, absent))  # the absent frames halfway
    if not clips:
        raise LongtrackError(f"switching tuning: no sequence of {root} has a visible target in its first frame")
    return clips


def record_local_run(tracker, clip: TuningSequence) -> SwitchingRecord:
    """Run ``tracker`` (a bare local tracker) over ``clip`` and label its frames."""
    first = clip.frame(0)
    check = TemplateCheck(first, tuple(clip.boxes[0]))
    tracker.initialize(first, tuple(float(v) for v in clip.boxes[0]))
    scores, nccs, boxes = [], [], []
    for i in tqdm(range(1, len(clip.boxes)), desc=clip.name, leave=False):
        frame = clip.frame(i)
        pred = tracker.track(frame)
        scores.append(float(pred.score))
        nccs.append(check.similarity(frame, pred.box))
        boxes.append(pred.box)
    overlap = iou(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), clip.boxes[1:])
    tracked = (overlap >= TRACKED_IOU) & ~clip.absent[1:]
    return SwitchingRecord(clip.name, np.asarray(scores), np.asarray(nccs), tracked)


def load_or_record(tracker_factory, clip: TuningSequence, records: str | None, settings: dict) -> SwitchingRecord:
    """The clip's record from ``records/<clip>.npz`` when it was made with the same ``settings``,
    else a new run (saved there): an interrupted tuning resumes where it stopped."""
    path = None if records is None else Path(records) / f"{clip.name}.npz"
    key = json.dumps(settings, sort_keys=True)
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["settings"]) == key:
                    return SwitchingRecord(clip.name, data["score"], data["ncc"], data["tracked"].astype(bool))
        except (OSError, KeyError, ValueError):
            pass  # a damaged or foreign record is simply made again
    record = record_local_run(tracker_factory(), clip)
    if path is not None:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, settings=np.asarray(key), score=record.score, ncc=record.ncc, tracked=record.tracked)
    return record



def _best_balanced(cuts: np.ndarray, tpr: np.ndarray, tnr: np.ndarray, prefer: float) -> dict | None:
    """The cut of best balanced accuracy, ties to the one nearest ``prefer``; None when no cut
    beats chance."""
    balanced = (tpr + tnr) / 2
    best = np.flatnonzero(np.isclose(balanced, balanced.max(), rtol=0, atol=1e-12))
    k = best[np.argmin(np.abs(cuts[best] - prefer))]
    if balanced[k] <= 0.5:
        return None
    return {"threshold": cuts[k].item(), "tpr": float(tpr[k]), "tnr": float(tnr[k]),
            "balanced_accuracy": float(balanced[k])}

def best_cut(tracked_values: np.ndarray, lost_values: np.ndarray, prefer: float) -> dict | None:
    """The cut ``t`` maximising the balanced accuracy of ``tracked iff value >= t``: halfway
    between two neighbouring observed values; ties go to the cut nearest ``prefer``. None when
    the values never vary (no cut) or no cut beats chance."""
    tracked_values = np.sort(np.asarray(tracked_values, dtype=np.float64))
    lost_values = np.sort(np.asarray(lost_values, dtype=np.float64))
    distinct = np.unique(np.concatenate([tracked_values, lost_values]))
    if len(distinct) < 2:
        return None
    cuts = (distinct[:-1] + distinct[1:]) / 2
    tpr = 1.0 - np.searchsorted(tracked_values, cuts, side="left") / len(tracked_values)  # tracked kept
    tnr = np.searchsorted(lost_values, cuts, side="left") / len(lost_values)  # lost refused
    return _best_balanced(cuts, tpr, tnr, prefer)


def low_counts(score: np.ndarray, beta1: float) -> np.ndarray:
    """Per frame, how many consecutive frames up to it scored below ``beta1`` (the wrapper's
    ``low_count``, which a confident frame resets)."""
    out = np.zeros(len(score), dtype=np.int64)
    run = 0
    for i, value in enumerate(score):
        run = run + 1 if value < beta1 else 0
        out[i] = run
    return out


def best_patience(tracked_counts: np.ndarray, lost_counts: np.ndarray, prefer: int, max_patience: int) -> dict | None:
    """The patience ``k`` in 1..``max_patience`` maximising the balanced accuracy of ``lost iff
    low count >= k``; ties go to the ``k`` nearest ``prefer``; None when none beats chance."""
    tracked_counts, lost_counts = np.asarray(tracked_counts), np.asarray(lost_counts)
    ks = np.arange(1, max_patience + 1)
    tnr = np.array([(lost_counts >= k).mean() for k in ks])  # lost frames that start global search
    tpr = np.array([(tracked_counts < k).mean() for k in ks])  # tracked frames left in local search
    return _best_balanced(ks, tpr, tnr, prefer)


def choose_thresholds(records: list[SwitchingRecord], max_patience: int = 30) -> dict:
    """``{"beta1", "beta2", "verify_threshold"}`` by the rule of the module docstring, and for
    each its ``fit`` (the best cut's TPR, TNR, balanced accuracy, or why the paper's value was kept)."""
    if max_patience < 1:
        raise LongtrackError(f"switching tuning: max_patience must be >= 1, got {max_patience}")
    tracked = np.concatenate([r.tracked for r in records]) if records else np.zeros(0, bool)
    if tracked.all() or not tracked.any():
        which = "lost or absent" if tracked.all() else "tracked (IoU >= 0.5)"
        raise LongtrackError(f"switching tuning: no {which} frame in {len(tracked)} frames; "
                             "tune on more frames or splice in absent ones (--absent)")
    fits = {}
    score = np.concatenate([r.score for r in records])
    fits["beta1"] = best_cut(score[tracked], score[~tracked], PAPER_SWITCHING["beta1"])
    beta1 = PAPER_SWITCHING["beta1"] if fits["beta1"] is None else fits["beta1"]["threshold"]
    counts = np.concatenate([low_counts(r.score, beta1) for r in records])
    fits["beta2"] = best_patience(counts[tracked], counts[~tracked], PAPER_SWITCHING["beta2"], max_patience)
    ncc = np.concatenate([r.ncc for r in records])
    fits["verify_threshold"] = best_cut(ncc[tracked], ncc[~tracked], PAPER_SWITCHING["verify_threshold"])
    values = {key: PAPER_SWITCHING[key] if fit is None else fit["threshold"] for key, fit in fits.items()}
    return {**values, "fit": {key: fit if fit is not None else "no cut better than chance: the paper's value kept"
                              for key, fit in fits.items()},
            "frames": int(len(tracked)), "tracked_frames": int(tracked.sum()), "lost_frames": int((~tracked).sum())}

