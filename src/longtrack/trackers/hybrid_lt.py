"""``hybrid-lt:<local tracker>``: the project's long-term tracker, composed from the parts of
the five methods (docs/methods/hybrid-lt.md says which part comes from where).

Per frame:

* **local search**: the wrapped local tracker (``hybrid-lt:csrt`` by default, ``hybrid-lt:nanotrack``
  when NanoTrack's files are given) follows the target. It is *fine* when its score reaches
  ``local_threshold`` (NanoTrack, whose ``presence_threshold`` attribute marks a score scale) or
  when it says "ok" (the OpenCV trackers).
* **check frames** (every ``check_interval`` frames, and every frame where the local tracker is
  not fine): one pass of GlobalTrack's backbone over the whole frame, then

  - **verification** of the local box (TANet's switching with verification): its QG-RCNN score
    against every template, static and dynamic (the best is the frame's confidence), must reach
    ``verify_threshold`` and, with ``reid``, its embedding's cosine ``reid_threshold``;
  - **global search** (GlobalTrack): QG-RPN + QG-RCNN with the first-frame query give the
    candidates (the ``max_candidates`` best after the RCNN NMS), each rescored against every
    template as the local box is;
  - **re-id association** (DMTrack): among the candidates scoring at least
    ``candidate_threshold``, the one whose appearance embedding (its RoI feature, unit length) is
    closest in cosine to the templates' wins, not simply the highest-scoring one; it must reach
    ``reid_threshold``;
  - **temporal context** (GTELT's idea of carrying candidates across frames): the best candidate
    of each check is remembered, accepted or not; one that overlaps (IoU >= 0.5) the previous
    check's best (at most ``2 x check_interval`` frames before) needs only ``context_threshold``
    instead of ``accept_threshold``: a candidate found again is believed sooner;
  - **switching**: a local tracker that is fine and has a score scale (NanoTrack) is trusted:
    the global score of the true target varies far more from one target to another than
    NanoTrack's own score does (on real-train person clips GlobalTrack scores the target below
    look-alikes). One that only says "ok" (CSRT) is trusted until its box fails ``patience``
    checks in a row. A trusted but unverified box is replaced only by a picked candidate
    elsewhere (IoU < 0.3) that beats its score by ``switch_margin``; an untrusted one by an
    accepted candidate elsewhere (IoU < 0.3) or scoring higher (the local tracker restarts
    there). Untrusted with no accepted candidate after ``patience`` failed checks, the tracker is
    *lost*: absent, and every frame is checked.
* **dynamic templates** (ProContEXT): on a check frame whose local box scores at least
  ``update_threshold``, at most every ``update_interval`` frames, the box's query encoding joins
  the templates (the ``max_dynamic`` newest are kept; the first frame's is never dropped).
* **presence**: present iff the answer is trusted and the tracker is not lost; the confidence
  is the last check's global score, moved to the side of ``presence_threshold`` that says so.

Defaults are tuned on training data only: the thresholds on GlobalTrack's score start from the
shipped GlobalTrack weights' presence threshold (real-train + lt-real); ``local_threshold`` (0.8)
and ``patience`` (8) were chosen on 6 real-train clips (docs/methods/hybrid-lt.md).
``global_search``, ``reid``, ``dynamic_templates`` and ``verify_switch`` switch the parts off for
the ablation table. ``last_phase`` is "global" on the frames where the local tracker is not fine
or the tracker is lost; a scheduled check of a fine local tracker counts as "local".
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..boxes import inclusive_xyxy_to_xywh, iou
from ..contract import MIN_BOX_SIDE, BaseTracker, Box, Prediction, Tracker
from ..errors import LongtrackError
from ..models.globaltrack import PreparedImage, QueryEncoding, prepare_image
from ..registry import DEFAULT_LOCAL_TRACKERS, get_tracker_spec
from .globaltrack import frame_rois, load_globaltrack
from .options import resolve_option

__all__ = ["HybridLongTermTracker", "HybridState", "Candidate"]

# Used when the GlobalTrack weights carry no tuned presence threshold.
FALLBACK_ACCEPT_THRESHOLD = 0.9
# A scored local tracker (NanoTrack) is trusted at this score: chosen from 0.8 / 0.9 / 0.978 (its
# presence threshold) on 6 real-train clips x 250 frames (docs/methods/hybrid-lt.md).
FINE_LOCAL_SCORE = 0.8


@dataclass
class Candidate:
    """A box found or checked on a check frame (frame pixels, xywh)."""

    box: Box
    score: float  # best QG-RCNN object probability over the templates
    similarity: float  # best cosine of its RoI embedding with the templates' (re-id)


@dataclass
class HybridState:
    """Everything the tracker remembers between frames (``initialize`` resets it)."""

    box: Box
    confidence: float = 1.0  # the last check's score of the reported box
    lost: bool = False
    failed_checks: int = 0  # consecutive checks that did not verify the target
    frame_index: int = 0
    last_update: int = 0  # frame of the newest dynamic template
    last_pick: Box | None = None  # the previous check's best candidate, accepted or not (temporal context)
    last_pick_frame: int = -1
    checks: int = 0
    switches: int = 0
    templates_added: int = 0
    dynamic: list[QueryEncoding] = field(default_factory=list)
    dynamic_embeddings: list[torch.Tensor] = field(default_factory=list)


class HybridLongTermTracker(BaseTracker):
    """``HybridLongTermTracker(weights=None, device="cpu", local_tracker="csrt", **options)``.

    Args:
        weights: GlobalTrack weights for global search and verification (default: the shipped
            ``globaltrack-real.pt``).
        local_tracker, local_weights, local_options: the registered local tracker and what its
            registry ``build`` gets (``hybrid-lt:nanotrack`` needs ``local_weights`` = NanoTrack's folder).
        check_interval: frames between checks while the local tracker is fine.
        max_candidates: global candidates kept after the RCNN NMS.
        accept_threshold: score a global candidate needs (default: the GlobalTrack weights' tuned
            presence threshold); ``context_threshold``: the same for one overlapping the previous
            pick; ``candidate_threshold``: the least score entering re-id association.
        verify_threshold: score that verifies the local box (default ``accept_threshold``).
        reid_threshold: cosine a picked candidate needs with the templates.
        switch_margin: how much a candidate must beat a verified local box by.
        patience: failed checks before the tracker says it is lost.
        update_threshold, update_interval, max_dynamic: dynamic templates.
        presence_threshold: confidence for ``present`` (default ``verify_threshold``).
        local_threshold: the local tracker's score that counts as fine, for trackers with a score
            scale (those with a ``presence_threshold`` attribute; default ``FINE_LOCAL_SCORE``).
        global_search, reid, dynamic_templates, verify_switch: the parts, for ablations
            (``verify_switch=False``: a trusted local box is never questioned; an untrusted one is
            replaced by the top-scoring candidate, >= ``candidate_threshold``, without re-id or
            the accept thresholds). ``reid=False`` also drops the cosine from verification.
    """

    name = "hybrid-lt"
    last_phase: str | None = None  # "local" or "global" (longtrack bench's per-phase FPS)

    def __init__(self, weights: str | None = None, device: str = "cpu", *,
                 local_tracker: str = DEFAULT_LOCAL_TRACKERS["hybrid-lt"], local_weights: str | None = None,
                 local_options: dict | None = None, check_interval: int = 5, max_candidates: int = 5,
                 accept_threshold: float | None = None, context_threshold: float = 0.5,
                 candidate_threshold: float = 0.3, verify_threshold: float | None = None,
                 reid_threshold: float = 0.5, switch_margin: float = 0.05, patience: int = 8,
                 update_threshold: float = 0.97, update_interval: int = 25, max_dynamic: int = 2,
                 presence_threshold: float | None = None, local_threshold: float | None = None,
                 global_search: bool = True, reid: bool = True, dynamic_templates: bool = True,
                 verify_switch: bool = True):
        super().__init__()
        if local_tracker.split(":")[0] in ("hybrid-lt", "tanet"):
            raise LongtrackError(f"hybrid-lt: the local tracker must be a plain local tracker, got {local_tracker!r}")
        if check_interval < 1 or max_candidates < 1 or patience < 1 or update_interval < 1 or max_dynamic < 0:
            raise LongtrackError("hybrid-lt: check_interval, max_candidates, patience and update_interval must be "
                                 ">= 1 and max_dynamic >= 0")
        self.name = f"hybrid-lt:{local_tracker}"
        self.device = torch.device(device)
        model, loaded = load_globaltrack(weights)
        self.model = model.to(self.device).eval()
        self.config = self.model.config
        # GlobalTrack's presence threshold tuned for these weights is where a candidate is the target
        self.accept_threshold = float(resolve_option("presence_threshold", accept_threshold, loaded,
                                                     FALLBACK_ACCEPT_THRESHOLD))
        self.verify_threshold = float(self.accept_threshold if verify_threshold is None else verify_threshold)
        self.presence_threshold = float(self.verify_threshold if presence_threshold is None else presence_threshold)
        for label, value in (("accept_threshold", self.accept_threshold), ("verify_threshold", self.verify_threshold),
                             ("presence_threshold", self.presence_threshold)):
            if not 0.0 < value <= 1.0:
                raise LongtrackError(f"hybrid-lt: {label} must be in (0, 1], got {value}")
        self.context_threshold, self.candidate_threshold = float(context_threshold), float(candidate_threshold)
        self.reid_threshold, self.switch_margin = float(reid_threshold), float(switch_margin)
        self.check_interval, self.max_candidates, self.patience = int(check_interval), int(max_candidates), int(patience)
        self.update_threshold, self.update_interval = float(update_threshold), int(update_interval)
        self.max_dynamic = int(max_dynamic) if dynamic_templates else 0
        self.global_search, self.reid, self.verify_switch = bool(global_search), bool(reid), bool(verify_switch)
        self.local_name, self.local_weights = local_tracker, local_weights
        self.local_options = dict(local_options or {})
        self.local: Tracker = self._new_local()  # bad local weights fail here, not on the first frame
        # NanoTrack's presence_threshold marks a score scale; the OpenCV trackers only say "ok"
        self.local_scored = getattr(self.local, "presence_threshold", None) is not None
        self.local_threshold = float(local_threshold if local_threshold is not None else FINE_LOCAL_SCORE)
        self.state: HybridState | None = None
        self._static: QueryEncoding | None = None
        self._static_embedding: torch.Tensor | None = None

    def _new_local(self) -> Tracker:
        spec = get_tracker_spec(self.local_name)
        return spec.build(weights=self.local_weights, device=str(self.device), **self.local_options)

    # -- network pieces ----------------------------------------------------------------------
    def _templates(self) -> list[QueryEncoding]:
        return [self._static, *self.state.dynamic]

    def _score(self, feats, rois: torch.Tensor) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
        """Each RoI's best QG-RCNN object probability and best re-id cosine over the templates,
        and the RoI features (the embeddings' source)."""
        roi_feats = self.model.bbox_roi_extractor(feats, rois)
        scores = []
        for query in self._templates():
            logits, _ = self.model.bbox_head(self.model.rcnn_modulator(roi_feats, query.rcnn_kernel))
            scores.append(torch.softmax(logits.float(), dim=1)[:, 1])
        embeddings = _unit(roi_feats)
        gallery = torch.cat([self._static_embedding, *self.state.dynamic_embeddings])
        similarity = (embeddings @ gallery.T).max(dim=1).values
        return (torch.stack(scores).max(dim=0).values.cpu().numpy(), similarity.cpu().numpy(), roi_feats)

    def _candidates(self, feats, image: PreparedImage) -> list[Candidate]:
        """Global search with the first-frame query, rescored against every template."""
        out = self.model.detect(feats, self._static, image.img_shape, image.scale_factor, with_nms=True)
        dets = out["detections"]
        if dets.numel() == 0:
            return []
        dets = dets[torch.argsort(dets[:, 4], descending=True)[: self.max_candidates]].float().cpu().numpy()
        boxes = [tuple(inclusive_xyxy_to_xywh(d[:4]).tolist()) for d in dets if np.isfinite(d).all()]
        boxes = [b for b in boxes if b[2] >= MIN_BOX_SIDE and b[3] >= MIN_BOX_SIDE]  # a local tracker restarts on it
        if not boxes:
            return []
        scores, similarity, _ = self._score(feats, frame_rois(boxes, image))
        return [Candidate(b, float(s), float(r)) for b, s, r in zip(boxes, scores, similarity)]

    # -- the Tracker protocol ---------------------------------------------------------------
    @torch.inference_mode()
    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        image = prepare_image(frame, self.config, self.device)
        feats = self.model.extract_features(image.tensor)
        rois = frame_rois([box], image)
        self._static = self.model.encode_query(feats, rois)
        self._static_embedding = _unit(self._static.rcnn_roi)
        self.local = self._new_local()
        self.local.initialize(frame, box)
        self.state = HybridState(box=box)

    @torch.inference_mode()
    def _track(self, frame: np.ndarray) -> Prediction:
        s = self.state
        s.frame_index += 1
        local = self.local.track(frame)
        fine = local.score >= self.local_threshold if self.local_scored else local.present
        if fine and not s.lost and s.frame_index % self.check_interval:
            self.last_phase = "local"
            s.box = local.box
            return Prediction(local.box, s.confidence, s.confidence >= self.presence_threshold)
        self.last_phase = "global" if (s.lost or not fine) else "local"
        return self._check(frame, local.box, fine)

    def _check(self, frame: np.ndarray, local_box: Box, fine: bool) -> Prediction:
        s = self.state
        s.checks += 1
        image = prepare_image(frame, self.config, self.device)
        feats = self.model.extract_features(image.tensor)
        score, similarity, roi_feats = self._score(feats, frame_rois([local_box], image))
        score, similarity = np.nan_to_num(score, nan=0.0), np.nan_to_num(similarity, nan=-1.0)
        own = Candidate(local_box, float(score[0]), float(similarity[0]))
        verified = own.score >= self.verify_threshold and (not self.reid or own.similarity >= self.reid_threshold)
        s.failed_checks = 0 if verified else s.failed_checks + 1
        # A fine scored local tracker is trusted (the global score of the true target varies from
        # one target to another far more than NanoTrack's does); an "ok"-only one until its box
        # fails `patience` checks in a row.
        trusted = verified or (fine and (self.local_scored or s.failed_checks < self.patience))
        pick = self._pick(self._candidates(feats, image)) if self.global_search else None
        switch = False
        if pick is not None:
            if trusted:
                switch = (self.verify_switch and not verified and iou(pick.box, own.box) < 0.3
                          and pick.score > own.score + self.switch_margin)
            else:
                switch = iou(pick.box, own.box) < 0.3 or pick.score > own.score
        if switch:
            self.local = self._new_local()
            self.local.initialize(frame, pick.box)
            s.switches += 1
            s.failed_checks = 0
            answer, trusted = pick, True
        else:
            answer = own
            if verified:
                self._maybe_add_template(feats, image, own, roi_feats)
        s.lost = not trusted and s.failed_checks >= self.patience
        s.box = answer.box
        present = trusted and not s.lost
        # the confidence is the global score, moved to the right side of the presence threshold
        threshold = self.presence_threshold
        s.confidence = max(answer.score, threshold) if present else min(answer.score, float(np.nextafter(threshold, 0.0)))
        return Prediction(answer.box, s.confidence, present)

    def _pick(self, candidates: list[Candidate]) -> Candidate | None:
        """Re-id association with temporal context (module docstring); None if none is accepted."""
        s = self.state
        pool = [c for c in candidates if c.score >= self.candidate_threshold]
        if not pool:
            return None
        if self.reid and self.verify_switch:
            best = max(pool, key=lambda c: c.similarity)
            if best.similarity < self.reid_threshold:
                return None
        else:
            best = max(pool, key=lambda c: c.score)
        linked = (s.last_pick is not None and s.frame_index - s.last_pick_frame <= 2 * self.check_interval
                  and iou(best.box, s.last_pick) >= 0.5)
        s.last_pick, s.last_pick_frame = best.box, s.frame_index
        need = self.context_threshold if linked else self.accept_threshold
        if not self.verify_switch:  # the plain switching rule: the top candidate, unverified
            need = self.candidate_threshold
        return best if best.score >= need else None

    def _maybe_add_template(self, feats, image: PreparedImage, own: Candidate, roi_feats: torch.Tensor) -> None:
        s = self.state
        if (self.max_dynamic == 0 or own.score < self.update_threshold
                or s.frame_index - s.last_update < self.update_interval):
            return
        query = self.model.encode_query(feats, frame_rois([own.box], image))
        s.dynamic.append(query)
        s.dynamic_embeddings.append(_unit(roi_feats))
        del s.dynamic[:-self.max_dynamic], s.dynamic_embeddings[:-self.max_dynamic]
        s.last_update = s.frame_index
        s.templates_added += 1


def _unit(roi_feats: torch.Tensor) -> torch.Tensor:
    """``[N, C, 7, 7]`` RoI features -> ``[N, C*49]`` unit vectors (the re-id embedding)."""
    flat = roi_feats.float().flatten(1)
    return flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-12)
