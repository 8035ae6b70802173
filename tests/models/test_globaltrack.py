"""GlobalTrack's network: paper-size parameter count, anchors, shapes and gradients of the
cross-query training pass, post-processing, preprocessing and the converter's checks."""
import math

import numpy as np
import pytest
import torch

from longtrack.convert.globaltrack import convert
from longtrack.errors import LongtrackError
from longtrack.models.globaltrack import GlobalTrack, GlobalTrackConfig, prepare_image
from longtrack.models.globaltrack.anchors import base_anchors, grid_anchors
from longtrack.models.globaltrack.config import DetectionConfig, ProposalConfig
from longtrack.models.globaltrack.postprocess import multiclass_nms, rpn_proposals
from longtrack.models.globaltrack.preprocess import rescale_size
from longtrack.ops import roi_align
from longtrack.train import load_config
from longtrack.train.criteria.globaltrack import GlobalTrackCriterion

TINY = GlobalTrackConfig(base_channels=4, fpn_channels=8, fc_channels=16, frozen_stages=-1, norm_eval=False,
                         max_size=(96, 64), train_rpn=ProposalConfig(nms_pre=200, nms_post=200, max_num=200))


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_size_parameter_count_equals_methods_md():
    model = GlobalTrack(GlobalTrackConfig.paper())
    parts = {"backbone": 23_508_032, "neck": 3_344_384, "rpn_head": 593_935, "bbox_head": 13_905_930,
             "rpn_modulator": 16_386_560, "rcnn_modulator": 1_245_952}
    assert {name: count(getattr(model, name)) for name in parts} == parts
    assert count(model) == 58_984_793
    # mmdet's frozen_stages=1: stem and layer1 take no gradient
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert frozen == count(model.backbone.conv1) + count(model.backbone.bn1) + count(model.backbone.layer1)


def test_small_config_is_the_synth_yaml(request):
    config = request.path.parents[2] / "configs" / "globaltrack-synth.yaml"
    assert load_config(config).model == GlobalTrackConfig.small()
    assert load_config(config.with_name("globaltrack-paper.yaml")).model == GlobalTrackConfig.paper()


def test_legacy_anchors_by_hand():
    # stride 4, scale 8: w = 32 / sqrt(r), h = 32 * sqrt(r), centre 1.5, corners rounded
    assert base_anchors(4, [8], [0.5, 1.0, 2.0]).tolist() == [[-21, -9, 24, 12], [-14, -14, 17, 17],
                                                                [-9, -21, 12, 24]]
    grid = grid_anchors(base_anchors(4, [8], [0.5, 1.0, 2.0]), (2, 3), 4)
    assert grid.shape == (2 * 3 * 3, 4)
    # index (y * W + x) * A + a: cell (y=1, x=2), anchor 1 is shifted by (8, 4)
    assert grid[(1 * 3 + 2) * 3 + 1].tolist() == [-14 + 8, -14 + 4, 17 + 8, 17 + 4]


def tiny_pair(queries_per_image=(2, 1)):
    torch.manual_seed(0)
    img_z, img_x = torch.randn(2, 3, 64, 96), torch.randn(2, 3, 64, 96)
    boxes = torch.tensor([[10.0, 8.0, 40.0, 30.0], [50.0, 20.0, 80.0, 55.0], [30.0, 10.0, 62.0, 40.0]])
    image = torch.tensor([0] * queries_per_image[0] + [1] * queries_per_image[1])
    return img_z, img_x, boxes, boxes + 2.0, image, torch.tensor([[64, 90], [60, 96]])


def test_cross_query_forward_shapes_and_gradients():
    model = GlobalTrack(TINY).train()
    img_z, img_x, boxes_z, boxes_x, image, shapes = tiny_pair()
    out = model.forward_train(img_z, img_x, boxes_z, boxes_x, image, shapes)
    assert [tuple(c.shape) for c in out["rpn_cls"]] == [(3, 3, 16, 24), (3, 3, 8, 12), (3, 3, 4, 6),
                                                        (3, 3, 2, 3), (3, 3, 1, 2)]
    assert [tuple(r.shape[1:2]) for r in out["rpn_reg"]] == [(12,)] * 5
    assert sum(a.shape[0] for a in out["anchors"]) == 3 * (16 * 24 + 8 * 12 + 4 * 6 + 2 * 3 + 1 * 2)
    k = out["rcnn_cls"].shape[0]
    assert out["rcnn_reg"].shape == (k, 8) and out["rcnn_labels"].shape == (k,)
    assert set(out["rcnn_query"].tolist()) == {0, 1, 2}
    # the ground truth is always added as a proposal: each query has a positive RoI
    assert all((out["rcnn_labels"][out["rcnn_query"] == q] == 1).any() for q in range(3))
    losses = GlobalTrackCriterion(rpn_sampling=TINY.rpn_sampling, rpn_coder=model.rpn_coder)(out, {})
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses["rpn_cls"] == pytest.approx(math.log(2), abs=0.05)  # untrained objectness ~ 0.5
    losses["loss"].backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []


def test_every_parameter_gets_a_gradient():
    model = GlobalTrack(TINY).train()
    for m in model.modules():  # residual branches start at zero (zero_init_residual): open them
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.ones_(m.weight)
    out = model.forward_train(*tiny_pair())
    # every anchor may be sampled (the images are too small for inside-the-image P4-P6 anchors)
    GlobalTrackCriterion(rpn_coder=model.rpn_coder, allowed_border=-1)(out, {})["loss"].backward()
    assert [n for n, p in model.named_parameters() if not p.grad.abs().sum() > 0] == []


def test_queries_of_one_image_share_its_backbone_pass():
    """The RPN of query q depends only on its own box and on its own pair's search image."""
    model = GlobalTrack(TINY).eval()
    img_z, img_x, boxes_z, _, image, _ = tiny_pair()
    with torch.no_grad():
        feats_z, feats_x = model.extract_features(img_z), model.extract_features(img_x)
        rois = torch.cat([image[:, None].float(), boxes_z], dim=1)
        _, together, _ = model.rpn(feats_x, model.encode_query(feats_z, rois), image)
        for q in range(3):
            one = model.encode_query([f[image[q]:image[q] + 1] for f in feats_z],
                                     torch.cat([torch.zeros(1), boxes_z[q]])[None])
            _, alone, _ = model.rpn([f[image[q]:image[q] + 1] for f in feats_x], one)
            for a, b in zip(together, alone):
                torch.testing.assert_close(a[q:q + 1], b, rtol=1e-5, atol=1e-6)



@pytest.mark.parametrize("aligned", [False, True])
def test_both_roi_align_conventions_follow_the_config(aligned):
    """Both extractors pool with the configured convention (legacy for the authors' weights,
    aligned otherwise): a box small enough for P2 equals a direct roi_align on P2 at 1/4."""
    model = GlobalTrack(TINY.replace(roi_aligned=aligned)).eval()
    img_z = tiny_pair()[0]
    rois = torch.tensor([[1.0, 10.0, 8.0, 40.0, 30.0]])  # sqrt(31 * 23) < 112: level 0 (P2)
    with torch.no_grad():
        feats = model.extract_features(img_z)
        query = model.encode_query(feats, rois)
        other = roi_align(feats[0], rois, 7, 0.25, 2, aligned=not aligned)
    for pooled in (query.rpn_roi, query.rcnn_roi):
        torch.testing.assert_close(pooled, roi_align(feats[0], rois, 7, 0.25, 2, aligned=aligned))
        assert not torch.allclose(pooled, other, atol=1e-4)  # the two conventions differ here


def test_rpn_proposals_by_hand():
    """Two anchors per map of 1x2 cells: scores order them, NMS (+1 IoU > 0.7) merges the twins,
    boxes are clipped to the image (inclusive: at most W - 1)."""
    anchors = [torch.tensor([[0.0, 0.0, 9.0, 9.0], [1.0, 0.0, 10.0, 9.0]]),
               torch.tensor([[20.0, 20.0, 59.0, 39.0], [0.0, 0.0, 4.0, 4.0]])]
    logits = [torch.tensor([[[0.0, 2.0]]]), torch.tensor([[[1.0, -1.0]]])]  # [A=1, H=1, W=2]
    deltas = [torch.zeros(4, 1, 2), torch.zeros(4, 1, 2)]
    proposals = rpn_proposals(logits, deltas, anchors, (30, 50), ProposalConfig(), _coder())
    sig = torch.sigmoid
    expected = torch.tensor([[1.0, 0.0, 10.0, 9.0, sig(torch.tensor(2.0))],  # suppresses its twin (IoU .82)
                             [20.0, 20.0, 49.0, 29.0, sig(torch.tensor(1.0))],  # clipped to (50, 30)
                             [0.0, 0.0, 4.0, 4.0, sig(torch.tensor(-1.0))]])
    torch.testing.assert_close(proposals, expected)


def _coder():
    from longtrack.ops.box_coder import DeltaXYWHBBoxCoder

    return DeltaXYWHBBoxCoder(plus_one=True)


def test_multiclass_nms_keeps_input_order_and_thresholds():
    boxes = torch.tensor([[0.0, 0, 0, 0, 0, 0, 10, 10], [0, 0, 0, 0, 1, 0, 11, 10], [0, 0, 0, 0, 30, 30, 40, 40]])
    scores = torch.tensor([[0.4, 0.6], [0.1, 0.9], [0.7, 0.3]])
    det, labels = multiclass_nms(boxes, scores, DetectionConfig(score_thr=0.0, nms_thr=0.5))
    # box 1 (0.9) suppresses box 0; survivors in ascending input order
    torch.testing.assert_close(det, torch.tensor([[1.0, 0, 11, 10, 0.9], [30, 30, 40, 40, 0.3]]))
    assert labels.tolist() == [0, 0]
    det, _ = multiclass_nms(boxes, scores, DetectionConfig(score_thr=0.5, nms_thr=0.5))
    torch.testing.assert_close(det[:, 4], torch.tensor([0.9]))


def test_preprocessing_rescales_normalises_and_pads():
    assert rescale_size(640, 480, (1333, 800)) == (1067, 800, pytest.approx(800 / 480))
    assert rescale_size(480, 640, (1333, 800))[:2] == (800, 1067)
    frame = np.full((48, 80, 3), (123, 116, 104), dtype=np.uint8)
    prepared = prepare_image(frame, GlobalTrackConfig(max_size=(120, 72)), "cpu")
    assert prepared.img_shape == (72, 120) and prepared.scale_factor == pytest.approx(1.5)
    assert prepared.tensor.shape == (1, 3, 96, 128)  # padded to multiples of 32
    assert prepared.tensor[..., 72:, :].abs().max() == 0 and prepared.tensor[..., 120:].abs().max() == 0
    assert prepared.tensor[0, 0, :72, :120].mean().item() == pytest.approx((123 - 123.675) / 58.395, abs=1e-4)


def test_converter_rejects_foreign_or_damaged_checkpoints():
    state = GlobalTrack(TINY).state_dict()
    config, converted = convert({f"module.{k}": v for k, v in state.items()}, {"max_size": [96, 64]})
    assert config["base_channels"] == 4 and config["max_size"] == [96, 64] and set(converted) == set(state)
    with pytest.raises(LongtrackError, match="no place"):
        convert({**state, "rpn_head.extra.weight": torch.zeros(1)}, {})
    with pytest.raises(LongtrackError, match="lacks"):
        convert({k: v for k, v in state.items() if k != "bbox_head.fc_cls.bias"}, {})
    with pytest.raises(LongtrackError, match="shape"):
        convert({**state, "rcnn_modulator.proj_x.bias": torch.zeros(3)}, {})
    with pytest.raises(LongtrackError, match="not a GlobalTrack"):
        convert({"backbone.conv1.weight": torch.zeros(8, 3, 7, 7)}, {})
