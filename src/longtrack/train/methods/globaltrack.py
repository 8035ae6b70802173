"""GlobalTrack's training method: ``method: globaltrack`` in a training config.

A sample is a multi-instance image pair (``data.kind: multi_instance``): two frames of one video,
both seen whole (``mode: full`` views: rescaled to fit, padded at the right and bottom), with every
instance visible in both. Every instance is a query: its box in the first frame is the query,
its box in the second the target, the pair's other instances background. The backbone runs once
per image; the cross-query loss averages the queries' RPN + RCNN losses
(:class:`~longtrack.train.criteria.globaltrack.GlobalTrackCriterion`).
"""
from __future__ import annotations

import numpy as np
import torch

from ...backbones.pretrained import load_pretrained
from ...errors import LongtrackError
from ...models.globaltrack import GlobalTrack, GlobalTrackConfig
from ...boxes import iou
from ...models.globaltrack.preprocess import normalise_batch, prepare_image
from ...ops import box_xywh_to_inclusive_xyxy
from ..config import TrainConfig
from ..criteria.globaltrack import GlobalTrackCriterion
from ..data import TrackingSamples, collate_samples
from ..setup import TrainingSetup
from ..validation import validation_pairs

__all__ = ["ModelConfig", "GlobalTrackOnBatches", "build"]

ModelConfig = GlobalTrackConfig  # the config's `model` section

MIN_QUERY_SIDE = 2.0  # pixels: slivers at the frame border make no useful query or target


def unpadded_shapes(masks: torch.Tensor) -> torch.Tensor:
    """``[B, H, W]`` padding masks (True on padding) -> ``[B, 2]`` (height, width) of the image."""
    image = ~masks
    return torch.stack([image.any(dim=2).sum(dim=1), image.any(dim=1).sum(dim=1)], dim=1)


class GlobalTrackOnBatches(GlobalTrack):
    """The GlobalTrack network called on the engine's batches; same parameters and state-dict keys
    as :class:`GlobalTrack`, so ``weights.pt`` of a run loads straight into the tracker.

    ``forward(batch)`` takes ``template_images`` / ``search_images`` ``[B, 1, 3, H, W]`` uint8 RGB
    with their ``*_masks`` ``[B, 1, H, W]`` and ``*_instance_boxes`` ``[B, 1, M, 4]`` (xywh) /
    ``*_instance_ids`` ``[B, 1, M]`` (-1 pads), and returns :meth:`GlobalTrack.forward_train`'s dict.
    """

    def prepare(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """Normalise, then zero the padding (the authors pad with zeros after normalising)."""
        return normalise_batch(images, self.config) * (~masks)[:, None].to(torch.float32)

    def forward(self, batch: dict) -> dict:  # type: ignore[override]
        img_z = self.prepare(batch["template_images"][:, 0], batch["template_masks"][:, 0])
        img_x = self.prepare(batch["search_images"][:, 0], batch["search_masks"][:, 0])
        ids = batch["template_instance_ids"][:, 0]
        boxes_z = batch["template_instance_boxes"][:, 0].float()
        boxes_x = batch["search_instance_boxes"][:, 0].float()
        usable = (ids >= 0) & (boxes_z[..., 2:] >= MIN_QUERY_SIDE).all(-1) & (boxes_x[..., 2:] >= MIN_QUERY_SIDE).all(-1)
        if not usable.any():  # keep every annotated instance rather than an empty step
            usable = ids >= 0
        image_index, instance_index = torch.nonzero(usable, as_tuple=True)
        return self.forward_train(img_z, img_x, box_xywh_to_inclusive_xyxy(boxes_z[image_index, instance_index]),
                                  box_xywh_to_inclusive_xyxy(boxes_x[image_index, instance_index]), image_index,
                                  unpadded_shapes(batch["search_masks"][:, 0]))


def _check_data(cfg: TrainConfig) -> None:
    data, model = cfg.data, cfg.model
    if data.kind != "multi_instance" or data.template_frames != 1 or data.search_frames != 1:
        raise LongtrackError("globaltrack training needs data.kind 'multi_instance' with one template and "
                             f"one search frame, got {data.kind!r}, {data.template_frames}, {data.search_frames}")
    views = [*data.templates, data.search]
    if len(data.templates) != 1 or any(v.mode != "full" for v in views):
        raise LongtrackError("globaltrack searches whole frames: data.templates (one view) and data.search "
                             "need mode 'full'")
    sizes = {tuple(v.size) for v in views}
    if len(sizes) != 1:
        raise LongtrackError(f"globaltrack: template and search views need one size, got {sorted(sizes)}")
    width, height = sizes.pop()
    if width % model.pad_divisor or height % model.pad_divisor:
        raise LongtrackError(f"globaltrack: view size {width}x{height} must be a multiple of "
                             f"model.pad_divisor ({model.pad_divisor})")


def real_pair_evaluator(cfg: TrainConfig):
    """``evaluate(model)`` on ``data.validation``'s pairs: the first frame's box as the query, the
    top-1 detection in a later frame (as the tracker searches); logs the share with IoU >= 0.5,
    the mean IoU and the mean top-1 score. None without ``data.validation``."""
    if cfg.data.validation is None:
        return None
    pairs = validation_pairs(cfg.data.validation, seed=cfg.train.seed)

    def evaluate(model: GlobalTrack) -> dict[str, float]:
        device = next(model.parameters()).device
        ious, scores = [], []
        for pair in pairs:
            query_image = prepare_image(pair.query_frame, model.config, device)
            corners = box_xywh_to_inclusive_xyxy(torch.as_tensor(pair.query_box, dtype=torch.float32))
            rois = torch.cat([torch.zeros(1), corners * query_image.scale_factor]).view(1, 5).to(device)
            query = model.encode_query(model.extract_features(query_image.tensor), rois)
            search = prepare_image(pair.search_frame, model.config, device)
            out = model.detect(model.extract_features(search.tensor), query, search.img_shape,
                               search.scale_factor, with_nms=False)
            if out["scores"].numel() == 0:
                ious.append(0.0)
                scores.append(0.0)
                continue
            best = int(out["scores"].argmax())
            x1, y1, x2, y2 = out["boxes"][best].float().tolist()
            ious.append(float(iou(np.array([x1, y1, x2 - x1 + 1, y2 - y1 + 1]), pair.search_box)))
            scores.append(float(out["scores"][best]))
        ious = np.asarray(ious)
        return {"real_top1_iou50": float((ious >= 0.5).mean()), "real_top1_iou": float(ious.mean()),
                "real_top1_score": float(np.mean(scores))}

    return evaluate


def build(cfg: TrainConfig, device) -> TrainingSetup:
    """The model, the cross-query criterion and the multi-instance pairs of ``cfg``."""
    _check_data(cfg)
    model = GlobalTrackOnBatches(cfg.model)
    if cfg.model.pretrained_backbone:
        model.backbone.load_state_dict(load_pretrained(cfg.model.backbone, out_strides=cfg.model.roi_strides)
                                       .state_dict())
    criterion = GlobalTrackCriterion(rpn_sampling=cfg.model.rpn_sampling, rpn_coder=model.rpn_coder)
    return TrainingSetup(model=model, criterion=criterion, dataset=TrackingSamples(cfg.data, seed=cfg.train.seed),
                         collate_fn=collate_samples, evaluate=real_pair_evaluator(cfg))
