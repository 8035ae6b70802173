import numpy as np
import pytest

from longtrack import boxes


def test_conversions_hand_computed():
    xywh = np.array([10.0, 20.0, 30.0, 40.0])
    assert boxes.xywh_to_xyxy(xywh).tolist() == [10, 20, 40, 60]
    assert boxes.xywh_to_cxcywh(xywh).tolist() == [25, 40, 30, 40]
    assert boxes.convert([25, 40, 30, 40], "cxcywh", "xyxy").tolist() == [10, 20, 40, 60]


def test_inclusive_corners_count_both_end_pixels():
    # mmdetection v1: a 30-pixel-wide box starting at x=10 covers pixels 10 .. 39.
    assert boxes.xywh_to_inclusive_xyxy([10.0, 20.0, 30.0, 15.0]).tolist() == [10, 20, 39, 34]
    assert boxes.inclusive_xyxy_to_xywh([10.0, 20.0, 39.0, 34.0]).tolist() == [10, 20, 30, 15]
    rng = np.random.default_rng(2)
    b = rng.uniform(0, 100, size=(5, 4))
    np.testing.assert_allclose(boxes.inclusive_xyxy_to_xywh(boxes.xywh_to_inclusive_xyxy(b)), b, atol=1e-12)
    # The continuous convention differs by exactly one pixel in x2 and y2.
    np.testing.assert_allclose(boxes.xywh_to_xyxy(b) - boxes.xywh_to_inclusive_xyxy(b), [[0, 0, 1, 1]] * 5)


def test_with_min_side_raises_only_small_sides():
    out = boxes.with_min_side([[5, 6, 0.25, 30], [1, 2, 3, 4], [7, 8, -2, 0]], 1.0)
    assert out.tolist() == [[5, 6, 1, 30], [1, 2, 3, 4], [7, 8, 1, 1]]


@pytest.mark.parametrize("src", ["xywh", "xyxy", "cxcywh"])
@pytest.mark.parametrize("dst", ["xywh", "xyxy", "cxcywh"])
def test_round_trip_any_format(src, dst):
    rng = np.random.default_rng(0)
    b = rng.uniform(0, 100, size=(7, 3, 4))
    back = boxes.convert(boxes.convert(b, src, dst), dst, src)
    np.testing.assert_allclose(back, b, atol=1e-12)


def test_iou_hand_computed():
    # Two 10x10 boxes overlapping in a 5x10 strip: 50 / (100 + 100 - 50) = 1/3.
    assert boxes.iou([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(1 / 3)
    assert boxes.iou([0, 0, 10, 10], [0, 0, 10, 10]) == pytest.approx(1.0)
    assert boxes.iou([0, 0, 10, 10], [20, 20, 5, 5]) == 0.0
    # Touching edges share no area.
    assert boxes.iou([0, 0, 10, 10], [10, 0, 10, 10]) == 0.0


def test_iou_degenerate_boxes_are_zero_not_nan():
    out = boxes.iou([[0, 0, 0, 0], [0, 0, -5, 3]], [[0, 0, 0, 0], [0, 0, 10, 10]])
    assert out.tolist() == [0.0, 0.0]


def test_pairwise_iou_matches_elementwise():
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.uniform(0, 50, (5, 2)), rng.uniform(1, 30, (5, 2))], 1)
    b = np.concatenate([rng.uniform(0, 50, (4, 2)), rng.uniform(1, 30, (4, 2))], 1)
    m = boxes.pairwise_iou(a, b)
    assert m.shape == (5, 4)
    for i in range(5):
        for j in range(4):
            assert m[i, j] == pytest.approx(boxes.iou(a[i], b[j]))


def test_clip_xywh():
    out = boxes.clip_xywh([[-5, -5, 20, 20], [90, 40, 20, 20], [200, 200, 5, 5]], 100, 50)
    assert out.tolist() == [[0, 0, 15, 15], [90, 40, 10, 10], [100, 50, 0, 0]]


def test_bad_shape_is_rejected():
    with pytest.raises(ValueError):
        boxes.iou([1, 2, 3], [1, 2, 3])


def test_is_valid():
    assert boxes.is_valid([[0, 0, 1, 1], [0, 0, 0, 1], [np.nan, 0, 1, 1]]).tolist() == [True, False, False]
