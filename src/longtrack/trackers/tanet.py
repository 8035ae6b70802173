"""``tanet:<local tracker>``: TANet's joint local-global search (paper Algorithm 2) around any
registered local tracker (``tanet:procontext``, ``tanet:csrt``, ``tanet:kcf``, ...).

Per frame:

* **local search** with the wrapped tracker while its confidence stays >= ``beta1``; a frame
  below counts as low; after ``beta2`` consecutive low frames, global search (the paper's 0.8
  and 5 are for SiamRPN++'s score: each local tracker gets its own, tuned on real-train,
  :mod:`.tanet_switching`);
* **global search** (every frame until the target is found again): the generator's
  target-aware attention map of the frame (target patch of the first frame + a causal clip
  of the last frames) -> its connected regions above ``attention_threshold`` are the
  candidate search regions (strongest ``max_regions``) -> in each, a fresh copy of the local
  tracker, initialised on the first frame (its template), searches the region
  (:class:`~.tanet_search.SimilarityView`); the wrapped tracker also keeps searching its own
  window. The best-scoring answer wins if it reaches ``redetect_threshold`` (default
  ``beta1``): the tracker it came from becomes the local tracker and local search resumes.
* **presence**: absent while in global search with no candidate passing its threshold (no
  attention region, or no local response good enough); otherwise the local tracker's own
  presence.

Local trackers without a response score (OpenCV's KCF, CSRT and TLD report only an "ok" flag,
1 or 0) break the paper's "best-scoring region" rule: a tracker freshly initialised in any region
says "ok", so global search used to move KCF onto whatever the attention map lit and report it
present from then on. ``verify`` (ours, not the paper's) supplies the missing response:

* ``"candidates"``: a global-search candidate from a fresh tracker scores ``ok x NCC`` (normalised
  cross-correlation of its box with the first-frame target, :class:`~.tanet_search.TemplateCheck`),
  must reach ``verify_threshold`` and the highest wins; the continuing local tracker keeps its own
  score (so local search is exactly the bare tracker's), and when it is confident the map is not
  computed; a winning candidate restarts the local tracker on the current frame at its box
  (these trackers learn their model online; a moved view would only add its borders);
* ``"template"``: every answer, local search included, also needs NCC >= ``verify_threshold``
  (one that fails is made low and absent);
* ``"none"``: the paper's rule (the tracker's own score everywhere);
* ``"auto"`` (default): ``"candidates"`` for the OpenCV trackers, ``"none"`` for the others.

The attention is computed only during global search (the paper: it is the expensive part).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch

from ..contract import BaseTracker, Box, Prediction, Tracker
from ..errors import LongtrackError
from ..models.tanet import TANetConfig, TANetGenerator, batch_statistics
from ..models.tanet_inputs import resize_bgr, target_patch
from ..registry import DEFAULT_LOCAL_TRACKERS, get_tracker_spec
from .network import build_network
from .opencv_trackers import OpenCVTracker
from .options import resolve_option
from .tanet_search import Region, SimilarityView, TemplateCheck, attention_regions
from .tanet_switching import switching_thresholds

__all__ = ["TANetTracker", "TANetState", "load_generator"]

DEFAULT_ATTENTION_THRESHOLD = 0.5  # a region is where the map says "target" (p > 0.5)


@dataclass
class TANetState:
    """Everything the wrapper remembers between frames (``initialize`` resets it)."""

    box: Box  # last reported box
    size: tuple[float, float]  # target size of the last confident local frame
    view: SimilarityView = field(default_factory=SimilarityView)  # how the local tracker sees frames
    mode: str = "local"  # "local" or "global"
    low_count: int = 0  # consecutive local frames below beta1
    frame_index: int = 0
    global_frames: int = 0  # frames spent in global search so far
    relocations: int = 0  # times a global candidate became the local tracker
    regions: list[Region] = field(default_factory=list)  # last global search's candidate regions


class TANetTracker(BaseTracker):
    """``TANetTracker(weights=None, device="cpu", local_tracker="csrt", **options)``.

    Args:
        weights: a TANet weights file (``longtrack train configs/tanet-synth.yaml`` or
            ``longtrack convert --method tanet``); None: random generator, with a warning.
        local_tracker: name of the registered tracker to wrap (default csrt, the best weights-free
            one on real video); ``local_weights``/``local_options``: passed to its registry ``build``.
        size: ``"paper"`` / ``"small"`` builds that generator at random initialisation (timing).
        beta1, beta2: Algorithm 2's confidence threshold and patience; with ``verify_threshold``
            each defaults to the local tracker's entry of ``switching_table`` (default the shipped
            ``weights/tanet-switching.json``, tuned by ``longtrack tune-switching``), else the
            paper's 0.8, 5 (and 0.5), with a warning (``trackers/tanet_switching.py``).
        attention_threshold, max_regions, min_region_pixels: map -> candidate regions
            (``attention_threshold`` default: the weights' ``tracker`` section, written by
            ``longtrack calibrate tanet --write``, else 0.5).
        redetect_threshold: confidence a global candidate needs (default: beta1).
        verify, verify_threshold: ``"auto"`` (default), ``"candidates"``, ``"template"`` or
            ``"none"`` (the paper's rule), and the NCC with the first-frame target a verified
            answer needs (see the module docstring).
    """

    name = "tanet"
    # The phase of the last track() call, "local" (following) or "global" (re-detecting),
    # for `longtrack bench`'s per-phase FPS (longtrack.benchmarking.PHASE_ATTRIBUTE).
    last_phase: str | None = None

    def __init__(self, weights: str | None = None, device: str = "cpu", *,
                 local_tracker: str = DEFAULT_LOCAL_TRACKERS["tanet"], local_weights: str | None = None,
                 local_options: dict | None = None, size: str | None = None, beta1: float | None = None,
                 beta2: int | None = None, attention_threshold: float | None = None, max_regions: int = 3,
                 min_region_pixels: int = 2, redetect_threshold: float | None = None, verify: str = "auto",
                 verify_threshold: float | None = None, switching_table: str | None = None):
        super().__init__()
        if local_tracker.split(":")[0] == "tanet":
            raise LongtrackError("tanet: the local tracker cannot itself be a tanet wrapper")
        # Thresholds on the local tracker's confidence scale: explicit, else tuned for it, else the paper's.
        switching = switching_thresholds(local_tracker, {"beta1": beta1, "beta2": beta2,
                                                         "verify_threshold": verify_threshold}, switching_table)
        beta1, beta2, verify_threshold = switching["beta1"], switching["beta2"], switching["verify_threshold"]
        if beta2 < 1 or max_regions < 1:
            raise LongtrackError(f"tanet: beta2 and max_regions must be >= 1, got {beta2}, {max_regions}")
        self.name = f"tanet:{local_tracker}"
        self.device = torch.device(device)
        generator, loaded = _load(weights, size)
        self.generator = generator.to(self.device).eval()
        # tuned for these weights on the val split, else the default
        attention_threshold = resolve_option("attention_threshold", attention_threshold, loaded,
                                             DEFAULT_ATTENTION_THRESHOLD)
        self.config: TANetConfig = self.generator.config
        self.local_name, self.local_weights = local_tracker, local_weights
        self.local_options = dict(local_options or {})
        self.beta1, self.beta2 = float(beta1), int(beta2)
        self.attention_threshold = float(attention_threshold)
        self.max_regions, self.min_region_pixels = int(max_regions), int(min_region_pixels)
        self.redetect_threshold = self.beta1 if redetect_threshold is None else float(redetect_threshold)
        if verify not in ("auto", "none", "candidates", "template"):
            raise LongtrackError(f"tanet: verify must be one of auto, none, candidates, template; got {verify!r}")
        self.verify_threshold = float(verify_threshold)
        self._check: TemplateCheck | None = None
        self.local: Tracker = self._new_local()
        if verify == "auto":  # binary-score trackers need a response for their candidates
            verify = "candidates" if isinstance(self.local, OpenCVTracker) else "none"
        self.verify = verify
        self.state: TANetState | None = None
        self._first: tuple[np.ndarray, Box] | None = None
        self._target: torch.Tensor | None = None
        self._history: deque[torch.Tensor] = deque(maxlen=max(1, -min(self.config.clip_offsets())))

    def _new_local(self) -> Tracker:
        spec = get_tracker_spec(self.local_name)
        return spec.build(weights=self.local_weights, device=str(self.device), **self.local_options)

    # -- generator inputs -------------------------------------------------------------------
    def _to_input(self, image_rgb: np.ndarray) -> torch.Tensor:
        """RGB uint8 -> ``[1, 3, S, S]`` BGR in [0, 1] (the authors' cv2.imread + ToTensor)."""
        return torch.from_numpy(resize_bgr(image_rgb, self.config.input_size)).to(self.device)[None].float() / 255.0

    def _clip(self, current: torch.Tensor) -> torch.Tensor:
        """``[1, T, 3, S, S]``: past frames from the history (the oldest repeated at the start of
        the video), the current one, and in place of a future frame the current one again."""
        past = list(self._history)
        frames = []
        for offset in self.config.clip_offsets():
            if offset >= 0:
                frames.append(current)
            else:
                frames.append(past[max(0, len(past) + offset)] if past else current)
        return torch.stack(frames, dim=1)

    @torch.inference_mode()
    def attention(self, frame: np.ndarray) -> np.ndarray:
        """The target-aware attention map ``(O, O)`` in [0, 1] of ``frame`` (covers the frame)."""
        current = self._to_input(frame)
        if self.config.test_bn == "batch":
            with batch_statistics(self.generator):
                out = self.generator(current, self._target, self._clip(current))
        else:
            out = self.generator(current, self._target, self._clip(current))
        return out["attention"][0, 0].float().cpu().numpy()

    # -- the Tracker protocol ---------------------------------------------------------------
    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        self._first = (frame.copy(), box)
        self._check = TemplateCheck(frame, box)
        self._target = self._to_input(target_patch(frame, box, self.config.input_size))
        self._history.clear()
        self._history.append(self._to_input(frame))
        self.local = self._new_local()
        self.local.initialize(frame, box)
        self.state = TANetState(box=box, size=(box[2], box[3]))

    def _track(self, frame: np.ndarray) -> Prediction:
        s = self.state
        s.frame_index += 1
        self.last_phase = s.mode
        if s.mode == "local":
            pred = self._local_step(frame)
        else:
            pred = self._global_step(frame)
        self._history.append(self._to_input(frame))  # the causal clip of later frames
        s.box = pred.box
        return pred

    def _run_local(self, tracker: Tracker, view: SimilarityView, frame: np.ndarray) -> Prediction:
        """The continuing local tracker's answer in frame coordinates; with ``verify="template"``
        an answer whose NCC with the first-frame target is below ``verify_threshold`` is made
        low and absent."""
        pred = tracker.track(view.warp(frame))
        box = view.box_to_frame(pred.box)
        if self.verify != "template":
            return Prediction(box, pred.score, pred.present)
        ncc = self._check.similarity(frame, box)
        if ncc < self.verify_threshold:
            return Prediction(box, min(pred.score * max(ncc, 0.0), 0.99 * self.redetect_threshold,
                                       0.99 * self.beta1), False)
        return Prediction(box, pred.score, pred.present)

    def _candidate_threshold(self) -> float:
        """What a fresh candidate's score must reach: the NCC threshold when it is verified."""
        return self.redetect_threshold if self.verify == "none" else self.verify_threshold

    def _local_step(self, frame: np.ndarray) -> Prediction:
        s = self.state
        pred = self._run_local(self.local, s.view, frame)
        if pred.score >= self.beta1:
            s.low_count = 0
            s.size = (pred.box[2], pred.box[3])
        else:
            s.low_count += 1
            if s.low_count >= self.beta2:
                s.mode = "global"
        return pred

    def _probe(self, frame: np.ndarray, region: Region) -> tuple[Prediction, Tracker, SimilarityView]:
        """A fresh local tracker on the first frame (its template), searching ``region``; when
        verified its score is ``ok x NCC`` with the first-frame target (module docstring)."""
        first_frame, first_box = self._first
        view = SimilarityView.placing(region.center, self.state.size,
                                      (first_box[0] + first_box[2] / 2, first_box[1] + first_box[3] / 2),
                                      (first_box[2], first_box[3]))
        tracker = self._new_local()
        tracker.initialize(first_frame, first_box)
        pred = tracker.track(view.warp(frame))
        box = view.box_to_frame(pred.box)
        if self.verify == "none":
            return Prediction(box, pred.score, pred.present), tracker, view
        score = pred.score * self._check.similarity(frame, box)
        return Prediction(box, score, score >= self.verify_threshold), tracker, view

    def _global_step(self, frame: np.ndarray) -> Prediction:
        s = self.state
        s.global_frames += 1
        # Joint search: the current local tracker keeps looking in its own window too.
        own = self._run_local(self.local, s.view, frame)
        best, accepted = (own, self.local, s.view), own.score >= self.redetect_threshold
        # A verified candidate's score (NCC) is not on the scale of the tracker's own score: the
        # continuing tracker, when confident, is kept (no map needed); otherwise the best
        # candidate that passes.
        s.regions = []
        if not (accepted and self.verify != "none"):
            s.regions = attention_regions(self.attention(frame), self.image_size, self.attention_threshold,
                                          self.max_regions, self.min_region_pixels)
            for region in s.regions:  # strongest region first: it wins ties
                pred, tracker, view = self._probe(frame, region)
                if pred.score >= self._candidate_threshold() and (not accepted or pred.score > best[0].score):
                    best, accepted = (pred, tracker, view), True
        pred, tracker, view = best
        if accepted:
            if tracker is not self.local:
                if self.verify != "none":
                    # A binary-score tracker's model is learned online, not a fixed template:
                    # it resumes on this frame at the verified box, without a moved view.
                    tracker, view = self._new_local(), SimilarityView()
                    tracker.initialize(frame, pred.box)
                self.local, s.view = tracker, view
                s.relocations += 1
            s.mode, s.low_count = "local", 0
            s.size = (pred.box[2], pred.box[3])
            return Prediction(pred.box, pred.score, True)
        return Prediction(pred.box, pred.score, False)


def _load(weights: str | None, size: str | None = None):
    """A TANet weights file holds the generator's tensors under ``generator.`` and its config under
    ``model.generator`` (a training run writes the generator only, as ``longtrack convert``)."""
    return build_network("tanet", TANetGenerator, TANetConfig, weights, size, part="generator")


def load_generator(weights: str | None, size: str | None = None) -> TANetGenerator:
    """The generator of a TANet weights file (training run or converted), or a random one
    (``weights=None``: small, with a warning; ``size="paper"|"small"``: for timing)."""
    return _load(weights, size)[0]
