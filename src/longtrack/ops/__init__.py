"""Pure-PyTorch detection and tracking ops (no torchvision, no compiled extensions).

Each op states its convention in its module docstring; docs/ops.md lists them with
benchmarks.
"""
from .box_coder import DeltaXYWHBBoxCoder, DistancePointBBoxCoder, bbox2distance, distance2bbox
from .box_ops import (
    box_area,
    box_convert,
    box_cxcywh_to_xywh,
    box_cxcywh_to_xyxy,
    box_iou,
    box_iou_elementwise,
    box_xywh_to_cxcywh,
    box_xywh_to_inclusive_xyxy,
    box_xywh_to_xyxy,
    box_xyxy_to_cxcywh,
    box_xyxy_to_xywh,
    generalized_box_iou,
    generalized_box_iou_elementwise,
)
from .deform_conv import ModulatedDeformConvPack, modulated_deform_conv2d
from .losses import (
    gaussian_focal_loss,
    giou_loss,
    iou_loss,
    l1_loss,
    sigmoid_focal_loss,
    smooth_l1_loss,
    weight_reduce_loss,
)
from .matcher import HungarianMatcher
from .ms_deform_attn import MSDeformAttn, ms_deform_attn
from .nms import batched_nms, nms
from .roi_align import RoIAlign, roi_align
from .roi_levels import SingleRoIExtractor, extract_roi_features, map_roi_levels

__all__ = [
    "DeltaXYWHBBoxCoder", "DistancePointBBoxCoder", "bbox2distance", "distance2bbox",
    "box_area", "box_convert", "box_cxcywh_to_xywh", "box_cxcywh_to_xyxy", "box_iou",
    "box_iou_elementwise", "box_xywh_to_cxcywh", "box_xywh_to_inclusive_xyxy", "box_xywh_to_xyxy",
    "box_xyxy_to_cxcywh", "box_xyxy_to_xywh", "generalized_box_iou", "generalized_box_iou_elementwise",
    "ModulatedDeformConvPack", "modulated_deform_conv2d",
    "gaussian_focal_loss", "giou_loss", "iou_loss", "l1_loss", "sigmoid_focal_loss",
    "smooth_l1_loss", "weight_reduce_loss",
    "HungarianMatcher",
    "MSDeformAttn", "ms_deform_attn",
    "batched_nms", "nms",
    "RoIAlign", "roi_align",
    "SingleRoIExtractor", "extract_roi_features", "map_roi_levels",
]
