"""GOT-10k average overlap (AO) and success rates (SR0.5, SR0.75), as the got10k toolkit scores a
validation run (``ExperimentGOT10k.report``, got10k 0.1.3).

Per sequence and repetition: ``rect_iou(boxes[1:], anno[1:], bound=(W, H))`` (both boxes clipped
to the image the toolkit's way), frames with ``cover.label == 0`` removed (frame 1 is never
scored); the IoUs of all repetitions and all sequences are concatenated (frame-pooled, not a mean
of sequence means). AO = mean IoU, SRt = mean(IoU > t); the success curve has 101 thresholds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LongtrackError
from .overlaps import got10k_rect_iou

SUCCESS_THRESHOLDS_101 = np.linspace(0, 1, 101)


def sequence_ious(repetitions: list[np.ndarray], gt_xywh, cover, image_size=None) -> np.ndarray:
    """Pooled IoUs of one sequence: every repetition's frames 2..N with ``cover > 0``.

    Args:
        repetitions: one ``(N, 4)`` box array per run of the tracker.
        gt_xywh: ``(N, 4)`` ground truth.
        cover: ``(N,)`` visible-fraction bins (0 = not visible); None scores every frame.
        image_size: ``(W, H)`` clipping bound, or None for no clipping.
    Returns:
        ``(R * K,)`` IoUs, repetition after repetition.
    """
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    keep = np.ones(len(gt) - 1, dtype=bool) if cover is None else np.asarray(cover)[1:] > 0
    if len(keep) != len(gt) - 1:
        raise LongtrackError(f"cover labels have {len(keep) + 1} frames, ground truth {len(gt)}")
    if not repetitions:
        raise LongtrackError("no result repetitions to score")
    out = []
    for boxes in repetitions:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if boxes.shape != gt.shape:
            raise LongtrackError(f"{len(boxes)} predicted boxes for {len(gt)} frames")
        out.append(got10k_rect_iou(boxes[1:], gt[1:], bound=image_size)[keep])
    return np.concatenate(out)


@dataclass(frozen=True)
class Got10kScores:
    ao: float
    sr50: float
    sr75: float
    num_scored_frames: int
    success_curve: np.ndarray  # (101,) at SUCCESS_THRESHOLDS_101

    def as_dict(self) -> dict:
        return {"ao": self.ao, "sr50": self.sr50, "sr75": self.sr75,
                "num_scored_frames": self.num_scored_frames}


def scores_from_ious(ious: np.ndarray) -> Got10kScores:
    """AO, SR0.5, SR0.75 and the 101-point success curve of a pooled IoU array."""
    ious = np.asarray(ious, dtype=np.float64).reshape(-1)
    if len(ious) == 0:
        raise LongtrackError("no scored frames (every frame after the first has cover 0)")
    return Got10kScores(
        ao=float(np.mean(ious)),
        sr50=float(np.mean(ious > 0.5)),
        sr75=float(np.mean(ious > 0.75)),
        num_scored_frames=int(len(ious)),
        success_curve=np.mean(np.greater(ious[:, None], SUCCESS_THRESHOLDS_101[None, :]), axis=0))


def pooled_scores(per_sequence_ious: list[np.ndarray]) -> Got10kScores:
    """Frame-pooled scores over sequences (the toolkit's ``overall``)."""
    if not per_sequence_ious:
        raise LongtrackError("no sequences to score")
    return scores_from_ious(np.concatenate(per_sequence_ious))


def speed_fps(times: np.ndarray) -> float:
    """The toolkit's speed: mean of ``1 / t`` over positive, non-NaN times; -1 if none."""
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    t = t[~np.isnan(t)]
    t = t[t > 0]
    return float(np.mean(1.0 / t)) if len(t) else -1.0
