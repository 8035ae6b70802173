"""MOT-style association of detections into tracklets (JDE / FairMOT's scheme), for DMTrack.

Every frame, each tracklet's Kalman filter predicts its box; then

1. appearance: cost = cosine distance between the tracklet's smoothed embedding and each
   detection's, fused with the motion cost (``lambda_motion`` x normalised Mahalanobis distance);
   pairs outside the Kalman 95% gate or above ``max_appearance_cost`` are forbidden; Hungarian;
2. IoU: the still unmatched detections and recently seen tracklets, cost ``1 - IoU`` (at most
   ``max_iou_cost``); Hungarian;
3. unmatched detections start tracklets; tracklets unseen for ``max_age`` frames are dropped.

Without embeddings (a detector without re-id) stage 1 is skipped. Boxes are ``xyxy`` numpy arrays
in frame pixels; embeddings are unit vectors.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from .kalman import CHI2_95, KalmanBoxFilter, xyah_to_xyxy, xyxy_to_xyah

__all__ = ["Tracklet", "Associator", "iou_matrix", "linear_assignment"]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[N, 4]`` x ``[M, 4]`` xyxy -> ``[N, M]`` IoU."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def linear_assignment(cost: np.ndarray, max_cost: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian matching keeping only pairs with ``cost <= max_cost``.

    Returns ``(matches [(row, col)], unmatched rows, unmatched cols)``."""
    rows, cols = cost.shape
    if rows == 0 or cols == 0:
        return [], list(range(rows)), list(range(cols))
    bounded = np.where(np.isfinite(cost), np.minimum(cost, max_cost + 1.0), max_cost + 1.0)
    r, c = linear_sum_assignment(bounded)
    matches = [(int(i), int(j)) for i, j in zip(r, c) if cost[i, j] <= max_cost]
    matched_r, matched_c = {i for i, _ in matches}, {j for _, j in matches}
    return matches, [i for i in range(rows) if i not in matched_r], [j for j in range(cols) if j not in matched_c]


@dataclass
class Tracklet:
    """One object's track: Kalman state, smoothed appearance, and its latest detection."""

    track_id: int
    mean: np.ndarray  # [8] Kalman state (cx, cy, a, h, velocities)
    covariance: np.ndarray  # [8, 8]
    box: np.ndarray  # [4] xyxy of the latest matched detection
    score: float  # detector score of the latest matched detection
    embedding: np.ndarray | None  # [D] unit vector, exponential moving average
    hits: int = 1  # matched detections so far
    time_since_update: int = 0  # frames since the latest match (0: matched this frame)
    history: list[int] = field(default_factory=list)  # frames at which it was matched

    @property
    def predicted_box(self) -> np.ndarray:
        return xyah_to_xyxy(self.mean[:4])


class Associator:
    """Holds the tracklets of all candidates; ``step(boxes, scores, embeddings, frame)`` links a frame.

    Args:
        embedding_momentum: weight of the old embedding in the moving average (JDE: 0.9).
        lambda_motion: share of the motion cost in the fused stage-1 cost (JDE: 0.98 appearance / 0.02).
        max_appearance_cost, max_iou_cost: stage thresholds (JDE: 0.4 cosine distance (FairMOT 0.4),
            IoU distance 0.5).
        max_age: frames a tracklet survives unmatched.
    """

    def __init__(self, embedding_momentum: float = 0.9, lambda_motion: float = 0.02, max_appearance_cost: float = 0.4,
                 max_iou_cost: float = 0.5, max_age: int = 30, iou_max_age: int = 1):
        self.kalman = KalmanBoxFilter()
        self.momentum = float(embedding_momentum)
        self.lambda_motion = float(lambda_motion)
        self.max_appearance_cost = float(max_appearance_cost)
        self.max_iou_cost = float(max_iou_cost)
        self.max_age = int(max_age)
        self.iou_max_age = int(iou_max_age)
        self.tracklets: list[Tracklet] = []
        self._next_id = 0

    def start(self, box: np.ndarray, score: float, embedding: np.ndarray | None, frame: int) -> Tracklet:
        mean, cov = self.kalman.initiate(xyxy_to_xyah(box))
        track = Tracklet(self._next_id, mean, cov, np.asarray(box, dtype=np.float64), float(score),
                         None if embedding is None else np.asarray(embedding, dtype=np.float64), history=[frame])
        self._next_id += 1
        self.tracklets.append(track)
        return track

    def _update(self, track: Tracklet, box: np.ndarray, score: float, embedding: np.ndarray | None, frame: int) -> None:
        track.mean, track.covariance = self.kalman.update(track.mean, track.covariance, xyxy_to_xyah(box))
        track.box, track.score = np.asarray(box, dtype=np.float64), float(score)
        if embedding is not None:
            if track.embedding is None:
                track.embedding = np.asarray(embedding, dtype=np.float64)
            else:
                mixed = self.momentum * track.embedding + (1 - self.momentum) * embedding
                track.embedding = mixed / max(np.linalg.norm(mixed), 1e-12)
        track.hits += 1
        track.time_since_update = 0
        track.history.append(frame)

    def _appearance_cost(self, tracks: list[Tracklet], boxes: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        cost = np.full((len(tracks), len(boxes)), np.inf)
        measurements = xyxy_to_xyah(boxes)
        gate = CHI2_95[4]
        for i, track in enumerate(tracks):
            if track.embedding is None:
                continue
            appearance = 1.0 - embeddings @ track.embedding
            motion = self.kalman.gating_distance(track.mean, track.covariance, measurements)
            fused = (1 - self.lambda_motion) * appearance + self.lambda_motion * motion / gate
            cost[i] = np.where(motion > gate, np.inf, fused)
        return cost

    def step(self, boxes: np.ndarray, scores: np.ndarray, embeddings: np.ndarray | None, frame: int
             ) -> dict[int, Tracklet]:
        """Link this frame's detections (``boxes [N, 4]`` xyxy, ``scores [N]``, ``embeddings [N, D]`` or
        None). Returns ``{detection index: its tracklet}`` for every detection (new ones included)."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        for track in self.tracklets:
            track.mean, track.covariance = self.kalman.predict(track.mean, track.covariance)
            track.time_since_update += 1
        assigned: dict[int, Tracklet] = {}
        remaining_tracks = list(range(len(self.tracklets)))
        remaining_dets = list(range(len(boxes)))
        if embeddings is not None and len(boxes):
            cost = self._appearance_cost(self.tracklets, boxes, embeddings)
            matches, remaining_tracks, remaining_dets = linear_assignment(cost, self.max_appearance_cost)
            for t, d in matches:
                assigned[d] = self.tracklets[t]
        recent = [t for t in remaining_tracks if self.tracklets[t].time_since_update <= self.iou_max_age]
        if recent and remaining_dets:
            predicted = np.stack([self.tracklets[t].predicted_box for t in recent])
            cost = 1.0 - iou_matrix(predicted, boxes[remaining_dets])
            matches, _, unmatched = linear_assignment(cost, self.max_iou_cost)
            for r, c in matches:
                assigned[remaining_dets[c]] = self.tracklets[recent[r]]
            remaining_dets = [remaining_dets[c] for c in unmatched]
        for d, track in assigned.items():
            self._update(track, boxes[d], float(scores[d]), None if embeddings is None else embeddings[d], frame)
        for d in remaining_dets:
            assigned[d] = self.start(boxes[d], float(scores[d]), None if embeddings is None else embeddings[d], frame)
        self.tracklets = [t for t in self.tracklets if t.time_since_update <= self.max_age]
        return assigned
