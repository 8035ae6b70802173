"""The ops reproduce intermediate outputs of the authors' own code (shared/fixtures/official).

GlobalTrack ran mmdetection v1 (legacy RoIAlign, +1 boxes, +1 NMS); DMTrack ran mmdetection
2.0 (aligned RoIAlign, no +1, class-offset batched NMS). Each case feeds the fixture's own
intermediate tensors into our ops and compares with the next intermediate it recorded.
"""
from __future__ import annotations

import pytest
import torch

from longtrack.ops import DeltaXYWHBBoxCoder, SingleRoIExtractor, batched_nms, distance2bbox, nms

torch.set_num_threads(1)


def load_case(shared_dir, method):
    folder = shared_dir / "fixtures" / "official" / method / "case1"
    return (torch.load(folder / "inputs.pt", weights_only=True),
            torch.load(folder / "outputs.pt", weights_only=True))


def assert_relative_close(ours, ref, tol=1e-5):
    rel = float((ours - ref).abs().max() / ref.abs().max())
    assert rel < tol, f"max |ours - ref| / max |ref| = {rel:.2e}"


@pytest.fixture(scope="module")
def globaltrack(shared_dir):
    return load_case(shared_dir, "globaltrack")


@pytest.fixture(scope="module")
def dmtrack(shared_dir):
    return load_case(shared_dir, "dmtrack")


def test_globaltrack_query_roi_features(globaltrack):
    inputs, outputs = globaltrack
    feats = [outputs[f"fpn_z_p{k}"] for k in (2, 3, 4, 5)]
    rois = torch.cat([torch.zeros(1, 1), inputs["gt_bboxes_z"]], dim=1)
    extractor = SingleRoIExtractor(strides=[4, 8, 16, 32], output_size=7, sampling_ratio=2, aligned=False,
                                   finest_scale=56, plus_one=True)
    ours = extractor(feats, rois)
    assert_relative_close(ours, outputs["rpn_query_roi_feat"])
    assert_relative_close(ours, outputs["rcnn_query_roi_feat"])
    # The aligned convention gives visibly different features: the test can tell them apart.
    aligned = SingleRoIExtractor([4, 8, 16, 32], 7, 2, aligned=True, plus_one=True)(feats, rois)
    assert float((aligned - outputs["rpn_query_roi_feat"]).abs().max()) > 1e-2


def globaltrack_rcnn_boxes(inputs, outputs):
    """Per-proposal object-class box (rescaled) and softmax score: their ``keep_order`` path."""
    coder = DeltaXYWHBBoxCoder(means=(0, 0, 0, 0), stds=(0.1, 0.1, 0.2, 0.2), plus_one=True)
    img_h, img_w = inputs["img_shape_x"][:2].tolist()
    boxes = coder.decode(outputs["proposals"][:, :4], outputs["rcnn_bbox_pred"], (img_h, img_w))
    boxes = boxes[:, 4:8] / inputs["scale_factor_x"]
    scores = outputs["rcnn_cls_score"].softmax(-1)[:, 1]
    return boxes, scores


def test_globaltrack_box_decoding(globaltrack):
    inputs, outputs = globaltrack
    boxes, scores = globaltrack_rcnn_boxes(inputs, outputs)
    torch.testing.assert_close(boxes, outputs["det_keep_order"][:, :4], rtol=0, atol=1e-3)
    torch.testing.assert_close(scores, outputs["det_keep_order"][:, 4], rtol=0, atol=1e-6)
    # Without the +1 convention the boxes move by about half a pixel.
    plain = DeltaXYWHBBoxCoder(stds=(0.1, 0.1, 0.2, 0.2)).decode(
        outputs["proposals"][:, :4], outputs["rcnn_bbox_pred"])[:, 4:8] / inputs["scale_factor_x"]
    assert float((plain - outputs["det_keep_order"][:, :4]).abs().max()) > 0.1


def test_globaltrack_rcnn_nms(globaltrack):
    inputs, outputs = globaltrack
    boxes, scores = globaltrack_rcnn_boxes(inputs, outputs)
    candidates = torch.nonzero(scores > 0.0).squeeze(1)
    keep = nms(boxes[candidates], scores[candidates], 0.5, plus_one=True)
    # mmdetection v1 returns kept rows in index (= RPN score) order.
    kept = candidates[keep.sort().values]
    ours = torch.cat([boxes[kept], scores[kept, None]], dim=1)
    assert ours.shape == outputs["det_bboxes"].shape
    torch.testing.assert_close(ours, outputs["det_bboxes"], rtol=0, atol=1e-3)
    top = ours[ours[:, 4].argmax(), :4]
    torch.testing.assert_close(top, outputs["tracker_top1_x1y1x2y2"], rtol=0, atol=1e-3)


def test_dmtrack_template_roi_feature(dmtrack):
    inputs, outputs = dmtrack
    feats = [outputs[f"fpn_z_p{k}"] for k in (3, 4, 5)]
    rois = torch.cat([torch.zeros(1, 1), inputs["gt_bboxes_z"]], dim=1)
    ours = SingleRoIExtractor([8, 16, 32], 7, 2, aligned=True, finest_scale=56, plus_one=False)(feats, rois)
    assert_relative_close(ours, outputs["template_roi_feat"])


def test_dmtrack_fcos_decoding_and_batched_nms(dmtrack):
    """Their get_bboxes + multiclass_nms, re-assembled from our distance2bbox and batched_nms."""
    inputs, outputs = dmtrack
    img_h, img_w = inputs["img_shape_x"][:2].tolist()
    all_boxes, all_scores, all_ctr = [], [], []
    for level, stride in zip((3, 4, 5), (8, 16, 32)):
        cls = outputs[f"cls_score_p{level}"][0]
        height, width = cls.shape[1:]
        ys, xs = torch.meshgrid(torch.arange(height) * stride, torch.arange(width) * stride, indexing="ij")
        points = torch.stack([xs.reshape(-1), ys.reshape(-1)], -1).float() + stride // 2
        scores = cls.permute(1, 2, 0).reshape(-1, 2).sigmoid()
        ctr = outputs[f"centerness_p{level}"][0].permute(1, 2, 0).reshape(-1).sigmoid()
        dist = outputs[f"bbox_pred_p{level}"][0].permute(1, 2, 0).reshape(-1, 4)
        if scores.shape[0] > 1000:
            top = (scores * ctr[:, None]).max(dim=1).values.topk(1000).indices
            points, scores, ctr, dist = points[top], scores[top], ctr[top], dist[top]
        all_boxes.append(distance2bbox(points, dist, max_shape=(img_h, img_w)))
        all_scores.append(scores)
        all_ctr.append(ctr)
    boxes = torch.cat(all_boxes) / inputs["scale_factor_x"]
    scores, ctr = torch.cat(all_scores), torch.cat(all_ctr)
    valid = scores > 0
    rows, labels = torch.nonzero(valid, as_tuple=True)
    cand_boxes, cand_scores = boxes[rows], (scores * ctr[:, None])[valid]
    keep = batched_nms(cand_boxes, cand_scores, labels, 0.5)[:100]
    ours = torch.cat([cand_boxes[keep], cand_scores[keep, None]], dim=1)
    torch.testing.assert_close(ours, outputs["det_bboxes_all_classes"], rtol=0, atol=1e-3)
    assert labels[keep].tolist() == outputs["det_labels_all_classes"].tolist()
