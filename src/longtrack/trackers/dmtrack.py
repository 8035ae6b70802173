"""DMTrack online (Zhang et al., CVPR 2021): one-shot detection of the query in the whole frame, then
MOT-style association of ALL candidates; the target is the tracklet holding its identity.

Per frame: rescale the frame (long side <= 736, short <= 512 at paper size), run the detector with
the dynamic weights generated once from the first frame's box, keep the top-k candidates after NMS,
read each candidate's re-id embedding, and link candidates into tracklets (``association.py``:
appearance + Kalman gate, then IoU; Hungarian). Then:

* the target's tracklet matched this frame -> its candidate is the answer;
* otherwise (lost, or re-entering elsewhere): a candidate whose embedding matches the template or
  the gallery of confident past target embeddings (cosine >= ``reid_threshold``) and whose score is
  at least ``recover_score`` re-takes the target identity (its tracklet becomes the target's);
* otherwise the target is absent: its last box is reported with ``present=False``.

Confidence = the detector score of the candidate given as the answer (0 when none); present iff it
is >= ``presence_threshold``. ``association`` selects the paper's ablation (Table 6): ``"top1"``
(detector top-1, the authors' public GlobalSearch tracker), ``"position"`` (top-k re-ranked by
distance to the last position), ``"reid"`` (the full method, default).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch

from ..boxes import with_min_side, xyxy_to_xywh
from ..contract import BaseTracker, Box, Prediction
from ..errors import LongtrackError
from ..models.dmtrack import DMTrack, DMTrackConfig, preprocess_image
from ..models.dmtrack.head import decode_detections
from ..models.dmtrack.reid import sample_embeddings
from .association import Associator
from .network import build_network
from .options import resolve_option

__all__ = ["DMTrackTracker", "DMTrackState", "ASSOCIATIONS", "DEFAULTS", "CALIBRATED", "load_dmtrack"]

ASSOCIATIONS = ("reid", "position", "top1")
# Thresholds set before training (the paper gives none); a weights file may carry calibrated ones.
DEFAULTS = {"reid_threshold": 0.6, "recover_score": 0.2, "presence_threshold": 0.25, "gallery_score": 0.5}
MIN_REPORTED_SIDE = 1.0  # pixels: a detection collapsed to a line is still reported as a box
CALIBRATED = tuple(DEFAULTS)


@dataclass
class DMTrackState:
    """Everything the tracker remembers between frames."""

    conditions: list  # per level: the dynamic weights generated from the first frame
    template_embedding: np.ndarray | None  # [D] unit re-id vector of the first frame's target
    box: np.ndarray  # [4] xyxy, the last reported box (frame pixels)
    gallery: deque = field(default_factory=lambda: deque(maxlen=32))  # confident past target embeddings
    target_id: int | None = None  # tracklet holding the target identity
    frame_index: int = 0
    score: float = 1.0
    frames_since_seen: int = 0


class DMTrackTracker(BaseTracker):
    """``DMTrackTracker(weights=None, device="cpu", **options)``.

    Args:
        weights: a longtrack weights file (``longtrack train`` or ``longtrack convert`` of the authors'
            GlobalSearch checkpoint); None builds a randomly initialised small network and warns.
        size: ``"paper"`` / ``"small"``: that configuration at random initialisation (for timing).
        association: ``"reid"`` (default), ``"position"`` or ``"top1"`` (see the module docstring).
        top_k: candidates kept per frame after NMS (ours: 10; the paper does not give k).
        min_score: candidates below this detector score are ignored.
        reid_threshold: cosine similarity to template/gallery needed to recover the target.
        recover_score: detector score needed to recover the target.
        presence_threshold: ``present`` iff confidence >= this.
        gallery_score: a target candidate this confident adds its embedding to the gallery every
            ``gallery_interval`` frames.
        These four (``CALIBRATED``): None takes the weights file's ``tracker`` section (values
        calibrated on training data, the synthetic val split or real-train, by ``longtrack calibrate dmtrack``), else
        ``DEFAULTS``.
        position_sigma: ``"position"``: Gaussian width of the distance penalty, in target sizes.
        runtime: ``"torch"`` (default) or ``"onnx"``: the dense stages run under onnxruntime
            (``longtrack.export.dmtrack`` says which part runs where; CPU only).
        onnx_dir: with ``runtime="onnx"``, a ``longtrack export`` folder of these weights; None
            exports into the cache on first use.
    """

    name = "dmtrack"

    def __init__(self, weights: str | None = None, device: str = "cpu", *, size: str | None = None,
                 association: str = "reid", top_k: int = 10, min_score: float = 0.05,
                 reid_threshold: float | None = None, recover_score: float | None = None,
                 presence_threshold: float | None = None, gallery_score: float | None = None,
                 gallery_interval: int = 10, position_sigma: float = 2.0, max_age: int = 30,
                 runtime: str = "torch", onnx_dir: str | None = None):
        super().__init__()
        if association not in ASSOCIATIONS:
            raise LongtrackError(f"dmtrack: association must be one of {', '.join(ASSOCIATIONS)}, got {association!r}")
        if top_k < 1 or gallery_interval < 1:
            raise LongtrackError("dmtrack: top_k and gallery_interval must be >= 1")
        self.device = torch.device(device)
        model, loaded = build_network("dmtrack", DMTrack, DMTrackConfig, weights, size)
        if runtime != "torch":
            from ..export import check_runtime, onnx_network

            check_runtime(self.name, runtime, self.device)
            model = onnx_network(self.name, model, onnx_dir)
        self.model = model.to(self.device).eval()
        self.config: DMTrackConfig = self.model.config
        self.association = association
        self.top_k, self.min_score = int(top_k), float(min_score)
        given = {"reid_threshold": reid_threshold, "recover_score": recover_score,
                 "presence_threshold": presence_threshold, "gallery_score": gallery_score}
        for key, value in given.items():  # explicit > the weights' calibration > the defaults
            setattr(self, key, float(resolve_option(key, value, loaded, DEFAULTS[key])))
        self.gallery_interval = int(gallery_interval)
        self.position_sigma = float(position_sigma)
        self.max_age = int(max_age)
        self.state: DMTrackState | None = None
        self.associator: Associator | None = None

    # -- network steps -----------------------------------------------------------------------------
    def _features(self, frame: np.ndarray):
        image, scale, hw = preprocess_image(frame, self.config, self.device)
        return self.model.features(self.model.normalise(image)), scale, hw

    def _embeddings(self, feats, boxes_xyxy: np.ndarray, scale: float) -> np.ndarray | None:
        """Unit re-id vectors ``[N, D]`` at the centres of frame-pixel boxes (None without re-id)."""
        embedding = self.model.embed(feats)
        if embedding is None:
            return None
        centres = torch.as_tensor((boxes_xyxy[:, :2] + boxes_xyxy[:, 2:]) / 2 * scale, dtype=torch.float32,
                                  device=self.device)
        index = torch.zeros(len(centres), dtype=torch.long, device=self.device)
        return sample_embeddings(embedding, index, centres).cpu().double().numpy()

    @torch.inference_mode()
    def detect(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The query's candidates in ``frame``: ``(boxes [K, 4] xyxy frame pixels, scores [K],
        embeddings [K, D] or None)``, best first, ``K <= top_k``, scores >= ``min_score``."""
        feats, scale, hw = self._features(frame)
        levels = self.model.detect(feats["pyramid"], self.state.conditions)
        cfg = self.config
        boxes, scores, labels = decode_detections(
            [lv["cls_score"][0] for lv in levels], [lv["bbox_pred"][0] for lv in levels],
            [lv["centerness"][0] for lv in levels], cfg.strides, hw, scale, nms_pre=cfg.nms_pre,
            score_threshold=cfg.score_threshold, nms_iou=cfg.nms_iou, max_per_image=cfg.max_per_image,
            classes=(cfg.target_class,), min_score=self.min_score)
        boxes, scores = boxes.cpu().double().numpy(), scores.cpu().double().numpy()
        non_empty = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # clipped to a line at a border
        boxes, scores = boxes[non_empty][: self.top_k], scores[non_empty][: self.top_k]
        return boxes, scores, self._embeddings(feats, boxes, scale) if len(boxes) else None

    # -- the Tracker protocol ---------------------------------------------------------------------
    @torch.inference_mode()
    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        x, y, w, h = box
        xyxy = np.array([x, y, x + w, y + h], dtype=np.float64)
        feats, scale, _ = self._features(frame)
        rois = torch.tensor([[0.0, *(xyxy * scale)]], dtype=torch.float32, device=self.device)
        conditions = self.model.query(feats["pyramid"], rois)["conditions"]
        embedding = self._embeddings(feats, xyxy[None], scale)
        template = None if embedding is None else embedding[0]
        self.state = DMTrackState(conditions=conditions, template_embedding=template, box=xyxy)
        self.associator = Associator(max_age=self.max_age)
        self.state.target_id = self.associator.start(xyxy, 1.0, template, frame=0).track_id

    def _track(self, frame: np.ndarray) -> Prediction:
        state = self.state
        state.frame_index += 1
        boxes, scores, embeddings = self.detect(frame)
        if self.association == "top1":
            choice = 0 if len(boxes) else None
        elif self.association == "position":
            choice = self._nearest_candidate(boxes, scores)
        else:
            choice = self._associate(boxes, scores, embeddings)
        if choice is None:
            state.score, state.frames_since_seen = 0.0, state.frames_since_seen + 1
            return Prediction(with_min_side(xyxy_to_xywh(state.box), MIN_REPORTED_SIDE), 0.0, False)
        state.box, state.score, state.frames_since_seen = boxes[choice], float(scores[choice]), 0
        box = with_min_side(xyxy_to_xywh(state.box), MIN_REPORTED_SIDE)
        return Prediction(box, state.score, state.score >= self.presence_threshold)

    # -- target selection ----------------------------------------------------------------------------
    def _nearest_candidate(self, boxes: np.ndarray, scores: np.ndarray) -> int | None:
        """Position constraint: score x Gaussian of the distance to the last box (in its sizes)."""
        if len(boxes) == 0:
            return None
        last = self.state.box
        size = np.sqrt(max((last[2] - last[0]) * (last[3] - last[1]), 1.0))
        shift = ((boxes[:, :2] + boxes[:, 2:]) / 2 - (last[:2] + last[2:]) / 2) / size
        return int(np.argmax(scores * np.exp(-np.sum(shift ** 2, axis=1) / (2 * self.position_sigma ** 2))))

    def _similarity(self, embedding: np.ndarray | None) -> float:
        """Cosine similarity to the target: the best over the template and the gallery."""
        state = self.state
        if embedding is None or state.template_embedding is None:
            return 0.0
        references = [state.template_embedding, *state.gallery]
        return float(np.max(np.stack(references) @ embedding))

    def _associate(self, boxes: np.ndarray, scores: np.ndarray, embeddings: np.ndarray | None) -> int | None:
        state = self.state
        links = self.associator.step(boxes, scores, embeddings, state.frame_index)
        by_track = {track.track_id: d for d, track in links.items()}
        choice = by_track.get(state.target_id)
        if choice is None:  # lost: re-identify among all candidates
            similarity = [self._similarity(None if embeddings is None else embeddings[d]) for d in range(len(boxes))]
            eligible = [d for d in range(len(boxes))
                        if similarity[d] >= self.reid_threshold and scores[d] >= self.recover_score]
            if embeddings is None:  # no re-id branch (the authors' checkpoint): the best confident candidate
                eligible = [d for d in range(len(boxes)) if scores[d] >= self.recover_score]
            if not eligible:  # absent: the last box is reported (a Kalman extrapolation drifts away)
                return None
            choice = max(eligible, key=lambda d: similarity[d] * scores[d] if embeddings is not None else scores[d])
            state.target_id = links[choice].track_id
        if (embeddings is not None and scores[choice] >= self.gallery_score
                and state.frame_index % self.gallery_interval == 0):
            state.gallery.append(embeddings[choice])
        return choice


def load_dmtrack(weights: str | None, size: str | None = None) -> DMTrack:
    """The network a tracker runs: from a weights file, or random at ``size`` / small with a
    warning (see :func:`~.network.build_network`)."""
    return build_network("dmtrack", DMTrack, DMTrackConfig, weights, size)[0]
