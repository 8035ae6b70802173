"""GlobalTrack (Huang et al., AAAI 2020): Faster R-CNN (ResNet + FPN) made query-guided.

The network is a set of stages the tracker and the training method call in turn; it holds no
tracking state:

1. :meth:`GlobalTrack.extract_features`: image ``[B, 3, H, W]`` -> P2..P6.
2. :meth:`GlobalTrack.encode_query`: query RoIs on the query image's P2..P5 -> :class:`QueryEncoding`
   (per-level QG-RPN kernels and the QG-RCNN ``proj_z`` map).
3. :meth:`GlobalTrack.rpn`: modulated search levels -> RPN logits and deltas per query;
   :meth:`GlobalTrack.propose` -> proposals.
4. :meth:`GlobalTrack.rcnn`: proposal RoIs modulated by their query -> class logits and deltas;
   :meth:`GlobalTrack.detect` runs 3-4 for one query and post-processes as the authors' tracker.

:meth:`GlobalTrack.forward_train` is the cross-query training pass (backbone once per image,
every query of a pair through the RPN and RCNN). Key names equal the authors' ``QG_RCNN``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ...backbones.fpn import FPN
from ...backbones.pretrained import PRETRAINED
from ...backbones.resnet import ResNet
from ...ops.box_coder import DeltaXYWHBBoxCoder
from ...ops.roi_levels import SingleRoIExtractor
from .anchors import multilevel_anchors
from .config import GlobalTrackConfig, ProposalConfig
from .heads import RPNHead, SharedFCBBoxHead
from .modulators import RCNNModulator, RPNModulator
from .postprocess import decode_detections, multiclass_nms, rpn_proposals
from .targets import sample_rcnn_rois

__all__ = ["GlobalTrack", "QueryEncoding"]


@dataclass
class QueryEncoding:
    """What the network keeps of Q queries (the tracker stores it for the whole sequence)."""

    rpn_roi: Tensor  # [Q, C, 7, 7] RoI feature of the QG-RPN's extractor
    rcnn_roi: Tensor  # [Q, C, 7, 7] RoI feature of the box head's extractor
    rpn_kernels: list[Tensor]  # per level [Q, C, 1, 1]
    rcnn_kernel: Tensor  # [Q, C, 7, 7] proj_z(rcnn_roi)

    def select(self, index: Tensor) -> "QueryEncoding":
        return QueryEncoding(self.rpn_roi[index], self.rcnn_roi[index],
                             [k[index] for k in self.rpn_kernels], self.rcnn_kernel[index])


class GlobalTrack(nn.Module):
    """QG-RCNN. ``config``: :class:`GlobalTrackConfig` (default: the paper's)."""

    def __init__(self, config: GlobalTrackConfig | None = None):
        super().__init__()
        self.config = cfg = config or GlobalTrackConfig()
        channels = cfg.fpn_channels
        if cfg.backbone == "resnet":
            self.backbone = ResNet(cfg.depth, base_channels=cfg.base_channels, frozen_stages=cfg.frozen_stages,
                                   norm_eval=cfg.norm_eval)
        else:  # C2-C5 of a mobile network; same ImageNet mean/std as the paper's input
            self.backbone = PRETRAINED[cfg.backbone].build(out_strides=cfg.roi_strides)
        self.neck = FPN(self.backbone.out_channels, channels, num_outs=len(cfg.anchor_strides))

        def roi_extractor() -> SingleRoIExtractor:
            return SingleRoIExtractor(cfg.roi_strides, cfg.roi_size, cfg.roi_sample_num, aligned=cfg.roi_aligned,
                                      finest_scale=cfg.finest_scale, plus_one=True)

        self.rpn_modulator = RPNModulator(channels, roi_extractor(), len(cfg.anchor_strides), cfg.roi_size)
        self.rpn_head = RPNHead(channels, channels, cfg.num_anchors)
        self.bbox_roi_extractor = roi_extractor()
        self.rcnn_modulator = RCNNModulator(channels)
        self.bbox_head = SharedFCBBoxHead(channels, cfg.roi_size, cfg.fc_channels, num_classes=2)
        self.rpn_coder = DeltaXYWHBBoxCoder(stds=cfg.rpn_target_stds, plus_one=True)
        self.rcnn_coder = DeltaXYWHBBoxCoder(stds=cfg.rcnn_target_stds, plus_one=True)
        self._anchor_cache: dict = {}

    def train(self, mode: bool = True) -> "GlobalTrack":
        """``norm_eval`` keeps a mobile backbone's BatchNorm statistics (ResNet does it itself):
        ImageNet statistics survive batches of a few frames."""
        super().train(mode)
        if mode and self.config.norm_eval and self.config.backbone != "resnet":
            for module in self.backbone.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    # -- stages --------------------------------------------------------------------------------
    def extract_features(self, images: Tensor) -> tuple[Tensor, ...]:
        """Normalised, padded ``[B, 3, H, W]`` -> 5 levels ``[B, C, H / s, W / s]``, s = 4..64."""
        return self.neck(self.backbone(images))

    def encode_query(self, feats_z: Sequence[Tensor], rois_z: Tensor) -> QueryEncoding:
        """``rois_z [Q, 5]`` (image index, x1, y1, x2, y2 in query-image pixels) -> encoding."""
        rpn_roi = self.rpn_modulator.query_features(feats_z, rois_z)
        rcnn_roi = self.bbox_roi_extractor(feats_z, rois_z)
        return QueryEncoding(rpn_roi, rcnn_roi, self.rpn_modulator.kernels(rpn_roi),
                             self.rcnn_modulator.query_kernel(rcnn_roi))

    def rpn(self, feats_x: Sequence[Tensor], query: QueryEncoding,
            image_index: Tensor | None = None) -> tuple[list[Tensor], list[Tensor], list[Tensor]]:
        """QG-RPN for Q queries (query ``q`` searches image ``image_index[q]``, default 0).

        Returns per level: modulated features ``[Q, C, H, W]``, logits ``[Q, A, H, W]``,
        deltas ``[Q, 4A, H, W]``.
        """
        modulated = self.rpn_modulator.modulate(feats_x, query.rpn_kernels, image_index)
        outs = [self.rpn_head(m) for m in modulated]
        return modulated, [o[0] for o in outs], [o[1] for o in outs]

    def anchors(self, feats: Sequence[Tensor]) -> list[Tensor]:
        """Anchors of every level for these feature-map sizes (cached)."""
        sizes = tuple(tuple(f.shape[-2:]) for f in feats)
        key = (sizes, str(feats[0].device))
        if key not in self._anchor_cache:
            cfg = self.config
            self._anchor_cache = {key: multilevel_anchors(sizes, cfg.anchor_strides, cfg.anchor_scales,
                                                          cfg.anchor_ratios, feats[0].device)}
        return self._anchor_cache[key]

    def propose(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor],
                img_shapes: Sequence[tuple[int, int]], cfg: ProposalConfig) -> list[Tensor]:
        """Proposals ``[P_q, 5]`` of each query q; ``img_shapes[q]`` is its search image's
        (height, width) before padding."""
        anchors = self.anchors(cls_scores)
        return [rpn_proposals([c[q] for c in cls_scores], [r[q] for r in bbox_preds], anchors,
                              tuple(img_shapes[q]), cfg, self.rpn_coder)
                for q in range(cls_scores[0].shape[0])]

    def rcnn(self, feats_x: Sequence[Tensor], rois: Tensor, query_kernel: Tensor) -> tuple[Tensor, Tensor]:
        """``rois [K, 5]`` on the search images, ``query_kernel [K or 1, C, 7, 7]`` (each RoI's
        query) -> class logits ``[K, 2]``, class-specific deltas ``[K, 8]``."""
        roi_feats = self.bbox_roi_extractor(feats_x, rois)
        return self.bbox_head(self.rcnn_modulator(roi_feats, query_kernel))

    # -- inference -------------------------------------------------------------------------------
    @torch.no_grad()
    def detect(self, feats_x: Sequence[Tensor], query: QueryEncoding, img_shape: tuple[int, int],
               scale_factor: float = 1.0, with_nms: bool = True) -> dict[str, Tensor]:
        """One query (Q = 1) against one search image, as the authors' ``_process_gallary``.

        Returns ``rpn_cls``/``rpn_reg`` (lists per level), ``proposals [P, 5]`` (input pixels),
        ``cls_score [P, 2]``, ``bbox_pred [P, 8]``, ``boxes [P, 4]`` (object class, divided by
        ``scale_factor``) and ``scores [P]`` (object probability), and with ``with_nms``
        ``detections [N, 5]`` (x1, y1, x2, y2, score) after the RCNN NMS.
        """
        cfg = self.config
        _, rpn_cls, rpn_reg = self.rpn(feats_x, query)
        proposals = self.propose(rpn_cls, rpn_reg, [img_shape], cfg.test_rpn)[0]
        rois = torch.cat([proposals.new_zeros((proposals.shape[0], 1)), proposals[:, :4]], dim=1)
        cls_score, bbox_pred = self.rcnn(feats_x, rois, query.rcnn_kernel)
        boxes, scores = decode_detections(proposals[:, :4], cls_score, bbox_pred, img_shape, scale_factor,
                                          self.rcnn_coder)
        out = {"rpn_cls": rpn_cls, "rpn_reg": rpn_reg, "proposals": proposals, "cls_score": cls_score,
               "bbox_pred": bbox_pred, "boxes": boxes[:, 4:8], "scores": scores[:, 1]}
        if with_nms:
            out["detections"] = multiclass_nms(boxes, scores, cfg.test_rcnn)[0]
        return out

    # -- training --------------------------------------------------------------------------------
    def forward_train(self, img_z: Tensor, img_x: Tensor, boxes_z: Tensor, boxes_x: Tensor,
                      query_image: Tensor, img_shapes: Tensor) -> dict:
        """The cross-query pass over B image pairs holding Q queries in all.

        Args:
            img_z, img_x: ``[B, 3, H, W]`` normalised query and search images (padded).
            boxes_z, boxes_x: ``[Q, 4]`` each query instance's box in its query / search image
                (inclusive-pixel xyxy).
            query_image: ``[Q]`` long, the pair each query belongs to.
            img_shapes: ``[B, 2]`` (height, width) of each search image before padding.
        Returns (for :class:`~longtrack.train.criteria.globaltrack.GlobalTrackCriterion`):
            ``rpn_cls`` / ``rpn_reg``: per level ``[Q, A, h, w]`` / ``[Q, 4A, h, w]``;
            ``anchors``: per level ``[h * w * A, 4]``; ``rcnn_cls [K, 2]``, ``rcnn_reg [K, 8]``,
            ``rcnn_labels [K]``, ``rcnn_deltas [K, 4]``, ``rcnn_query [K]`` (the query of each of
            the K sampled RoIs); and the inputs ``boxes_x``, ``query_image``, ``img_shapes``,
            ``pad_shape`` (H, W).
        """
        cfg = self.config
        feats_z = self.extract_features(img_z)
        feats_x = self.extract_features(img_x)
        rois_z = torch.cat([query_image[:, None].to(boxes_z), boxes_z], dim=1)
        query = self.encode_query(feats_z, rois_z)
        _, rpn_cls, rpn_reg = self.rpn(feats_x, query, query_image)
        shapes = [tuple(int(v) for v in img_shapes[i]) for i in query_image.tolist()]
        proposals = self.propose(rpn_cls, rpn_reg, shapes, cfg.train_rpn)
        rois, labels, deltas, owner = [], [], [], []
        for q, props in enumerate(proposals):
            samples = sample_rcnn_rois(props[:, :4], boxes_x[q], cfg.rcnn_sampling, self.rcnn_coder)
            index = samples.boxes.new_full((samples.boxes.shape[0], 1), float(query_image[q]))
            rois.append(torch.cat([index, samples.boxes], dim=1))
            labels.append(samples.labels)
            deltas.append(samples.deltas)
            owner.append(torch.full_like(samples.labels, q))
        owner_t = torch.cat(owner)
        rcnn_cls, rcnn_reg = self.rcnn(feats_x, torch.cat(rois), query.rcnn_kernel[owner_t])
        return {"rpn_cls": rpn_cls, "rpn_reg": rpn_reg, "anchors": self.anchors(rpn_cls),
                "rcnn_cls": rcnn_cls, "rcnn_reg": rcnn_reg, "rcnn_labels": torch.cat(labels),
                "rcnn_deltas": torch.cat(deltas), "rcnn_query": owner_t, "boxes_x": boxes_x,
                "query_image": query_image, "img_shapes": img_shapes,
                "pad_shape": torch.tensor(img_x.shape[-2:])}
