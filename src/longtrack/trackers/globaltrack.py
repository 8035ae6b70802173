"""GlobalTrack online: pure global instance search, as the authors' ``GlobalTrack`` tracker.

On the first frame the query (the given box) is encoded once and never updated. Every later
frame is searched whole: rescaled to fit ``max_size`` (1333x800 at paper size), QG-RPN
proposals, QG-RCNN scores, and the answer is the single highest-scoring box, with no motion model
and no smoothing. Confidence = that box's RCNN object probability; ``present`` = confidence >=
``presence_threshold`` (ours: the authors never report absence; the value is tuned on training
data, real-train + lt-real for the shipped weights, and stored in the weights file, see
docs/methods/globaltrack.md).

The RCNN NMS is skipped: NMS never removes the highest-scoring box, so the top-1 is the same
(a test checks it on the authors' outputs).

Several targets: ``initialize_many(frame, boxes)`` encodes every box from one backbone pass, and
``track_many(frame)`` runs the backbone once per frame and one query-modulated search (QG-RPN +
QG-RCNN) per target on those shared features; each target's answer is what ``track`` would give
for it alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..boxes import inclusive_xyxy_to_xywh, xywh_to_inclusive_xyxy
from ..checkpoint import Weights
from ..contract import BaseTracker, Box, Prediction, as_rgb, errors_named, validate_box
from ..errors import LongtrackError
from ..models.globaltrack import GlobalTrack, GlobalTrackConfig, PreparedImage, QueryEncoding, prepare_image
from ..multi_target import target_boxes
from .network import build_network
from .options import resolve_option

__all__ = ["GlobalTrackTracker", "GlobalTrackState", "DEFAULT_PRESENCE_THRESHOLD", "frame_rois", "load_globaltrack"]

# Used when neither the caller nor the weights file gives a threshold.
DEFAULT_PRESENCE_THRESHOLD = 0.5


@dataclass
class GlobalTrackState:
    """Everything the tracker remembers between frames."""

    query: QueryEncoding  # the first frame's query, fixed for the whole sequence
    box: Box  # last reported box, xywh frame pixels
    score: float = 1.0  # last confidence
    frame_index: int = 0  # frames tracked since initialize (the first frame is 0)


class GlobalTrackTracker(BaseTracker):
    """``GlobalTrackTracker(weights=None, device="cpu", **options)``.

    Args:
        weights: a longtrack weights file (``longtrack train`` or ``longtrack convert``); None
            builds a randomly initialised small network and warns.
        device: torch device string.
        size: ``"paper"`` or ``"small"`` builds that configuration at random initialisation (for
            timing; weights are then not loaded); None uses the weights' config.
        presence_threshold: ``present`` iff confidence >= this; None: the weights file's tuned
            value, else ``DEFAULT_PRESENCE_THRESHOLD``.
        max_size: ``(long, short)`` edges each frame is rescaled to fit; None: the model config's.
        runtime: ``"torch"`` (default) or ``"onnx"``: the dense stages run under onnxruntime
            (``longtrack.export.globaltrack`` says which part runs where; CPU only).
        onnx_dir: with ``runtime="onnx"``, a ``longtrack export`` folder of these weights; None
            exports into the cache on first use.
    """

    name = "globaltrack"

    def __init__(self, weights: str | None = None, device: str = "cpu", *, size: str | None = None,
                 presence_threshold: float | None = None, max_size: tuple[int, int] | None = None,
                 runtime: str = "torch", onnx_dir: str | None = None):
        super().__init__()
        self.device = torch.device(device)
        model, loaded = load_globaltrack(weights, size)
        if runtime != "torch":
            from ..export import check_runtime, onnx_network

            check_runtime(self.name, runtime, self.device)
            model = onnx_network(self.name, model, onnx_dir)
        if max_size is not None:
            model.config = model.config.replace(max_size=tuple(int(v) for v in max_size))
        self.model = model.to(self.device).eval()
        self.config: GlobalTrackConfig = self.model.config
        self.presence_threshold = float(resolve_option("presence_threshold", presence_threshold, loaded,
                                                       DEFAULT_PRESENCE_THRESHOLD))
        self.states: list[GlobalTrackState] = []  # one per target, in the order of the boxes

    @property
    def state(self) -> GlobalTrackState | None:
        """The single target's state (None before ``initialize`` or with several targets)."""
        return self.states[0] if len(self.states) == 1 else None

    # -- one target ------------------------------------------------------------------------------
    def _initialize(self, frame: np.ndarray, box: Box) -> None:
        self._encode_targets(frame, [box])

    def _track(self, frame: np.ndarray) -> Prediction:
        if len(self.states) != 1:
            raise LongtrackError(f"track() follows one target; {len(self.states)} were given to "
                                 "initialize_many(), use track_many()")
        return self._track_targets(frame)[0]

    # -- several targets in one pass -------------------------------------------------------------
    def initialize_many(self, frame: np.ndarray, boxes: Sequence[Sequence[float]]) -> None:
        """Start one target per box on ``frame`` (each box checked as ``initialize`` checks it)."""
        frame = as_rgb(frame)
        checked = [validate_box(box, frame.shape) for box in target_boxes(boxes)]
        self.image_size = (frame.shape[1], frame.shape[0])
        self.frame_index = 0
        with errors_named(self.name, 0):
            self._encode_targets(frame, checked)

    def track_many(self, frame: np.ndarray) -> list[Prediction]:
        """One ``Prediction`` per target, in the order of the boxes: one backbone pass for all."""
        if not self.states:
            raise LongtrackError(f"{self.name}: track_many() called before initialize_many()")
        self.frame_index += 1
        frame = as_rgb(frame)
        with errors_named(self.name, self.frame_index):
            return self._track_targets(frame)

    @torch.inference_mode()
    def _encode_targets(self, frame: np.ndarray, boxes: Sequence[Box]) -> None:
        prepared = prepare_image(frame, self.config, self.device)
        feats = self.model.extract_features(prepared.tensor)
        queries = self.model.encode_query(feats, frame_rois(boxes, prepared))
        if len(boxes) == 1:
            self.states = [GlobalTrackState(query=queries, box=tuple(boxes[0]))]
        else:
            self.states = [GlobalTrackState(query=queries.select(torch.tensor([i], device=self.device)),
                                            box=tuple(box)) for i, box in enumerate(boxes)]

    @torch.inference_mode()
    def _track_targets(self, frame: np.ndarray) -> list[Prediction]:
        image = prepare_image(frame, self.config, self.device)
        feats = self.model.extract_features(image.tensor)
        return [self._follow(state, self.top_detection(feats, image, state.query)) for state in self.states]

    def _follow(self, state: GlobalTrackState, found: tuple[np.ndarray | None, float]) -> Prediction:
        state.frame_index += 1
        corners, score = found
        if corners is None:  # no proposal scored above the threshold: keep the last box
            state.score = 0.0
            return Prediction(state.box, 0.0, False)
        state.box, state.score = tuple(inclusive_xyxy_to_xywh(corners).tolist()), score
        return Prediction(state.box, score, score >= self.presence_threshold)

    # -- search ----------------------------------------------------------------------------------
    @torch.inference_mode()
    def search(self, image: PreparedImage, query: QueryEncoding) -> tuple[np.ndarray | None, float]:
        """The top-1 detection of ``query`` in a prepared frame: inclusive xyxy corners in frame
        pixels and its object probability, or ``(None, 0.0)`` when nothing scores above
        ``test_rcnn.score_thr`` or the network produced non-finite numbers."""
        return self.top_detection(self.model.extract_features(image.tensor), image, query)

    @torch.inference_mode()
    def top_detection(self, feats, image: PreparedImage, query: QueryEncoding) -> tuple[np.ndarray | None, float]:
        """:meth:`search` on the frame's features already extracted (shared by all targets)."""
        out = self.model.detect(feats, query, image.img_shape, image.scale_factor, with_nms=False)
        scores = out["scores"].float()
        if scores.numel() == 0:
            return None, 0.0
        best = int(scores.argmax())
        score = float(scores[best])
        corners = out["boxes"][best].float().cpu().numpy()
        if not (score > self.config.test_rcnn.score_thr and np.isfinite(corners).all()):
            return None, 0.0
        return corners, score


def frame_rois(boxes: Sequence[Box], image: PreparedImage) -> torch.Tensor:
    """xywh frame boxes -> ``[N, 5]`` RoIs (image 0, inclusive x1 y1 x2 y2 in the network's input
    pixels) on ``image``'s device."""
    corners = torch.as_tensor(np.stack([xywh_to_inclusive_xyxy(box) for box in boxes]) * image.scale_factor,
                              dtype=torch.float32)
    return torch.cat([corners.new_zeros((len(boxes), 1)), corners], dim=1).to(image.tensor.device)


def load_globaltrack(weights: str | None, size: str | None = None) -> tuple[GlobalTrack, Weights | None]:
    """The network of a weights file and the file (its ``tracker`` section holds the tuned
    settings), or a randomly initialised one of ``size`` / with no weights and None (see
    :func:`~.network.build_network`)."""
    return build_network("globaltrack", GlobalTrack, GlobalTrackConfig, weights, size)
