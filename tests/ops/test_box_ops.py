"""Torch box ops: the numpy conventions of longtrack.boxes, and GIoU against a literal loop."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from longtrack import boxes as nboxes
from longtrack.ops import (
    box_area,
    box_convert,
    box_xywh_to_inclusive_xyxy,
    box_iou,
    box_iou_elementwise,
    generalized_box_iou,
    generalized_box_iou_elementwise,
)

torch.set_num_threads(1)

FORMATS = ["xywh", "xyxy", "cxcywh"]
XYWH = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 5.0, 5.0], [0.0, 0.0, 0.0, 3.0],
                 [2.5, 3.5, 8.0, 1.0], [-4.0, -4.0, 6.0, 6.0], [3.0, 3.0, -2.0, 4.0]])


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("dst", FORMATS)
def test_convert_matches_numpy(src, dst):
    data = nboxes.convert(XYWH, "xywh", src)
    ours = box_convert(torch.from_numpy(data), src, dst)
    np.testing.assert_allclose(ours.numpy(), nboxes.convert(data, src, dst), rtol=0, atol=1e-12)


def test_inclusive_corners_match_numpy():
    ours = box_xywh_to_inclusive_xyxy(torch.from_numpy(XYWH))
    np.testing.assert_array_equal(ours.numpy(), nboxes.xywh_to_inclusive_xyxy(XYWH))


def test_iou_matches_numpy_pairwise_and_elementwise():
    a = torch.from_numpy(nboxes.xywh_to_xyxy(XYWH))
    np.testing.assert_allclose(box_iou(a, a.flip(0)).numpy(), nboxes.pairwise_iou(XYWH, XYWH[::-1]), atol=1e-12)
    np.testing.assert_allclose(box_iou_elementwise(a, a.flip(0)).numpy(), nboxes.iou(XYWH, XYWH[::-1]), atol=1e-12)
    np.testing.assert_allclose(box_area(a).numpy(), nboxes.area(XYWH), atol=1e-12)


def reference_giou(a, b):
    """Generalized IoU of two xyxy boxes, written out."""
    def area(x1, y1, x2, y2):
        return max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
    inter = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    union = area(*a) + area(*b) - inter
    iou = inter / union if union > 0 else 0.0
    enclosing = area(min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
    return iou - ((enclosing - union) / enclosing if enclosing > 0 else 0.0)


def test_giou_matches_literal_loop():
    a = nboxes.xywh_to_xyxy(XYWH)
    b = a[::-1] + 0.5
    ours = generalized_box_iou(torch.from_numpy(a), torch.from_numpy(b.copy())).numpy()
    ref = np.array([[reference_giou(x, y) for y in b] for x in a])
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    elementwise = generalized_box_iou_elementwise(torch.from_numpy(a), torch.from_numpy(b.copy())).numpy()
    np.testing.assert_allclose(elementwise, np.diag(ref), atol=1e-12)
    assert ours.min() >= -1 and ours.max() <= 1


def test_giou_and_iou_gradients():
    a = torch.tensor([[0.0, 0.0, 4.0, 3.0], [1.0, 2.0, 5.0, 9.0]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[1.5, 0.5, 6.0, 2.5], [8.0, 8.0, 12.0, 11.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(generalized_box_iou_elementwise, (a, b))
    assert torch.autograd.gradcheck(box_iou, (a, b))


def test_degenerate_boxes_give_zero_iou_and_finite_gradients():
    point = torch.tensor([[2.0, 2.0, 2.0, 2.0]], requires_grad=True)
    other = torch.tensor([[2.0, 2.0, 2.0, 2.0]])
    giou = generalized_box_iou(point, other)
    assert giou.item() == 0.0
    giou.sum().backward()
    assert torch.isfinite(point.grad).all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=4, max_size=4),
       st.sampled_from(FORMATS), st.sampled_from(FORMATS))
def test_round_trip(values, src, dst):
    boxes = torch.tensor([values], dtype=torch.float64)
    back = box_convert(box_convert(boxes, src, dst), dst, src)
    torch.testing.assert_close(back, boxes, rtol=0, atol=1e-9)


def test_rejects_bad_shape_and_format():
    with pytest.raises(ValueError, match="last dimension of 4"):
        box_iou(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="unknown box format"):
        box_convert(torch.zeros(1, 4), "xywh", "yxyx")
