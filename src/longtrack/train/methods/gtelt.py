"""GTELT's training method: ``method: gtelt`` in a training config.

A sample is one template (a crop of area ``template_factor^2`` x the target) and T test frames,
each the whole frame fitted into ``image_size`` (view mode ``full``), in time order every s-th
frame (s drawn from 1..``max_frame_stride``) starting within ``data.max_gap`` frames after the
template. The target may be absent in test frames (then no tracker should fire). T follows
``model.sequence_lengths`` in equal parts of training (paper: 1 -> 5); all samples of a step
share T, so they stack into one batch.

The forward pass propagates the local trackers' temporal context through the T frames exactly
as the online tracker does (:mod:`longtrack.models.gtelt.context`): selection by confidence and
position, presence by theta, the activated tracker's reference and TCA query carried to the next
frame, gradients flowing through TCA.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn

from ...errors import LongtrackError
from ...models.gtelt import (GTELT, GTELTConfig, initial_context, select_candidates, start_context,
                            transfer_context)
from ..config import TrainConfig
from ..criteria.gtelt import GTELTCriterion
from ..data import TrackingSamples, collate_samples
from ..data.sources import Video
from ..setup import TrainingSetup

__all__ = ["ModelConfig", "GTELTOnBatches", "SequenceSamples", "sequence_length_at", "build"]

ModelConfig = GTELTConfig  # the config's `model` section


def sequence_length_at(progress: float, lengths: tuple[int, ...]) -> int:
    """T at ``progress`` (0..1 of training): ``lengths`` in equal consecutive parts."""
    part = min(int(max(progress, 0.0) * len(lengths)), len(lengths) - 1)
    return int(lengths[part])


class GTELTOnBatches(GTELT):
    """The GTELT network called on the engine's batches (same parameters and state-dict keys as
    :class:`GTELT`, so a run's ``weights.pt`` loads straight into the tracker).

    ``forward(batch)``: ``template_images [B, 1, 3, Hz, Wz]`` and ``search_images [B, T, 3, H, W]``
    uint8 RGB, ``template_boxes [B, 1, 4]`` xywh template pixels, ``search_masks [B, T, H, W]``;
    with ``init_activation`` also ``init_boxes [B, 4]`` (xywh canvas pixels) and ``init_present [B]``.
    Returns ``pred_logits [B, T, N]``, ``pred_boxes [B, T, N, 4]``, ``references [B, T, N, 2]``,
    ``similarity [B, T, N]`` and ``activated [B, T]`` (a tracker was activated coming into the frame).
    """

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:  # type: ignore[override]
        template = self.normalise(batch["template_images"][:, 0])
        images = batch["search_images"]
        batch_size, length = images.shape[:2]
        with _running_statistics(self.encoder.backbone, self.training and self.config.template_norm == "running"):
            z = self.encode_template(template, batch["template_boxes"][:, 0])
        masks = batch.get("search_masks")
        # Backbone and encoder do not depend on the context: run all frames at once.
        frames = self.encode_image(z["map"].repeat_interleave(length, 0), self.normalise(images.flatten(0, 1)),
                                   None if masks is None else masks.flatten(0, 1).bool())
        cfg = self.config
        if cfg.init_activation:  # start from the box of the frame before, as the tracker from its given box
            width, height = cfg.image_size
            boxes = batch["init_boxes"].float()
            centre = (boxes[:, :2] + boxes[:, 2:] / 2) / boxes.new_tensor([width, height])
            context = start_context(self, centre.clamp(0, 1), batch["init_present"].bool(),
                                    temporal_transfer=cfg.temporal_transfer)
        else:
            context = initial_context(self, batch_size)
        collected = {"pred_logits": [], "pred_boxes": [], "references": [], "similarity": [], "activated": []}
        for t in range(length):
            frame = {k: _frame_slice(v, batch_size, length, t) for k, v in frames.items()}
            out = self.decode(frame, context.queries, context.references)
            similarity = self.similarity(z["feature"], frame["map"], out["boxes"].detach())
            collected["pred_logits"].append(out["logits"])
            collected["pred_boxes"].append(out["boxes"])
            collected["references"].append(out["references"])
            collected["similarity"].append(similarity)
            collected["activated"].append(context.active >= 0)
            if t + 1 < length:
                selection = select_candidates(out["logits"], similarity, out["boxes"], context,
                                              presence_threshold=cfg.presence_threshold,
                                              position_weight=cfg.position_weight, image_size=cfg.image_size,
                                              use_position=cfg.temporal_transfer)
                context = transfer_context(self, context, out, selection, cfg.temporal_transfer)
        return {k: torch.stack(v, dim=1) for k, v in collected.items()}


@contextlib.contextmanager
def _running_statistics(module: nn.Module, active: bool):
    """While ``active``, ``module``'s BatchNorms normalise with their running statistics and do not
    update them: the template is normalised as the test frames are at inference, and only the
    frames' batches move the running statistics (the template crops would pull them apart)."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training] \
        if active else []
    try:
        for m in norms:
            m.train(False)
        yield
    finally:
        for m in norms:
            m.train(True)


def _frame_slice(value, batch_size: int, length: int, t: int):
    """Frame ``t`` of a value batched as ``[B*T, ...]`` (b-major); non-tensors pass through."""
    if not isinstance(value, torch.Tensor):
        return value
    return value.view(batch_size, length, *value.shape[1:])[:, t]


class SequenceSamples(TrackingSamples):
    """``TrackingSamples`` of kind ``sequence`` whose T test frames follow GTELT's schedule."""

    def __init__(self, cfg: TrainConfig):
        data, model = cfg.data, cfg.model
        problems = []
        if data.kind != "sequence" or data.template_frames != 1 or len(data.templates) != 1:
            problems.append("data.kind 'sequence' with template_frames 1 and one template view")
        elif data.templates[0].mode != "crop" or data.templates[0].size != model.template_size \
                or data.templates[0].factor != model.template_factor:
            problems.append(f"a crop template view of size {model.template_size} and factor {model.template_factor} "
                            "(model.template_size / template_factor)")
        if data.search.mode != "full" or tuple(data.search.size) != tuple(model.image_size):
            problems.append(f"data.search mode 'full' with size {list(model.image_size)} (model.image_size)")
        frames = model.max_sequence_length + int(model.init_activation)
        if data.search_frames != frames:
            problems.append(f"data.search_frames = {frames} (the longest of model.sequence_lengths"
                            + (", plus the start frame of model.init_activation)" if model.init_activation else ")"))
        if problems:
            raise LongtrackError("gtelt training needs " + "; ".join(problems))
        super().__init__(data, seed=cfg.train.seed)
        self.model_cfg = model
        self.batch_size = cfg.train.batch_size
        self.total_steps = cfg.train.steps
        self._length = model.max_sequence_length  # T of the sample being drawn (set per item)

    def length_for(self, key) -> int:
        epoch, index = (int(k) for k in key)
        step = (epoch * len(self) + index) // self.batch_size  # every sample of a step agrees
        return sequence_length_at(step / self.total_steps, self.model_cfg.sequence_lengths)

    def __getitem__(self, key) -> dict[str, np.ndarray]:
        self._length = self.length_for(key) + int(self.model_cfg.init_activation)  # read by _pick_frames
        sample = super().__getitem__(key)
        if self.model_cfg.init_activation:  # the first frame only gives the box the sequence starts from
            sample["init_boxes"], sample["init_present"] = sample["search_boxes"][0], sample["search_present"][0]
            for name in ("search_images", "search_masks", "search_boxes", "search_present"):
                sample[name] = sample[name][1:]
        return sample

    def _pick_frames(self, video: Video, rng):
        length, num_frames = self._length, len(video)
        stride = int(rng.integers(1, self.model_cfg.max_frame_stride + 1))
        span = (length - 1) * stride
        visible = np.flatnonzero(video.target_visible)
        visible = visible[visible < num_frames - 1 - span]
        if len(visible) == 0:
            return None
        template = int(rng.choice(visible))
        last_start = min(template + self.cfg.max_gap, num_frames - 1 - span)
        start = int(rng.integers(template + 1, last_start + 1))
        search = start + stride * np.arange(length, dtype=np.int64)
        return np.array([template], dtype=np.int64), search, np.zeros(0, dtype=np.int64)


def build(cfg: TrainConfig, device) -> TrainingSetup:
    """The model, the criterion (focal + 5 L1 + 2 GIoU + 5 reference) and the sequence samples of ``cfg``."""
    return TrainingSetup(model=GTELTOnBatches(cfg.model), criterion=GTELTCriterion(),
                         dataset=SequenceSamples(cfg), collate_fn=collate_samples)
