"""ProContEXT online: the authors' OSTrack-style loop around :class:`ProContEXT`.

Per frame: crop the search region (factor 5.0) around the previous box, run the network with the
static and dynamic templates, multiply the score map by a Hann window, decode the box at its
maximum, map it back to the frame relative to the previous centre, clip it to the image
(10-pixel margin, as the authors). Confidence = the raw score-map maximum. Every
``update_interval``-th frame whose confidence exceeds ``update_threshold``, the dynamic templates
are re-cropped around the new box (authors: 100 and 0.7). ``present`` = confidence >=
``presence_threshold`` (ours: the authors never report absence; the value is tuned on the synthetic
val split by ``longtrack tune-presence`` and stored in the weights file).

Crops: ``crop="authors"`` cuts them with the authors' ``sample_target`` (``crop_around_ostrack``:
their padding arithmetic, cut + zero pad + ``cv2.resize``), so that a converted checkpoint sees the
pixels it was trained on and tracks as their tracker does; ``crop="exact"`` uses
``crop_around`` (one warp, no lost edge row/column). Files written by ``longtrack convert`` say
``crop: authors`` in their tracker section; other weights default to ``exact``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..contract import BaseTracker, Box, Prediction
from ..crops import crop_around, crop_around_ostrack
from ..errors import LongtrackError
from ..models.center_head import decode_center, hann_window
from ..models.procontext import ProContEXT, ProContEXTConfig
from .network import build_network
from .options import resolve_option

__all__ = ["ProContEXTTracker", "ProContEXTState", "map_box_back", "clip_box"]

DEFAULT_PRESENCE_THRESHOLD = 0.3  # for weights without a tuned value
CROP_RULES = ("authors", "exact")


@dataclass
class ProContEXTState:
    """Everything the tracker remembers between frames."""

    box: tuple[float, float, float, float]  # last state, xywh frame pixels
    templates: torch.Tensor  # [1, T, 3, Hz, Wz] normalised: static then dynamic templates
    frame_index: int = 0  # frames tracked since initialize (the first frame is 0)
    score: float = 1.0  # last confidence
    updated: bool = False  # the last frame replaced the dynamic templates
    template_tokens: list[torch.Tensor] | None = None  # the templates' patch embedding, reused until an update


def map_box_back(box_crop_cxcywh, previous_xywh, crop_side: float) -> tuple[float, float, float, float]:
    """A (cx, cy, w, h) box in frame-pixel units measured from the crop's corner -> frame xywh.

    As the authors, the crop's corner is taken as the previous centre minus half the crop side
    (not the whole-pixel corner the crop was cut at)."""
    cx, cy, w, h = (float(v) for v in box_crop_cxcywh)
    px, py, pw, ph = (float(v) for v in previous_xywh)
    cx_frame = cx + (px + 0.5 * pw - 0.5 * crop_side)
    cy_frame = cy + (py + 0.5 * ph - 0.5 * crop_side)
    return (cx_frame - 0.5 * w, cy_frame - 0.5 * h, w, h)


def clip_box(box_xywh, height: int, width: int, margin: float = 10.0) -> tuple[float, float, float, float]:
    """The authors' clip: corners into the image, at least ``margin`` pixels wide and high, so the
    next crop always has a valid, finite size even after the target left the view."""
    x1, y1, w, h = (float(v) for v in box_xywh)
    x2, y2 = x1 + w, y1 + h
    x1 = min(max(0.0, x1), width - margin)
    x2 = min(max(margin, x2), width)
    y1 = min(max(0.0, y1), height - margin)
    y2 = min(max(margin, y2), height)
    return (x1, y1, max(margin, x2 - x1), max(margin, y2 - y1))


class ProContEXTTracker(BaseTracker):
    """``ProContEXTTracker(weights=None, device="cpu", **options)``.

    Args:
        weights: a longtrack weights file (``longtrack convert`` or ``longtrack train``); None
            builds a randomly initialised network and warns.
        device: torch device string.
        size: ``"paper"`` or ``"small"`` builds that configuration at random initialisation
            (for timing; weights are then not loaded); None (default) uses the weights' config.
        update_interval: frames between dynamic-template updates (authors: 100).
        update_threshold: confidence needed for an update (paper: 0.7).
        presence_threshold: ``present`` iff confidence >= this; None: the weights file's tuned
            value, else ``DEFAULT_PRESENCE_THRESHOLD``.
        window: multiply the score map by a Hann window before the arg-max (authors: yes).
        clip_margin: minimum box side and border margin of the authors' clip (10 pixels).
        keep_ratio: overrides every elimination block's keep ratio online (None: the model's
            own, the paper's 0.7; 1.0 turns elimination off -- an ablation).
        crop: ``"authors"`` (their ``sample_target``) or ``"exact"`` (``crop_around``); None:
            the weights file's ``tracker.crop`` (``authors`` in converted files), else ``exact``.
        runtime: ``"torch"`` (default) or ``"onnx"``: the network runs under onnxruntime
            (``longtrack.export.procontext`` says which part runs where; CPU only; the exported
            graph eliminates at the config's keep ratios, so ``keep_ratio`` must stay None).
        onnx_dir: with ``runtime="onnx"``, a ``longtrack export`` folder of these weights; None
            exports into the cache on first use.
    """

    name = "procontext"

    def __init__(self, weights: str | None = None, device: str = "cpu", *, size: str | None = None,
                 update_interval: int = 100, update_threshold: float = 0.7,
                 presence_threshold: float | None = None, window: bool = True, clip_margin: float = 10.0,
                 keep_ratio: float | None = None, crop: str | None = None,
                 runtime: str = "torch", onnx_dir: str | None = None):
        super().__init__()
        if update_interval < 1:
            raise LongtrackError(f"procontext: update_interval must be >= 1, got {update_interval}")
        if keep_ratio is not None and not 0.0 < keep_ratio <= 1.0:
            raise LongtrackError(f"procontext: keep_ratio must be in (0, 1], got {keep_ratio}")
        self.device = torch.device(device)
        model, loaded = build_network("procontext", ProContEXT, ProContEXTConfig, weights, size)
        presence_threshold = resolve_option("presence_threshold", presence_threshold, loaded,
                                            DEFAULT_PRESENCE_THRESHOLD)
        crop = resolve_option("crop", crop, loaded, "exact")
        if crop not in CROP_RULES:
            raise LongtrackError(f"procontext: crop must be one of {', '.join(CROP_RULES)}, got {crop!r}")
        self.crop = crop
        if runtime != "torch":
            from ..export import check_runtime, onnx_network

            check_runtime(self.name, runtime, self.device)
            if keep_ratio is not None:
                raise LongtrackError("procontext: runtime='onnx' eliminates at the exported keep ratios; "
                                     "keep_ratio needs runtime='torch'")
            model = onnx_network(self.name, model, onnx_dir)
        self.model = model.to(self.device).eval()
        self.config: ProContEXTConfig = self.model.config
        self.update_interval = int(update_interval)
        self.update_threshold = float(update_threshold)
        self.presence_threshold = float(presence_threshold)
        self.clip_margin = float(clip_margin)
        self.keep_ratio = None if keep_ratio is None else float(keep_ratio)
        feat = self.model.feat_size
        self.window = hann_window(feat, device=self.device) if window else None
        self.mean = torch.tensor(self.config.mean, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(self.config.std, device=self.device).view(1, 3, 1, 1)
        self.state: ProContEXTState | None = None

    # -- crops ---------------------------------------------------------------------------------
    def _normalise(self, patch: np.ndarray) -> torch.Tensor:
        """``S x S x 3`` uint8 RGB -> ``[1, 3, S, S]`` normalised float."""
        image = torch.from_numpy(patch).to(self.device).permute(2, 0, 1)[None].float() / 255.0
        return (image - self.mean) / self.std

    def _crop(self, frame: np.ndarray, box, factor: float, size: int):
        """``(patch, transform)`` by the selected rule; both pad with zeros, as the authors."""
        if self.crop == "authors":
            return crop_around_ostrack(frame, box, factor, size)
        return crop_around(frame, box, factor, size, pad_value=0)

    def _template_crops(self, frame: np.ndarray, box) -> list[torch.Tensor]:
        return [self._normalise(self._crop(frame, box, factor, self.config.template_size)[0])
                for factor in self.config.template_factors]

    # -- the Tracker protocol -------------------------------------------------------------------
    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        static = self._template_crops(frame, box)
        templates = torch.stack(static + [t.clone() for t in static], dim=1)  # dynamic = copies
        self.state = ProContEXTState(box=tuple(box), templates=templates)
        self._embed_templates()

    @torch.inference_mode()
    def _embed_templates(self) -> None:
        """Cache the templates' tokens: the patch embedding (the whole MobileNetV2 stem of the
        hybrid) of four unchanged templates would otherwise be recomputed every frame. The ONNX
        graph takes the images, so it embeds them itself."""
        if isinstance(self.model, ProContEXT):
            self.state.template_tokens = self.model.embed_templates(self.state.templates)

    @torch.inference_mode()
    def _track(self, frame: np.ndarray) -> Prediction:
        state = self.state
        state.frame_index += 1
        patch, transform = self._crop(frame, state.box, self.config.search_factor, self.config.search_size)
        box, confidence = self.locate(state.templates, self._normalise(patch), transform.side,
                                      state.box, frame.shape[:2], state.template_tokens)
        if box is None:  # a diverged network: keep the last box, report absence
            state.score, state.updated = 0.0, False
            return Prediction(state.box, 0.0, False)
        state.box, state.score = box, confidence
        state.updated = state.frame_index % self.update_interval == 0 and confidence > self.update_threshold
        if state.updated:
            num_static = len(self.config.template_factors)
            for k, crop in enumerate(self._template_crops(frame, state.box)):
                state.templates[:, num_static + k] = crop
            self._embed_templates()
        return Prediction(state.box, confidence, confidence >= self.presence_threshold)

    @torch.inference_mode()
    def locate(self, templates: torch.Tensor, search: torch.Tensor, crop_side: float,
               previous_box, frame_hw: tuple[int, int], template_tokens: list[torch.Tensor] | None = None):
        """One network step on prepared crops.

        Args:
            templates: ``[1, T, 3, Hz, Wz]``; search: ``[1, 3, Hx, Wx]`` cut around ``previous_box``.
            crop_side: the search crop's side in frame pixels.
            frame_hw: ``(height, width)`` of the frame, for the clip.
            template_tokens: the model's ``embed_templates(templates)``, if cached (same result).

        Returns:
            ``(box_xywh clipped to the frame, confidence)``, or ``(None, 0.0)`` if the network
            produced a non-finite box.
        """
        if template_tokens is None:
            out = self.model(templates, search, keep_ratio=self.keep_ratio)
        else:
            out = self.model(templates, search, keep_ratio=self.keep_ratio, template_tokens=template_tokens)
        confidence = float(out["score"][0])
        response = out["score_map"] if self.window is None else out["score_map"] * self.window
        box_crop, _ = decode_center(response, out["size_map"], out["offset_map"])
        box = map_box_back((box_crop[0] * crop_side).tolist(), previous_box, crop_side)
        if not all(np.isfinite(box)):
            return None, 0.0
        return clip_box(box, frame_hw[0], frame_hw[1], self.clip_margin), confidence
