"""GTELT online: global tracking via an ensemble of local trackers.

``initialize``: crop the template (area 2^2 x the target, resized to ``template_size``), keep its
conv4 map and its pooled target feature, start all N local trackers at their defaults (with
``init_activation``, activate the one nearest to the given box there: ``start_context``).
``track``: fit the whole frame into the ``image_size`` canvas (aspect kept, zero padding at the
right and bottom, exactly as training's ``full`` view), encode it with the template, decode the N
local trackers, select the target's candidate (confidence = score x cosine similarity, position
cost to the last centre, present when confidence > theta), and move the temporal context along
the activated tracker's flow (:mod:`longtrack.models.gtelt.context`). The reported box is the
chosen candidate's, also when the target is judged absent (``present=False``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch

from ..contract import BaseTracker, Box, Prediction
from ..crops import crop_around
from ..errors import LongtrackError
from ..models.gtelt import GTELT, GTELTConfig, TrackerContext, select_candidates, start_context, transfer_context
from .network import build_network
from .options import resolve_option

__all__ = ["GTELTTracker", "GTELTState", "FrameFit", "fit_frame"]


@dataclass(frozen=True)
class FrameFit:
    """How a frame sits in the canvas: canvas pixels per frame pixel along x and y."""

    scale_x: float
    scale_y: float

    @classmethod
    def of(cls, frame_hw: tuple[int, int], canvas_size: tuple[int, int]) -> "FrameFit":
        """The fit of an ``(height, width)`` frame into a ``(width, height)`` canvas."""
        new_w, new_h = _fitted_size(frame_hw, canvas_size)
        return cls(new_w / frame_hw[1], new_h / frame_hw[0])

    def frame_to_canvas_point(self, x: float, y: float, canvas_size: tuple[int, int]) -> tuple[float, float]:
        """A frame pixel point -> (x, y) in [0, 1] of the canvas."""
        return x * self.scale_x / canvas_size[0], y * self.scale_y / canvas_size[1]

    def canvas_to_frame(self, box_cxcywh, canvas_size: tuple[int, int]) -> tuple[float, float, float, float]:
        """A (cx, cy, w, h) box in [0, 1] of the canvas -> frame xywh pixels."""
        cx, cy, w, h = (float(v) for v in box_cxcywh)
        width, height = canvas_size
        w_px, h_px = w * width / self.scale_x, h * height / self.scale_y
        return (cx * width / self.scale_x - w_px / 2, cy * height / self.scale_y - h_px / 2, w_px, h_px)


def fit_frame(frame: np.ndarray, canvas_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, FrameFit]:
    """Resize ``frame`` (H x W x 3 uint8) to fit ``canvas_size = (width, height)`` keeping its aspect,
    pad with zeros at the right and bottom. Returns ``(canvas, padding mask, fit)``; the same
    geometry as the training sampler's ``full`` view (a test checks it)."""
    out_w, out_h = canvas_size
    new_w, new_h = _fitted_size(frame.shape[:2], canvas_size)
    canvas = np.zeros((out_h, out_w, 3), dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    mask = np.ones((out_h, out_w), dtype=bool)
    mask[:new_h, :new_w] = False
    return canvas, mask, FrameFit.of(frame.shape[:2], canvas_size)


def _fitted_size(frame_hw: tuple[int, int], canvas_size: tuple[int, int]) -> tuple[int, int]:
    height, width = frame_hw
    scale = min(canvas_size[0] / width, canvas_size[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass
class GTELTState:
    """Everything the tracker remembers between frames."""

    template_map: torch.Tensor  # [1, C4, hz, wz] conv4 of the template
    template_feature: torch.Tensor  # [1, C4] the target's pooled conv4 feature
    context: TrackerContext  # the local trackers' queries, references and TCA memory
    box: tuple[float, float, float, float]  # last reported box, frame xywh
    score: float = 1.0  # last confidence
    frame_index: int = 0  # frames tracked since initialize (the first frame is 0)


class GTELTTracker(BaseTracker):
    """``GTELTTracker(weights=None, device="cpu", **options)``.

    Args:
        weights: a longtrack weights file (``longtrack train``); None builds the small network at
            random initialisation and warns.
        device: torch device string.
        size: ``"paper"`` or ``"small"`` builds that configuration at random initialisation (for
            timing; weights are then not loaded); None (default) uses the weights' config.
        presence_threshold: theta; None uses the weights' tuned one (``longtrack tune-presence``), else
            the model config's (the training theta; paper 0.6).
        position_weight: the assignment's cost per image diagonal of distance to the last centre;
            None uses the model config's.
        temporal_transfer: False tracks as the paper's OSDet ablation; None uses the config's.
        memory_length: L, the number of online queries TCA reads (Table 2: 1, 3, 5, 7, 9); None
            uses the config's. It sizes a buffer, not a weight, so any L runs with any weights.
        init_activation: True activates the local tracker nearest to the given box at initialisation
            (``start_context``); None uses the config's (the way the weights were trained).
    """

    name = "gtelt"

    def __init__(self, weights: str | None = None, device: str = "cpu", *, size: str | None = None,
                 presence_threshold: float | None = None, position_weight: float | None = None,
                 temporal_transfer: bool | None = None, memory_length: int | None = None,
                 init_activation: bool | None = None):
        super().__init__()
        self.device = torch.device(device)
        model, loaded = build_network("gtelt", GTELT, GTELTConfig, weights, size)
        self.model: GTELT = model.to(self.device).eval()
        # a theta tuned for these weights, if any; None keeps the model config's
        presence_threshold = resolve_option("presence_threshold", presence_threshold, loaded, None)
        overrides = {k: v for k, v in (("presence_threshold", presence_threshold), ("position_weight", position_weight),
                                       ("temporal_transfer", temporal_transfer), ("memory_length", memory_length),
                                       ("init_activation", init_activation))
                     if v is not None}
        try:
            self.config: GTELTConfig = replace(self.model.config, **overrides)
        except LongtrackError as exc:
            raise LongtrackError(f"gtelt: {exc}") from exc
        # The overrides are all run-time fields (no weight depends on them); the model reads
        # memory_length from its own config when it makes the initial context.
        self.model.config = self.config
        self.state: GTELTState | None = None

    def _to_tensor(self, image: np.ndarray) -> torch.Tensor:
        """``H x W x 3`` uint8 -> ``[1, 3, H, W]`` normalised."""
        return self.model.normalise(torch.from_numpy(image).to(self.device).permute(2, 0, 1)[None])

    @torch.inference_mode()
    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        cfg = self.config
        patch, transform = crop_around(frame, box, cfg.template_factor, cfg.template_size, pad_value=0.0)
        template_box = torch.tensor(transform.box_to_crop(box), dtype=torch.float32, device=self.device)[None]
        z = self.model.encode_template(self._to_tensor(patch), template_box)
        # The given box is the target's last position: the first frame's assignment may use it.
        x, y, w, h = box
        centre = FrameFit.of(frame.shape[:2], cfg.image_size).frame_to_canvas_point(x + w / 2, y + h / 2, cfg.image_size)
        centre = torch.tensor([centre], dtype=torch.float32, device=self.device)
        present = torch.ones(1, dtype=torch.bool, device=self.device)
        context = start_context(self.model, centre, present, activate=cfg.init_activation,
                                temporal_transfer=cfg.temporal_transfer)
        self.state = GTELTState(template_map=z["map"], template_feature=z["feature"], context=context, box=tuple(box))

    @torch.inference_mode()
    def _track(self, frame: np.ndarray) -> Prediction:
        state, cfg = self.state, self.config
        state.frame_index += 1
        canvas, mask, fit = fit_frame(frame, cfg.image_size)
        encoded = self.model.encode_image(state.template_map, self._to_tensor(canvas),
                                          torch.from_numpy(mask).to(self.device)[None])
        out = self.model.decode(encoded, state.context.queries, state.context.references)
        similarity = self.model.similarity(state.template_feature, encoded["map"], out["boxes"])
        selection = select_candidates(out["logits"], similarity, out["boxes"], state.context,
                                      presence_threshold=cfg.presence_threshold, position_weight=cfg.position_weight,
                                      image_size=cfg.image_size, use_position=cfg.temporal_transfer)
        state.context = transfer_context(self.model, state.context, out, selection, cfg.temporal_transfer)
        index = int(selection.index[0])
        box = fit.canvas_to_frame(out["boxes"][0, index].tolist(), cfg.image_size)
        confidence = float(selection.chosen_confidence[0])
        if not all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:  # a diverged network
            state.score = 0.0
            return Prediction(state.box, 0.0, False)
        state.box, state.score = box, confidence
        return Prediction(box, confidence, bool(selection.present[0]))

