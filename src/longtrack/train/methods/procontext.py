"""ProContEXT's training method: ``method: procontext`` in a training config.

A sample is OSTrack/ProContEXT's ``trident_pro`` triplet: a static template frame and a search
frame anywhere in the video (target visible in both), and a dynamic template frame between them
within ``data.max_gap`` frames of the search frame. Each template frame is cropped at every
``data.templates`` factor (paper: 2.0 and 4.0), the search frame once with scale and shift jitter
(``data.search``, paper: factor 5.0). The network sees normalised crops in the order
``[static@f_1..f_K, dynamic@f_1..f_K]`` + search, and its elimination keep ratio warms up as the
authors' ``adjust_keep_rate``: 1.0 until ``model.ce_start`` of training (authors: 20/300), then a
cosine down to the config's ratio by ``model.ce_end`` (authors: 100/300).

Rendering a synthetic frame costs more than a training step of the small model, so the
``data.samples_per_video`` consecutive samples that share a video also share its triplet: they
are differently jittered, flipped and coloured views of three frames rendered once.

``data.negative_fraction`` (ours, off by default; the authors never show the network a search
crop without its target) makes that share of the samples *target-free* (``target_free`` True):
the search crop is taken where the target is not, so the focal loss teaches a low score-map
maximum there and the box losses skip the sample (``ProContEXTCriterion``). Half of them start
from a crop around *another object* of the search frame (a look-alike distractor in the
synthetic world: what an online tracker drifts to), the other half from a frame where the
target is *absent* within ``data.max_gap`` of the search frame, cropped around its last visible
box as the tracker would; each falls back to the other, then to a crop around a random place of
the search frame. A crop around another object or place must not touch the target's box.
"""
from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict

import numpy as np
import torch

from ...backbones.hybrid_embed import STEM_STRIDE
from ...backbones.pretrained import load_pretrained
from ...errors import LongtrackError
from ...models.procontext import ProContEXT, ProContEXTConfig
from ..config import TrainConfig
from ..criteria.procontext import ProContEXTCriterion
from ...crops import crop_region
from ..data import TrackingSamples, collate_samples
from ..data.augment import jitter_box
from ..data.sources import Video, VideoSource
from ..setup import TrainingSetup
from .procontext_validation import evaluator_for

__all__ = ["ModelConfig", "ProContEXTOnBatches", "TripletSamples", "keep_ratio_at", "build"]

ModelConfig = ProContEXTConfig  # the config's `model` section

# The authors' schedule (CE_START_EPOCH 20, CE_WARM_EPOCH 80 of 300 epochs) as fractions of training.
CE_START, CE_END = 20 / 300, 100 / 300


def keep_ratio_at(progress: float, final: float, start: float = CE_START, end: float = CE_END) -> float:
    """Candidate-elimination keep ratio at ``progress`` (0..1 of training): 1.0 before ``start``,
    a half cosine from 1.0 to ``final`` between ``start`` and ``end``, then ``final``."""
    if progress < start:
        return 1.0
    if progress >= end:
        return final
    phase = (progress - start) / (end - start)
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * phase))


class ProContEXTOnBatches(ProContEXT):
    """The ProContEXT network called on the engine's batches (same parameters and state-dict keys
    as :class:`ProContEXT`, so ``weights.pt`` of a run loads straight into the tracker).

    ``forward(batch)`` takes ``template_images`` ``[B, T, 3, Hz, Wz]`` and ``search_images``
    ``[B, 1, 3, Hx, Wx]`` uint8 RGB (T = ``config.num_templates``, static then dynamic) and an
    optional ``keep_ratio`` ``[B]`` (one value per step), and returns ProContEXT's output dict.
    """

    def __init__(self, config: ProContEXTConfig):
        super().__init__(config)
        # Not persistent: the state dict stays exactly the network's.
        self.register_buffer("pixel_mean", 255.0 * torch.tensor(config.mean).view(1, 1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", 255.0 * torch.tensor(config.std).view(1, 1, 3, 1, 1), persistent=False)

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, N, 3, H, W]`` uint8 RGB -> float, ImageNet-normalised (as the tracker's crops)."""
        return (images.float() - self.pixel_mean) / self.pixel_std

    def forward(self, batch: dict) -> dict:  # type: ignore[override]
        templates = self.normalise(batch["template_images"])
        search = self.normalise(batch["search_images"][:, :1])[:, 0]
        keep = batch.get("keep_ratio")
        keep_ratio = None if keep is None else float(keep.reshape(-1)[0])
        if keep_ratio is not None and keep_ratio <= min(self.config.ce_keep_ratios, default=1.0):
            keep_ratio = None  # warm-up over: every block uses its own ratio
        return super().forward(templates, search, keep_ratio=keep_ratio)


class TripletSamples(TrackingSamples):
    """``TrackingSamples`` of kind ``pair`` with ``template_frames: 2`` whose frames are the
    authors' ``trident_pro`` triplet (static, dynamic, search), plus ``keep_ratio`` (float32
    scalar): the elimination keep ratio of the step that consumes the sample, and
    ``target_free`` (bool scalar): the search crop does not hold the target (``search_boxes`` is
    then the target's box, or its last visible box, mapped into the crop: outside it or absent).
    The ``samples_per_video`` consecutive samples of a group share the triplet (rendered once)."""

    FRAMES_KEPT = 6  # rendered frames remembered per process: the current group's three, and slack
    TARGET_FREE_SAMPLES = True
    DISTRACTOR_SHARE = 0.5  # target-free samples that start from another object (else an absent frame)
    PLACE_TRIES = 8  # jittered crops tried per object or random place before giving up on it

    def __init__(self, cfg: TrainConfig, sources: list[VideoSource] | None = None):
        """``sources``: your own ``VideoSource``s instead of ``cfg.data.sources``."""
        data = cfg.data
        if data.kind != "pair" or data.template_frames != 2 or data.search_frames != 1:
            raise LongtrackError("procontext training needs data.kind 'pair', data.template_frames 2 "
                                 "(static + dynamic) and data.search_frames 1, got "
                                 f"{data.kind!r}, {data.template_frames}, {data.search_frames}")
        if len(data.templates) != len(cfg.model.template_factors):
            raise LongtrackError(f"data.templates has {len(data.templates)} views but model.template_factors "
                                 f"has {len(cfg.model.template_factors)}: one view per factor")
        sizes = {v.size for v in data.templates} | {cfg.model.template_size}
        if sizes != {cfg.model.template_size} or data.search.size != cfg.model.search_size:
            raise LongtrackError("data.templates/search sizes must equal model.template_size/search_size "
                                 f"({cfg.model.template_size}/{cfg.model.search_size})")
        super().__init__(data, seed=cfg.train.seed, sources=sources)
        self.batch_size = cfg.train.batch_size
        self.total_steps = cfg.train.steps
        self.final_keep = min(cfg.model.ce_keep_ratios, default=1.0)
        self.ce_window = (cfg.model.ce_start, cfg.model.ce_end)
        self._group = (0, 0)
        self._frames: OrderedDict = OrderedDict()
        self._negative_rng = None  # this sample's generator when it is to be target-free
        self._search_centre = None  # where a target-free crop centres (None: the target's box)
        self._target_free = False

    def __getitem__(self, key) -> dict[str, np.ndarray]:
        epoch, index = (int(k) for k in key)
        self._group = (epoch, index // self.cfg.samples_per_video)  # read by _pick_frames
        # Its own generator: the positive samples are the same at any negative_fraction.
        rng = np.random.default_rng([self.seed, epoch, index, 3])
        wanted = self.cfg.negative_fraction > 0 and rng.random() < self.cfg.negative_fraction
        self._negative_rng = rng if wanted else None
        sample = super().__getitem__(key)
        sample["target_free"] = np.bool_(self._target_free)
        step = (epoch * len(self) + index) // self.batch_size  # every sample of a step agrees
        sample["keep_ratio"] = np.float32(keep_ratio_at(step / self.total_steps, self.final_keep,
                                                        *self.ce_window))
        return sample

    def _make_sample(self, video: Video, *args):
        return super()._make_sample(_RememberedFrames(video, self._frames, self.FRAMES_KEPT), *args)

    def _pick_frames(self, video: Video, rng):
        # The group's own generator: every sample of the group picks the same triplet.
        rng = np.random.default_rng([self.seed, *self._group, 2])
        visible = np.flatnonzero(video.target_visible)
        if len(visible) == 0:
            return None
        static, search = (int(f) for f in rng.choice(visible, 2))
        # The dynamic template: between the two, at most max_gap frames before (or after) the search.
        low, high = (max(static, search - self.cfg.max_gap), search) if static <= search else \
            (search, min(static, search + self.cfg.max_gap))
        between = visible[(visible >= low) & (visible <= high)]
        dynamic = int(rng.choice(between))  # never empty: the search frame itself is in it
        self._search_centre, self._target_free = None, False
        if self._negative_rng is not None:
            search = self._target_free_search(video, search, self._negative_rng)
        return (np.array([static, dynamic], dtype=np.int64), np.array([search], dtype=np.int64),
                np.zeros(0, dtype=np.int64))

    def _search_view(self, video: Video, frame_index: int, rng):
        if self._search_centre is None:
            return super()._search_view(video, frame_index, rng)
        # Already jittered (and checked clear of the target) by _target_free_search.
        return dataclasses.replace(self.cfg.search, scale_jitter=0.0, center_jitter=0.0), self._search_centre

    # -- target-free samples ----------------------------------------------------------
    def _target_free_search(self, video: Video, search: int, rng) -> int:
        """The search frame of a target-free sample (sets ``_search_centre``/``_target_free``);
        ``search`` unchanged, and the sample positive, when no way works (rare)."""
        order = ("distractor", "absent") if rng.random() < self.DISTRACTOR_SHARE else ("absent", "distractor")
        for kind in (*order, "place"):
            if kind == "absent":
                frame = self._absent_frame(video, search, rng)
                if frame is not None:  # cropped around the last visible box, as online
                    self._target_free = True
                    return frame
                continue
            if kind == "distractor":
                boxes, ids = video.instances(search)
                others = boxes[ids != video.target_identity]
                places = [others[k] for k in rng.permutation(len(others))]
            else:  # a random place of the frame, at the target's size
                height, width = _RememberedFrames(video, self._frames, self.FRAMES_KEPT).frame(search).shape[:2]
                size = video.target_boxes[search][2:]
                places = [np.concatenate([rng.random(2) * [width, height] - size / 2, size])
                          for _ in range(self.PLACE_TRIES)]
            for place in places:
                centre = self._clear_crop(place, video.target_boxes[search], rng)
                if centre is not None:
                    self._search_centre, self._target_free = centre, True
                    return search
        return search

    def _clear_crop(self, place: np.ndarray, target: np.ndarray, rng) -> np.ndarray | None:
        """A jittered box around ``place`` whose search crop does not touch ``target`` (xywh)."""
        view = self.cfg.search
        for _ in range(self.PLACE_TRIES):
            box = jitter_box(place, view.scale_jitter, view.center_jitter, rng)
            try:
                crop = crop_region(box, view.factor, view.size, (1, 1))
            except LongtrackError:  # a degenerate jittered box
                continue
            x0, y0, side = crop.x0, crop.y0, crop.side
            # One pixel of margin: bilinear resampling reads the pixel next to the crop's edge.
            apart = (target[0] >= x0 + side + 1 or target[0] + target[2] <= x0 - 1 or
                     target[1] >= y0 + side + 1 or target[1] + target[3] <= y0 - 1)
            if apart:
                return box
        return None

    def _absent_frame(self, video: Video, search: int, rng) -> int | None:
        """A frame within ``max_gap`` of ``search`` where the target is absent, after a frame
        where it was visible (the crop centres on that last box); None if there is none."""
        absent = np.flatnonzero(~np.asarray(video.target_visible, dtype=bool))
        first_seen = int(np.flatnonzero(video.target_visible)[0])
        near = absent[(np.abs(absent - search) <= self.cfg.max_gap) & (absent > first_seen)]
        return int(rng.choice(near)) if len(near) else None


class _RememberedFrames:
    """A ``Video`` whose rendered frames are kept in ``cache`` (an LRU of ``limit`` frames)."""

    def __init__(self, video: Video, cache: OrderedDict, limit: int):
        self._video, self._cache, self._limit = video, cache, limit

    def __getattr__(self, name):
        return getattr(self._video, name)

    def frame(self, index: int) -> np.ndarray:
        key = (self._video.target_identity, int(index))  # identities are unique over sources
        if key in self._cache:
            self._cache.move_to_end(key)
        else:
            self._cache[key] = self._video.frame(index)
            while len(self._cache) > self._limit:
                self._cache.popitem(last=False)
        return self._cache[key]


def build(cfg: TrainConfig, device) -> TrainingSetup:
    """The model (its MobileNetV2 stem from ImageNet with ``model.pretrained_backbone``), criterion
    (focal + 2 GIoU + 5 L1, box read where ``model.regress_at`` says) and triplet samples of ``cfg``."""
    model = ProContEXTOnBatches(cfg.model)
    if cfg.model.pretrained_backbone:
        model.backbone.patch_embed.load_imagenet(load_pretrained("mobilenetv2", out_strides=(STEM_STRIDE,)))
    return TrainingSetup(model=model, criterion=ProContEXTCriterion(regress_at=cfg.model.regress_at),
                         dataset=TripletSamples(cfg),
                         collate_fn=collate_samples, evaluate=evaluator_for(cfg))
