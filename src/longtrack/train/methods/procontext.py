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
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import torch

from ...errors import LongtrackError
from ...models.procontext import ProContEXT, ProContEXTConfig
from ..config import TrainConfig
from ..criteria.procontext import ProContEXTCriterion
from ..data import TrackingSamples, collate_samples
from ..data.sources import Video, VideoSource
from ..setup import TrainingSetup

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
    scalar): the elimination keep ratio of the step that consumes the sample. The
    ``samples_per_video`` consecutive samples of a group share the triplet (rendered once)."""

    FRAMES_KEPT = 6  # rendered frames remembered per process: the current group's three, and slack

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

    def __getitem__(self, key) -> dict[str, np.ndarray]:
        epoch, index = (int(k) for k in key)
        self._group = (epoch, index // self.cfg.samples_per_video)  # read by _pick_frames
        sample = super().__getitem__(key)
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
        return (np.array([static, dynamic], dtype=np.int64), np.array([search], dtype=np.int64),
                np.zeros(0, dtype=np.int64))


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
    """The model, criterion (focal + 2 GIoU + 5 L1, box read where ``model.regress_at`` says) and
    triplet samples of ``cfg``."""
    model = ProContEXTOnBatches(cfg.model)
    return TrainingSetup(model=model, criterion=ProContEXTCriterion(regress_at=cfg.model.regress_at),
                         dataset=TripletSamples(cfg),
                         collate_fn=collate_samples)
