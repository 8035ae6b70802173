"""classic-lt: a weights-free long-term tracker.

A kernelized correlation filter follows the target locally; a whole-frame normalised
cross-correlation re-detector (first-frame template + recent confident templates) finds it
again after it left the view, was occluded or jumped. They are switched by the rule of TANet's
Algorithm 2 (Wang et al.): local search while the local confidence stays at or above
``beta1``; after ``beta2`` consecutive frames below it, global search on every frame until a
candidate passes the re-detection thresholds; the local tracker is then moved there and local
search resumes.

Confidence: the filter's response peak divided by its running level during confident
tracking (so it reads the same for easy and hard targets), mapped through a logistic curve
fitted on the synthetic ``lt`` train split (``longtrack calibrate classic-lt``), so that it
estimates P(IoU >= 0.5 with the truth).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from ..contract import BaseTracker, Box, Prediction
from ..errors import LongtrackError
from .correlation_filter import CorrelationFilter, CorrelationFilterParams
from .distractors import DistractorMemory, DistractorTrack
from .redetector import Candidate, RedetectorParams, TemplateBank


@dataclass(frozen=True)
class ClassicLTParams:
    """Defaults of classic-lt; ``docs/baselines.md`` says how they were measured."""

    beta1: float = 0.5  # local search continues while confidence >= beta1 (TANet Alg. 2)
    beta2: int = 5  # consecutive low-confidence frames before global search (TANet: 5)
    presence_threshold: float = 0.5  # present = confidence >= this
    learn_threshold: float = 0.6  # the filter learns only from frames at least this confident
    template_threshold: float = 0.85  # ... and the re-detector's bank only from these
    template_interval: int = 25  # frames between two templates added to the bank
    redetect_ncc: float = 0.55  # a global candidate needs this NCC score ...
    redetect_confidence: float = 0.6  # ... and this confidence of the local filter placed on it
    distractor_interval: int = 10  # frames between whole-frame searches for look-alikes while confident
    reference_rate: float = 0.05  # running level of the response peak while confident
    velocity_smoothing: float = 0.5  # the local search starts at centre + velocity (an EMA of motion)
    # confidence = sigmoid(w_peak * relative peak + w_bank * best template NCC + bias), fitted by
    # longtrack calibrate classic-lt on lt train 0, 1, 2, 4 at 320x240 (docs/baselines.md)
    w_peak: float = 5.25
    w_bank: float = 0.84
    bias: float = -3.84
    filter: CorrelationFilterParams = field(default_factory=CorrelationFilterParams)
    redetector: RedetectorParams = field(default_factory=RedetectorParams)


@dataclass
class ClassicLTState:
    """Everything classic-lt remembers between frames (inspectable, reset by ``initialize``)."""

    center: tuple[float, float]
    size: tuple[float, float]
    mode: str = "local"  # "local" or "global"
    low_count: int = 0  # consecutive frames below beta1
    frame_index: int = 0
    last_template_frame: int = 0
    peak_reference: float = 1.0
    lost_score: float = 0.0  # confidence reported while the target is lost
    last_confident_frame: int = 0
    last_confident_center: tuple[float, float] = (0.0, 0.0)
    velocity: tuple[float, float] = (0.0, 0.0)  # pixels per frame, while confident
    evidence: tuple[float, float] = (1.0, 1.0)  # last (relative peak, template NCC) behind a confidence


class ClassicLongTermTracker(BaseTracker):
    """Correlation filter + NCC re-detector, switched as in TANet's Algorithm 2. CPU, no weights."""

    name = "classic-lt"
    # The phase of the last track() call, "local" (following) or "global" (re-detecting),
    # for `longtrack bench`'s per-phase FPS (longtrack.benchmarking.PHASE_ATTRIBUTE).
    last_phase: str | None = None

    def __init__(self, weights: str | None = None, device: str = "cpu", params: ClassicLTParams | None = None,
                 **overrides):
        super().__init__()
        if weights is not None:
            raise LongtrackError(f"{self.name} uses no weights, got --weights {weights}")
        self.device = "cpu"  # numpy/OpenCV only, whatever device is asked for
        params = params or ClassicLTParams()
        unknown = set(overrides) - set(ClassicLTParams.__dataclass_fields__)
        if unknown:
            raise LongtrackError(f"{self.name}: unknown option(s) {', '.join(sorted(unknown))}")
        self.params = dataclasses.replace(params, **overrides)
        self.filter = CorrelationFilter(self.params.filter)
        self.bank = TemplateBank(self.params.redetector)
        self.distractors = DistractorMemory()
        self.state: ClassicLTState | None = None

    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        x, y, w, h = box
        center, size = (x + w / 2.0, y + h / 2.0), (w, h)
        self.filter.initialize(frame, center, size)
        self.bank.reset(frame, box)
        self.distractors.reset()
        self.state = ClassicLTState(center=center, size=size, last_confident_center=center)
        # The response of the fresh model on its own frame sets the first reference level.
        self.state.peak_reference = max(self.filter.detect(frame, center, size).peak, 1e-3)

    def confidence(self, frame: np.ndarray, peak: float, center, size) -> float:
        """Calibrated confidence in [0, 1] that the box (centre, size) holds the target, from the
        filter's response peak and the box's NCC similarity to the template bank."""
        p = self.params
        relative = peak / self.state.peak_reference
        similarity = self.bank.similarity(frame, _box(center, size))
        self.state.evidence = (relative, similarity)
        logit = p.w_peak * relative + p.w_bank * similarity + p.bias
        return 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))

    def _track(self, frame: np.ndarray) -> Prediction:
        s, p = self.state, self.params
        s.frame_index += 1
        self.last_phase = s.mode
        if s.mode == "global":
            found = self._redetect(frame)
            if found is None:
                return Prediction(_box(s.center, s.size), s.lost_score, False)
            s.center, s.size, conf = found
            s.mode, s.low_count, s.velocity = "local", 0, (0.0, 0.0)
            return Prediction(_box(s.center, s.size), conf, conf >= p.presence_threshold)

        predicted = (s.center[0] + s.velocity[0], s.center[1] + s.velocity[1])
        det = self.filter.detect(frame, predicted, s.size)
        conf = self.confidence(frame, det.peak, det.center, det.size)
        if conf >= p.beta1:
            s.low_count = 0
            k = p.velocity_smoothing
            s.velocity = (k * s.velocity[0] + (1 - k) * (det.center[0] - s.center[0]),
                          k * s.velocity[1] + (1 - k) * (det.center[1] - s.center[1]))
            s.center, s.size = det.center, det.size
            s.last_confident_frame, s.last_confident_center = s.frame_index, s.center
            if conf >= p.learn_threshold:
                self.filter.learn(frame, s.center, s.size)
                s.peak_reference += p.reference_rate * (det.peak - s.peak_reference)
            if conf >= p.template_threshold and s.frame_index - s.last_template_frame >= p.template_interval:
                if self.bank.add(frame, _box(s.center, s.size)):
                    s.last_template_frame = s.frame_index
            if s.frame_index % p.distractor_interval == 0:
                self._remember_distractors(frame)
        else:
            s.low_count += 1
            s.center, s.velocity = det.center, (0.0, 0.0)  # follow the best local guess, but trust no motion
            if s.low_count >= p.beta2:
                s.mode = "global"
                s.lost_score = conf
        return Prediction(_box(s.center, s.size), conf, conf >= p.presence_threshold)

    def _remember_distractors(self, frame: np.ndarray) -> None:
        """While the target is known: every other strong match in the frame is a look-alike.
        The target's own slot claims the match nearest to it, so the target never becomes one."""
        s = self.state
        candidates = [c.box for c in self.bank.search(frame, s.size) if c.score >= self.params.redetect_ncc]
        self.distractors.observe(candidates, s.frame_index, target=self._target_track())

    def _target_track(self) -> DistractorTrack:
        s = self.state
        return DistractorTrack(np.array(s.last_confident_center, dtype=np.float64),
                               float(np.sqrt(s.size[0] * s.size[1])), s.last_confident_frame)

    def _redetect(self, frame: np.ndarray):
        """Global search: NCC candidates not explained by a remembered distractor, each verified
        by the local filter placed on it. Returns (centre, size, confidence) or None."""
        p, s = self.params, self.state
        candidates = [c for c in self.bank.search(frame, s.size) if c.score >= p.redetect_ncc]
        # The local tracker's last position is always a candidate too (TANet runs the local
        # tracker on the proposed regions; the target may simply still be where it was).
        candidates.append(Candidate(_box(s.center, s.size), 1.0))
        explained = self.distractors.observe([c.box for c in candidates], s.frame_index, add_new=False,
                                             target=self._target_track())
        best = None
        for cand, is_distractor in zip(candidates, explained):
            if is_distractor:
                continue
            x, y, w, h = cand.box
            det = self.filter.detect(frame, (x + w / 2.0, y + h / 2.0), (w, h))
            conf = self.confidence(frame, det.peak, det.center, det.size)
            if best is None or conf > best[2]:
                best = (det.center, det.size, conf)
        if best is not None and best[2] >= p.redetect_confidence:
            return best
        # Still lost: report a confidence below the presence threshold.
        s.lost_score = min(best[2] if best else 0.0, p.presence_threshold * 0.99)
        return None


def _box(center, size) -> Box:
    return (center[0] - size[0] / 2.0, center[1] - size[1] / 2.0, size[0], size[1])
