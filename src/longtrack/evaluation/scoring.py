"""Score one tracker's result folder on a benchmark, the way the benchmark's own toolkit does.

``score_results(dataset, sequences, tracker_dir)`` reads the results in the benchmark's format
(``result_formats``) and returns a JSON-ready dict with the protocol's keys:

| protocol | datasets | keys |
|---|---|---|
| OPE | lasot, lasot_ext, otb, uav, trackingnet, synthetic (+ tlp: ``lsm``) | ``success_auc``, ``precision``, ``norm_precision``, ``per_sequence`` |
| GOT-10k | got10k | ``ao``, ``sr50``, ``sr75`` |
| OxUvA | oxuva | ``tpr``, ``tnr``, ``max_gm`` |
| VOT-LT | votlt2018/2019/2020 | ``precision``, ``recall``, ``f_score``, ``threshold`` |

OPE results also get ``redetection`` where the dataset has absent frames, and -- for our own runs,
which record presence and confidence -- ``presence`` (OxUvA-style TPR/TNR/MaxGM) and
``longterm`` (VOT-LT-style precision/recall/F over the confidence).
"""
from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path

import numpy as np

from ..datasets.sequence import Sequence
from ..errors import LongtrackError
from . import got10k, ope, oxuva, redetection, tlp, votlt
from .overlaps import oxuva_iou_clip
from .result_formats import SequenceResult, read_sequence_results

PROTOCOLS = {
    **dict.fromkeys(("lasot", "lasot_ext", "otb", "uav", "trackingnet", "synthetic"), "ope"),
    "tlp": "tlp", "got10k": "got10k", "oxuva": "oxuva",
    **dict.fromkeys(("votlt2018", "votlt2019", "votlt2020"), "votlt"),
}
# The benchmark's own convention; the others are options (``convention=``).
DEFAULT_CONVENTION = {"lasot": "lasot", "lasot_ext": "lasot", "synthetic": "lasot", "tlp": "lasot",
                      "uav": "lasot", "otb": "otb", "trackingnet": "trackingnet"}


def protocol_of(dataset: str) -> str:
    if dataset not in PROTOCOLS:
        raise LongtrackError(f"cannot score dataset {dataset!r}; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[dataset]


def _progress(items, desc: str, progress: bool | None):
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    return tqdm(items, desc=desc, unit="seq", disable=not show or len(items) < 2)


def _read_all(dataset, sequences, tracker_dir, progress) -> list[SequenceResult]:
    if not sequences:
        raise LongtrackError(f"{dataset}: no sequences to score")
    return [read_sequence_results(dataset, tracker_dir, s)
            for s in _progress(sequences, f"reading {Path(tracker_dir).name}", progress)]


@contextlib.contextmanager
def _about(seq: Sequence):
    """Name the sequence in an error raised while scoring it."""
    try:
        yield
    except LongtrackError as exc:
        if seq.name in str(exc):
            raise
        raise LongtrackError(f"sequence {seq.name}: {exc}") from None


def _check_dense(seq: Sequence) -> None:
    if not seq.labelled.all():
        raise LongtrackError(f"{seq.name}: only {int(seq.labelled.sum())} of {len(seq)} frames are "
                             "annotated; this split is scored by the benchmark's server")


def score_ope(dataset, sequences, results, convention: str | None = None,
              lsm: bool = False, iou_threshold: float = 0.5) -> dict:
    """OPE scores (see the module docstring) of already-read results."""
    convention = convention or DEFAULT_CONVENTION.get(dataset, "lasot")
    per_sequence, events, counts, trajectories = {}, [], [], []
    for seq in sequences:
        _check_dense(seq)
    if convention == "lasot":  # the common case, vectorised over all sequences at once
        curves = ope.lasot_curves_many([r.boxes for r in results], [s.boxes for s in sequences],
                                       [s.absent for s in sequences])
    else:
        curves = []
        for seq, res in zip(sequences, results):
            with _about(seq):
                curves.append(ope.sequence_curves(res.boxes, seq.boxes, seq.absent, convention))
    for seq, res, c in zip(sequences, results, curves):
        with _about(seq):
            s = c.scores()
            entry = {k: s[k] for k in ("success_auc", "precision", "norm_precision", "success_rate_50")}
            if lsm:
                entry["lsm"] = tlp.lsm(res.boxes, seq.boxes, seq.absent)
            per_sequence[seq.name] = entry
            n = len(seq)
            boxes = res.boxes[:n]
            present = None if res.present is None else res.present[:n]
            if seq.absent.any():
                events += redetection.reappearances(boxes, seq.boxes, seq.absent, present)
            if present is not None:
                counts.append(oxuva.presence_counts(present, boxes, seq.boxes, seq.absent, iou_threshold,
                                                    seq.image_size))
            if res.scores is not None:
                pred_empty = np.zeros(n, dtype=bool) if present is None else ~present
                pred_empty[0] = True  # frame 0 is the initialization frame, as VOT's marker
                conf = res.scores[:n].copy()
                conf[0] = 0.0
                trajectories.append([votlt.Trajectory(boxes, pred_empty, conf, seq.boxes, seq.absent,
                                                      seq.image_size)])
    mean = ope.average_curves(curves)
    out = {k: v for k, v in mean.scores().items()}
    out["convention"] = convention
    if lsm:
        out["lsm"] = float(np.mean([e["lsm"] for e in per_sequence.values()]))
    out["per_sequence"] = per_sequence
    out["curves"] = {"success_x": mean.success_x, "success": mean.success,
                     "precision_x": mean.precision_x, "precision": mean.precision,
                     "norm_precision_x": mean.norm_precision_x, "norm_precision": mean.norm_precision}
    if events or any(s.absent.any() for s in sequences):
        out["redetection"] = redetection.summarize(events)
    if len(counts) == len(sequences):
        out["presence"] = oxuva.quality_metrics(oxuva.sum_counts(counts))
    if len(trajectories) == len(sequences):
        lt, _ = votlt.score_trajectories(trajectories, bounded=all(s.image_size for s in sequences))
        out["longterm"] = lt.as_dict()
    # Sequences without the value files those scores need: the scores are then left out, which
    # ``longtrack score`` says rather than silently dropping their columns.
    missing = {"confidence": len(sequences) - len(trajectories), "present": len(sequences) - len(counts)}
    if any(missing.values()):
        out["missing_values"] = missing
    return out


def score_got10k(sequences, results) -> dict:
    per_sequence, pooled, times = {}, [], []
    for seq, res in zip(sequences, results):
        with _about(seq):
            _check_dense(seq)
            ious = got10k.sequence_ious([r.boxes for r in res.runs], seq.boxes,
                                        seq.attributes.get("cover"), seq.image_size)
            pooled.append(ious)
            per_sequence[seq.name] = got10k.scores_from_ious(ious).as_dict()
            times += [r.times for r in res.runs if r.times is not None]
    total = got10k.pooled_scores(pooled)
    out = total.as_dict()
    out["speed_fps"] = got10k.speed_fps(np.concatenate(times)) if times else -1.0
    out["per_sequence"] = per_sequence
    out["curves"] = {"success_x": got10k.SUCCESS_THRESHOLDS_101, "success": total.success_curve}
    return out


def _assessment_file(tracker_dir: Path, iou_threshold: float) -> Path:
    return Path(tracker_dir) / ("iou_" + f"{iou_threshold:g}".replace(".", "d") + ".json")


def has_assessment(tracker_dir, iou_threshold: float = 0.5) -> bool:
    """True when ``tracker_dir`` holds an official OxUvA per-track assessment (``iou_0d5.json``)."""
    return _assessment_file(tracker_dir, iou_threshold).is_file()


def score_oxuva(sequences, tracker_dir, iou_threshold: float = 0.5, progress=None) -> dict:
    """From the prediction CSVs, or -- when the folder holds none for these tracks -- from an
    official per-track assessment file (published results: ``iou_0d5.json``)."""
    tracker_dir = Path(tracker_dir)
    have_csv = bool(sequences) and all((tracker_dir / f"{s.name}.csv").is_file() for s in sequences)
    if not have_csv and has_assessment(tracker_dir, iou_threshold):
        per_track = oxuva.assessment_from_json(_assessment_file(tracker_dir, iou_threshold))
        per_sequence = {f"{v}_{o}": c for (v, o), c in sorted(per_track.items())}
    else:
        results = _read_all("oxuva", sequences, tracker_dir, progress)
        per_sequence = {}
        for seq, res in zip(sequences, results):
            with _about(seq):
                scored = seq.labelled.copy()
                scored[:1] = False
                gt_rel = np.asarray(seq.meta["relative_boxes"], dtype=np.float64)
                per_sequence[seq.name] = oxuva.assess_frames(
                    ~seq.absent[scored], gt_rel[scored], res.present[scored],
                    res.relative_boxes[scored], iou_threshold, iou_fn=oxuva_iou_clip)
    out = oxuva.quality_metrics(oxuva.sum_counts(per_sequence.values()))
    out["iou_threshold"] = iou_threshold
    out["per_sequence"] = per_sequence
    return out


def _axis_aligned(polygons: np.ndarray) -> bool:
    """True when every polygon is an axis-aligned rectangle (corners in VOT's order)."""
    p = polygons[~np.isnan(polygons).any(axis=1)]
    xs, ys = p[:, 0::2], p[:, 1::2]
    return bool(np.all((xs[:, 0] == xs[:, 3]) & (xs[:, 1] == xs[:, 2]) & (ys[:, 0] == ys[:, 1])
                       & (ys[:, 2] == ys[:, 3])))


def score_votlt(sequences, results, bounded: bool = True) -> dict:
    trajectories = []
    for seq, res in zip(sequences, results):
        with _about(seq):
            if bounded and seq.image_size is None:
                raise LongtrackError(f"{seq.name}: image size unknown (needed for the bounded overlap)")
            trajectories.append([votlt.Trajectory(r.boxes, ~r.present, r.scores, seq.boxes, seq.absent,
                                                  seq.image_size) for r in res.runs])
    lt, details = votlt.score_trajectories(trajectories, bounded=bounded)
    out = lt.as_dict()
    rotated = [s.name for s in sequences if s.polygons is not None and not _axis_aligned(s.polygons)]
    if rotated:
        # The toolkit rasterises polygons; we overlap their bounding boxes. Say so, loudly.
        note = (f"{len(rotated)} sequence(s) with rotated polygon ground truth (e.g. {rotated[0]}) "
                "were scored with the polygons' bounding boxes, not vot-toolkit's polygon raster")
        warnings.warn(note, stacklevel=2)
        out["note"] = note
    out["threshold_index"] = lt.threshold_index
    out["per_sequence"] = {
        seq.name: {"precision": float(pr[lt.threshold_index]), "recall": float(re[lt.threshold_index]),
                   "counts_T_F_M_H_N": [float(v) for v in counts]}
        for seq, (pr, re, counts) in zip(sequences, details)}
    out["curves"] = {"thresholds": lt.thresholds, "precision": lt.precision_curve,
                     "recall": lt.recall_curve, "f_score": lt.f_curve}
    return out


def score_results(dataset: str, sequences: list[Sequence], tracker_dir, *, convention: str | None = None,
                  iou_threshold: float = 0.5, bounded: bool = True, progress: bool | None = None) -> dict:
    """Score the results in ``tracker_dir`` (one tracker, the benchmark's own layout).

    Args:
        dataset: a dataset name (``PROTOCOLS``).
        sequences: the ground truth, from ``longtrack.datasets.load_dataset``; every mean uses
            this order.
        tracker_dir: the tracker's result folder.
        convention: OPE only: ``lasot``, ``otb``, ``got10k_head`` or ``trackingnet`` (default:
            the benchmark's own, ``DEFAULT_CONVENTION``).
        iou_threshold: OxUvA's IoU threshold (and of the presence scores of OPE runs).
        bounded: VOT-LT: clip overlaps to the image (the toolkit's default).
    Returns a JSON-ready dict (numpy arrays for curves; see ``report.to_json``).
    """
    protocol = protocol_of(dataset)
    if not Path(tracker_dir).is_dir():
        raise LongtrackError(f"result folder {tracker_dir} does not exist")
    try:
        return _score(dataset, protocol, sequences, tracker_dir, convention, iou_threshold, bounded, progress)
    except LongtrackError as exc:
        if str(tracker_dir) in str(exc):
            raise
        raise LongtrackError(f"{tracker_dir}: {exc}") from None


def _score(dataset, protocol, sequences, tracker_dir, convention, iou_threshold, bounded, progress) -> dict:
    if protocol == "oxuva":
        return score_oxuva(sequences, tracker_dir, iou_threshold, progress)
    results = _read_all(dataset, sequences, tracker_dir, progress)
    if protocol == "got10k":
        return score_got10k(sequences, results)
    if protocol == "votlt":
        return score_votlt(sequences, results, bounded)
    return score_ope(dataset, sequences, results, convention, lsm=(protocol == "tlp"),
                     iou_threshold=iou_threshold)
