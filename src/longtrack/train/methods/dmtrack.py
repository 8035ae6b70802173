"""Training DMTrack on multi-instance image pairs (``data.kind: multi_instance``).

Each sample is a query image and a search image of one video (whole frames, ``mode: full`` views)
with every instance visible in both, in the same order, with identities. Every instance of the
query image is a query (cross-query training, as GlobalTrack and DMTrack): its box is the template
RoI, the same identity's box in the search image is the positive, every other object (same-class
distractors included) is background. Re-id: every instance's embedding in both images is
classified into the dataset's identities (``dataset.num_identities``: a real video's annotated
target is one identity across its frames, each object of a synthetic video one identity, the
sources' identities disjoint); with ``model.reid_contrast_weight`` each query's template
embedding is also contrasted with every instance of the batch's search images, so the same
frame's look-alikes (the ``lt-real`` world's same-class distractors) are explicit negatives.

The config's ``model`` section is a :class:`~longtrack.models.dmtrack.DMTrackConfig`; with
``model.pretrained_backbone`` the MobileNetV2 backbone starts from its ImageNet weights. With
``data.validation`` the run logs :mod:`.dmtrack_validation`'s figures on those real pairs, else
the detector's top-1 on synthetic val pairs.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from torch import nn

from ...backbones.pretrained import load_pretrained
from ...errors import LongtrackError
from ...models.dmtrack import DMTrack, DMTrackConfig
from ...models.dmtrack.config import MOBILENETV2_STRIDES
from ...models.dmtrack.head import decode_detections
from ...models.dmtrack.reid import sample_embeddings
from ...ops import box_xywh_to_xyxy
from ..criteria.dmtrack import DMTrackCriterion
from ..data import TrackingSamples, collate_samples
from ..setup import TrainingSetup
from ..validation import validation_pairs
from .dmtrack_validation import reid_pair_evaluator

__all__ = ["ModelConfig", "DMTrackForTraining", "TRAINING_ONLY_PREFIXES", "inference_state", "build"]

ModelConfig = DMTrackConfig

# Parameters that exist only for training (a run's weights.pt leaves them out).
TRAINING_ONLY_PREFIXES = ("reid_classifier.", "log_vars")
# FairMOT's initial uncertainty weights s_det, s_id.
INITIAL_LOG_VARS = (-1.85, -1.05)
MIN_BOX_SIDE = 2.0  # instances smaller than this (pixels, either side) are not used as queries


class DMTrackForTraining(DMTrack):
    """:class:`DMTrack` + the identity classifier and the uncertainty weights; ``forward(batch)``.

    The batch holds ``template_images [B, 1, 3, H, W]``, ``search_images [B, 1, 3, H, W]`` (uint8,
    H and W multiples of 32), ``{template,search}_instance_boxes [B, 1, M, 4]`` xywh and
    ``_ids [B, 1, M]`` (-1 pads; the same instances in both frames). Returns :meth:`DMTrack.forward`'s
    dict plus ``query_boxes [Q, 4]`` (each query's target box in its search image, xyxy),
    ``query_ids [Q]`` and, with re-id training, ``log_vars [2]``, ``reid_logits [2Q, I]`` /
    ``reid_labels [2Q]`` (with identities) and ``reid_query_vectors`` / ``reid_search_vectors``
    ``[Q, D]`` (unit embeddings at the query's centre in the query / search image; with the contrast).
    """

    def __init__(self, config: DMTrackConfig, num_identities: int = 0):
        super().__init__(config)
        self.num_identities = int(num_identities)
        self.reid_classifier = None
        if config.reid_dim and num_identities:
            self.reid_classifier = nn.Linear(config.reid_dim, num_identities)
            # JDE: unit embeddings times s = sqrt(2) log(nID - 1) make a softmax over many identities trainable.
            self.reid_scale = math.sqrt(2) * math.log(max(num_identities - 1, 2))
        self.reid_contrast = bool(config.reid_dim and config.reid_contrast_weight > 0)
        if self.reid_classifier is not None or self.reid_contrast:
            self.log_vars = nn.Parameter(torch.tensor(INITIAL_LOG_VARS))

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        t_boxes, t_ids = batch["template_instance_boxes"][:, 0], batch["template_instance_ids"][:, 0]
        s_boxes, s_ids = batch["search_instance_boxes"][:, 0], batch["search_instance_ids"][:, 0]
        if not torch.equal(t_ids, s_ids):
            raise LongtrackError("dmtrack training needs data.kind: multi_instance (the same instances in "
                                 "the query and the search image)")
        sizes = torch.minimum(t_boxes[..., 2:].min(-1).values, s_boxes[..., 2:].min(-1).values)
        usable = (t_ids >= 0) & (sizes >= MIN_BOX_SIDE)
        if not usable.any():  # never an empty batch of queries: fall back to every listed instance
            usable = t_ids >= 0
        image_index, slot = torch.nonzero(usable, as_tuple=True)
        rois = torch.cat([image_index[:, None].float(), box_xywh_to_xyxy(t_boxes[image_index, slot].float())], dim=1)
        out = super().forward(batch["template_images"][:, 0], rois, batch["search_images"][:, 0], image_index)
        out["query_boxes"] = box_xywh_to_xyxy(s_boxes[image_index, slot].float())
        out["query_ids"] = t_ids[image_index, slot]
        if self.reid_classifier is None and not self.reid_contrast:
            return out
        vectors = {}
        for key, boxes in (("search", s_boxes), ("query", t_boxes)):
            centres = boxes[image_index, slot, :2].float() + boxes[image_index, slot, 2:].float() / 2
            vectors[key] = sample_embeddings(out[f"{key}_embedding"], image_index, centres)
        if self.reid_classifier is not None:
            out["reid_logits"] = self.reid_classifier(self.reid_scale * torch.cat([vectors["search"], vectors["query"]]))
            out["reid_labels"] = out["query_ids"].repeat(2)
        if self.reid_contrast:
            out["reid_query_vectors"], out["reid_search_vectors"] = vectors["query"], vectors["search"]
        out["log_vars"] = self.log_vars
        return out


def inference_state(model: DMTrackForTraining) -> dict[str, torch.Tensor]:
    """What a run's ``weights.pt`` holds: :class:`DMTrack`'s state, the training-only classifier
    and uncertainty weights left out (the classifier alone is ``reid_dim x num_identities``,
    larger than the small network)."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith(TRAINING_ONLY_PREFIXES)}


def criterion_for(config: DMTrackConfig) -> DMTrackCriterion:
    return DMTrackCriterion(config.strides, config.regress_ranges, config.center_sample_radius, config.target_class,
                            reid_contrast_weight=config.reid_contrast_weight)


def _check_data(cfg) -> None:
    data = cfg.data
    if data.kind != "multi_instance":
        raise LongtrackError(f"dmtrack: data.kind must be multi_instance, got {data.kind!r}")
    if data.template_frames != 1 or data.search_frames != 1 or len(data.templates) != 1:
        raise LongtrackError("dmtrack: one query image and one search image per sample "
                             "(template_frames 1, search_frames 1, one templates view)")
    for name, view in (("templates[0]", data.templates[0]), ("search", data.search)):
        sizes = [view.size] * 2 if view.mode == "crop" else list(view.size)
        if any(s % cfg.model.size_divisor for s in sizes):
            raise LongtrackError(f"dmtrack: data.{name}.size {view.size} must be a multiple of "
                                 f"{cfg.model.size_divisor} (the DLA's strides)")


def top1_evaluator(config: DMTrackConfig, data, seed: int, num: int = 24):
    """``evaluate(model)``: on ``num`` fixed samples of the synthetic world's val split (made at the
    first call), the mean IoU of the top-1 detection for the target's query with the target's
    search box, and the fraction above 0.5."""
    val_data = dataclasses.replace(data, sources=tuple(
        dataclasses.replace(s, split="val") if s.on_the_fly else s for s in data.sources))
    samples: list[dict] = []

    def evaluate(model: nn.Module) -> dict[str, float]:
        if not samples:
            val = TrackingSamples(val_data, seed=seed)
            samples.extend(val[(0, i)] for i in range(num))
        device = next(model.parameters()).device
        ious = []
        for sample in samples:
            query = torch.from_numpy(sample["template_images"][:1]).to(device)
            search = torch.from_numpy(sample["search_images"][:1]).to(device)
            box = torch.as_tensor(sample["template_instance_boxes"][0, 0], dtype=torch.float32, device=device)
            target = box_xywh_to_xyxy(torch.as_tensor(sample["search_instance_boxes"][0, 0], dtype=torch.float32))
            feats = model.features(model.normalise(query))
            rois = torch.cat([box.new_zeros(1), box_xywh_to_xyxy(box)])[None]
            conditions = model.query(feats["pyramid"], rois)["conditions"]
            levels = model.detect(model.features(model.normalise(search))["pyramid"], conditions)
            boxes, scores, labels = decode_detections(
                [lv["cls_score"][0] for lv in levels], [lv["bbox_pred"][0] for lv in levels],
                [lv["centerness"][0] for lv in levels], config.strides, tuple(search.shape[-2:]),
                nms_pre=config.nms_pre, nms_iou=config.nms_iou, max_per_image=config.max_per_image)
            boxes = boxes[labels == config.target_class].cpu()
            ious.append(0.0 if len(boxes) == 0 else float(_iou(boxes[0], target)))
        return {"top1_iou": float(np.mean(ious)), "top1_success50": float(np.mean(np.array(ious) > 0.5))}

    return evaluate


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    w = (torch.minimum(a[2], b[2]) - torch.maximum(a[0], b[0])).clamp(min=0)
    h = (torch.minimum(a[3], b[3]) - torch.maximum(a[1], b[1])).clamp(min=0)
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def evaluator_for(cfg):
    """The real-pair figures on ``data.validation`` when it is set, else the synthetic top-1 check."""
    if cfg.data.validation is not None:
        return reid_pair_evaluator(validation_pairs(cfg.data.validation, seed=cfg.train.seed))
    return top1_evaluator(cfg.model, cfg.data, cfg.train.seed)


def build(cfg, device) -> TrainingSetup:
    _check_data(cfg)
    dataset = TrackingSamples(cfg.data, seed=cfg.train.seed)
    model = DMTrackForTraining(cfg.model, dataset.num_identities)
    if cfg.model.pretrained_backbone:
        model.backbone.load_state_dict(load_pretrained(cfg.model.backbone, out_strides=MOBILENETV2_STRIDES)
                                       .state_dict())
    return TrainingSetup(model=model, criterion=criterion_for(cfg.model), dataset=dataset,
                         collate_fn=collate_samples, evaluate=evaluator_for(cfg), inference_state=inference_state)
