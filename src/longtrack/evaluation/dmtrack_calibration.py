"""Calibrate DMTrack's score thresholds to a trained detector on training data and store them in
its weights file (the config's ``tracker`` section, which the tracker reads).

The thresholds (``recover_score``, ``gallery_score``, ``reid_threshold``, ``presence_threshold``)
were set before training in the units of a well-trained detector; a small detector trained briefly
from scratch scores its best candidates far lower (e.g. 0.1-0.2), so with them the target is never
recovered nor said present. The calibration runs the network ONCE per frame and replays its
candidates through one re-id tracker per grid point (``recover_score`` = ``gallery_score`` in
``recover``, ``reid_threshold`` in ``reid``); it keeps the pair with the highest mean IoU over
visible frames (the success AUC's integrand), then the ``presence_threshold`` maximising the pooled
OxUvA geometric mean of TPR and TNR on that run.

The data (never an evaluation set; those are refused before anything runs): the synthetic ``lt``
preset's val split by default (never the test split the benchmarks use); a real training root
(the first ``max_frames`` of ``sequences`` sequences spread evenly over its sorted list); and/or
val-split sequences of a synthetic preset, e.g. ``lt-real``, which holds the target-absent frames
real-train lacks and without which the presence threshold cannot be tuned.

Run it as ``longtrack calibrate dmtrack`` (docs/methods/dmtrack.md).
"""
from __future__ import annotations

import itertools
import sys
import warnings

import numpy as np
from tqdm import tqdm

from ..boxes import iou
from ..checkpoint import load_weights, save_weights
from ..datasets.evaluation_only import refuse_for_training
from ..errors import LongtrackError
from ..trackers.dmtrack_replay import RecordingTracker, ReplayingTracker
from .oxuva import best_presence_threshold
from .presence_tuning import TuningSequence, dataset_sequences, synthetic_sequences

__all__ = ["DEFAULT_NUM", "DEFAULT_NUM_FRAMES", "calibration_sequences", "calibrate", "write_calibration"]

DEFAULT_NUM, DEFAULT_NUM_FRAMES = 3, 500  # the default synthetic lt val data


def _run_grid(recorder: RecordingTracker, replays: dict, seq: TuningSequence) -> dict:
    """Per grid key ``(scores [N], boxes [N, 4] xywh)``; frame 0 is the given box with score 1."""
    out = {k: ([1.0], [np.asarray(seq.boxes[0], dtype=np.float64)]) for k in replays}
    first = seq.frame(0)
    recorder.initialize(first, seq.boxes[0])
    for tracker in replays.values():
        tracker.initialize(first, seq.boxes[0])
    for i in tqdm(range(1, len(seq.boxes)), desc=seq.name, unit="frame", leave=False):
        frame = seq.frame(i)
        recorder.detect(frame)  # the replays read these candidates
        for key, tracker in replays.items():
            pred = tracker.track(frame)
            out[key][0].append(pred.score)
            out[key][1].append(np.asarray(pred.box))
    return {k: (np.asarray(s), np.stack(b)) for k, (s, b) in out.items()}


def _mean_visible_iou(runs: list) -> float:
    ious = [iou(boxes[1:], gt[1:])[~absent[1:]] for _, boxes, gt, absent in runs]
    return float(np.mean(np.concatenate(ious)))


def _spread(sequences: list, count: int | None) -> list:
    """``count`` of ``sequences`` at evenly spaced places of the list (all when None or more)."""
    if count is None or count >= len(sequences):
        return sequences
    return [sequences[i] for i in np.linspace(0, len(sequences) - 1, count).round().astype(int)]


def _parse_synth(text: str) -> tuple[str, int]:
    preset, _, num = text.partition(":")
    try:
        return preset, int(num)
    except ValueError:
        raise LongtrackError(f"--synth {text!r}: expected PRESET:N, e.g. lt-real:3") from None


def calibration_sequences(dataset: str | None = None, root: str | None = None, split: str | None = None,
                          sequences: int | None = None, max_frames: int | None = None, synth: str | None = None,
                          synth_frames: int = 600, source_root: str | None = None, num: int | None = None,
                          num_frames: int | None = None) -> tuple[list[TuningSequence], str]:
    """The sequences to calibrate on and their description (evaluation sets refused first).
    The arguments are the options of ``longtrack calibrate dmtrack`` of the same names."""
    if bool(dataset) != bool(root):
        raise LongtrackError("--dataset and --root go together")
    if not dataset and (sequences is not None or max_frames is not None):
        raise LongtrackError("--sequences and --max-frames select a dataset's sequences: give --dataset and --root")
    if (dataset or synth) and (num is not None or num_frames is not None):
        raise LongtrackError("--num and --num-frames are the default synthetic data's; with --dataset or --synth "
                             "give --synth lt:N --synth-frames F instead")
    if (sequences is not None and sequences < 1) or (max_frames is not None and max_frames < 2):
        raise LongtrackError("--sequences must be >= 1 and --max-frames >= 2 (frame 0 is the given box)")
    if root:
        refuse_for_training(root, "dmtrack calibration")
    chosen_all, described = [], []
    if dataset:
        found = dataset_sequences(dataset, root, split, max_frames)
        if not found:
            raise LongtrackError(f"{dataset} {root}: no sequence whose first box is visible")
        chosen = _spread(found, sequences)
        chosen_all += chosen
        frames = "" if max_frames is None else f", first {max_frames} frames"
        described.append(f"{dataset} {root} ({len(chosen)} of {len(found)} sequences{frames})")
    if synth:
        preset, count = _parse_synth(synth)
        chosen_all += synthetic_sequences(preset, "val", count, synth_frames, source_root)
        described.append(f"synthetic {preset} val 0..{count - 1} ({synth_frames} frames each)")
    if not dataset and not synth:
        num = DEFAULT_NUM if num is None else num
        num_frames = DEFAULT_NUM_FRAMES if num_frames is None else num_frames
        chosen_all += synthetic_sequences("lt", "val", num, num_frames)
        described.append(f"synthetic lt val 0..{num - 1}, {num_frames} frames each")
    if not any(seq.absent[1:].any() for seq in chosen_all):  # every presence threshold would score NaN
        raise LongtrackError("no target-absent frame in the calibration data, so presence_threshold cannot be "
                             "tuned; add sequences that have some, e.g. --synth lt-real:3")
    return chosen_all, "; ".join(described)


def calibrate(weights: str, sequences: list[TuningSequence], recover: list[float],
              reid: list[float]) -> tuple[dict, dict]:
    """``(table, chosen)``: the mean visible IoU per ``(recover, reid)`` grid point, and the chosen
    ``recover_score``, ``reid_threshold`` and best presence row (``presence``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        recorder = RecordingTracker(weights=weights, association="reid")
    replays = {}
    for recover_score, reid_threshold in itertools.product(recover, reid):
        replay = ReplayingTracker(recorder, "reid")
        replay.recover_score = replay.gallery_score = recover_score
        replay.reid_threshold = reid_threshold
        replays[(recover_score, reid_threshold)] = replay
    runs = {k: [] for k in replays}
    for seq in tqdm(sequences, desc="dmtrack calibration", unit="seq"):
        for key, (scores, boxes) in _run_grid(recorder, replays, seq).items():
            runs[key].append((scores, boxes, seq.boxes, seq.absent))
        tqdm.write(f"{seq.name}: {len(seq.boxes)} frames, {int(seq.absent.sum())} absent", file=sys.stderr)
    table = {k: _mean_visible_iou(r) for k, r in runs.items()}
    best = max(table, key=table.get)
    presence, _ = best_presence_threshold(runs[best])
    return table, {"recover_score": best[0], "reid_threshold": best[1], "presence": presence}


def write_calibration(weights: str, out: str, calibration: dict) -> None:
    """Save ``weights`` again at ``out`` with ``calibration`` as its config's ``tracker`` section."""
    loaded = load_weights(weights, method="dmtrack")
    save_weights(out, method="dmtrack", config={**loaded.config, "tracker": calibration},
                 state_dict=loaded.state_dict, step=loaded.step, source=loaded.provenance)
