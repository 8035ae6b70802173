"""GlobalTrack's training targets and cross-query loss on hand-checked cases."""
import math

import pytest
import torch

from longtrack.models.globaltrack.config import SamplingConfig
from longtrack.models.globaltrack.targets import (assign_max_iou, legacy_box_iou, random_sample,
                                                  sample_rcnn_rois)
from longtrack.ops.box_coder import DeltaXYWHBBoxCoder
from longtrack.train.criteria.globaltrack import GlobalTrackCriterion

RPN = SamplingConfig()  # 0.7 / 0.3 / min 0.3, 256 samples, half positive
RCNN = SamplingConfig(num=512, pos_fraction=0.25, pos_iou=0.5, neg_iou=0.5, min_pos_iou=0.5, add_gt_as_proposals=True)
CODER = DeltaXYWHBBoxCoder(plus_one=True)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_legacy_iou_counts_inclusive_pixels():
    a = torch.tensor([[0.0, 0.0, 9.0, 9.0]])  # 10 x 10 pixels
    b = torch.tensor([[5.0, 0.0, 14.0, 9.0], [0.0, 0.0, 4.0, 4.0]])
    torch.testing.assert_close(legacy_box_iou(a, b), torch.tensor([[50 / 150, 25 / 100]]))


def test_max_iou_assignment_thresholds_and_best_anchor_rule():
    overlaps = torch.tensor([[0.8, 0.5, 0.1, 0.35, -1.0],
                             [0.2, 0.32, 0.0, 0.35, 0.0]])  # 2 ground truths x 5 boxes
    assigned = assign_max_iou(overlaps, RPN)
    # box 0 >= 0.7 -> gt 0; box 1 in [0.3, 0.7) ignored; box 2 < 0.3 negative; box 3 is gt 1's best
    # (0.35 >= min_pos 0.3, tie with gt 0 -> the later gt wins as in mmdet); box 4: IoU -1 stays ignored.
    assert assigned.tolist() == [1, -1, 0, 2, 0]


def test_random_sampling_caps_positives_and_fills_with_negatives():
    assigned = torch.tensor([1] * 300 + [0] * 1000 + [-1] * 50)
    pos, neg = random_sample(assigned, RPN, torch.Generator().manual_seed(0))
    assert len(pos) == 128 and len(neg) == 128
    assert (assigned[pos] > 0).all() and (assigned[neg] == 0).all() and len(set(pos.tolist())) == 128
    pos, neg = random_sample(torch.tensor([1, 1, 0, 0, 0]), RPN)
    assert sorted(pos.tolist()) == [0, 1] and sorted(neg.tolist()) == [2, 3, 4]


def test_rcnn_rois_add_the_ground_truth_as_a_positive():
    gt = torch.tensor([10.0, 10.0, 29.0, 29.0])
    proposals = torch.tensor([[10.0, 10.0, 31.0, 29.0], [50.0, 50.0, 60.0, 60.0], [0.0, 0.0, 5.0, 5.0]])
    samples = sample_rcnn_rois(proposals, gt, RCNN, CODER)
    assert samples.labels.tolist() == [1, 1, 0, 0]  # gt, the 0.91-IoU proposal; then the negatives
    torch.testing.assert_close(samples.boxes[0], gt)
    torch.testing.assert_close(samples.deltas[0], torch.zeros(4))
    assert samples.deltas[2:].abs().sum() == 0
    torch.testing.assert_close(samples.deltas[1], CODER.encode(proposals[0], gt))


def hand_outputs():
    """Two queries on one image, one level of three 1x1 anchors (A=1, H=1, W=3); RCNN: 3 + 1 RoIs."""
    anchors = torch.tensor([[0.0, 0.0, 9.0, 9.0], [20.0, 20.0, 29.0, 29.0], [0.0, 0.0, 4.0, 4.0]])
    rpn_cls = torch.tensor([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]]).view(2, 1, 1, 3)
    rpn_reg = torch.zeros(2, 4, 1, 3)
    rpn_reg[0, 0, 0, 0] = 0.1  # query 0's dx at anchor 0
    rcnn_cls = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    rcnn_reg = torch.zeros(4, 8)
    rcnn_reg[0, 4:] = torch.tensor([0.5, 0.0, 0.0, 2.0])  # object-class deltas of the positive RoI
    return {"anchors": [anchors], "rpn_cls": [rpn_cls], "rpn_reg": [rpn_reg],
            "boxes_x": torch.tensor([[0.0, 0.0, 9.0, 9.0], [20.0, 20.0, 29.0, 29.0]]),
            "query_image": torch.tensor([0, 0]), "img_shapes": torch.tensor([[30, 30]]),
            "rcnn_cls": rcnn_cls, "rcnn_reg": rcnn_reg, "rcnn_labels": torch.tensor([1, 0, 0, 0]),
            "rcnn_deltas": torch.zeros(4, 4), "rcnn_query": torch.tensor([0, 0, 0, 1])}


def test_cross_query_loss_by_hand():
    losses = GlobalTrackCriterion()(hand_outputs(), {})
    # RPN, query 0: anchor 0 positive (IoU 1), anchors 1 (IoU 0) and 2 (IoU .25) negative, 3 samples.
    rpn_cls_0 = (softplus(-2.0) + softplus(-1.0) + softplus(0.5)) / 3
    rpn_bbox_0 = 0.5 * 0.1 ** 2 / (1 / 9) / 3  # smooth L1, beta 1/9, only dx is off
    # query 1: its target is anchor 1; anchors 0 and 2 are background (another instance's box too)
    rpn_cls_1 = 3 * math.log(2) / 3
    assert losses["rpn_cls"].item() == pytest.approx((rpn_cls_0 + rpn_cls_1) / 2, rel=1e-6)
    assert losses["rpn_bbox"].item() == pytest.approx(rpn_bbox_0 / 2, rel=1e-6)
    # RCNN, each query normalised by its own RoI count, then the mean over queries
    rcnn_cls_0 = (softplus(-1.0) + softplus(-1.0) + math.log(2)) / 3
    rcnn_cls_1 = math.log(2)
    rcnn_bbox_0 = (0.5 * 0.5 ** 2 + (2.0 - 0.5)) / 3  # smooth L1, beta 1
    assert losses["rcnn_cls"].item() == pytest.approx((rcnn_cls_0 + rcnn_cls_1) / 2, rel=1e-6)
    assert losses["rcnn_bbox"].item() == pytest.approx(rcnn_bbox_0 / 2, rel=1e-6)
    total = losses["rpn_cls"] + losses["rpn_bbox"] + losses["rcnn_cls"] + losses["rcnn_bbox"]
    assert losses["loss"].item() == pytest.approx(total.item(), rel=1e-6)
    assert losses["num_queries"].item() == 2 and losses["rcnn_acc"].item() == 1.0


def test_anchors_outside_the_image_are_never_sampled():
    outputs = hand_outputs()
    outputs["img_shapes"] = torch.tensor([[25, 25]])  # anchor 1 (20..29) now crosses the border
    losses = GlobalTrackCriterion()(outputs, {})
    rpn_cls_0 = (softplus(-2.0) + softplus(0.5)) / 2
    # query 1's target anchor is outside: its only candidates (0 and 2) do not reach IoU 0.3
    rpn_cls_1 = 2 * math.log(2) / 2
    assert losses["rpn_cls"].item() == pytest.approx((rpn_cls_0 + rpn_cls_1) / 2, rel=1e-6)
