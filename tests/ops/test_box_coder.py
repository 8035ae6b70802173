"""Box coders against scalar transcriptions of mmdetection v1 / 2.0 bbox2delta, delta2bbox, distance2bbox."""
from __future__ import annotations

import math

import pytest
import torch

from longtrack.ops import DeltaXYWHBBoxCoder, DistancePointBBoxCoder, bbox2distance, distance2bbox

torch.set_num_threads(1)

MAX_RATIO = abs(math.log(16 / 1000))
MEANS, STDS = (0.0, 0.0, 0.0, 0.0), (0.1, 0.1, 0.2, 0.2)


def reference_encode(p, g, plus_one):
    e = 1.0 if plus_one else 0.0
    px, py, pw, ph = (p[0] + p[2]) * 0.5, (p[1] + p[3]) * 0.5, p[2] - p[0] + e, p[3] - p[1] + e
    gx, gy, gw, gh = (g[0] + g[2]) * 0.5, (g[1] + g[3]) * 0.5, g[2] - g[0] + e, g[3] - g[1] + e
    d = [(gx - px) / pw, (gy - py) / ph, math.log(gw / pw), math.log(gh / ph)]
    return [(v - m) / s for v, m, s in zip(d, MEANS, STDS)]


def reference_decode(r, d, max_shape, plus_one):
    e = 1.0 if plus_one else 0.0
    dx, dy, dw, dh = (v * s + m for v, m, s in zip(d, MEANS, STDS))
    dw, dh = min(max(dw, -MAX_RATIO), MAX_RATIO), min(max(dh, -MAX_RATIO), MAX_RATIO)
    px, py, pw, ph = (r[0] + r[2]) * 0.5, (r[1] + r[3]) * 0.5, r[2] - r[0] + e, r[3] - r[1] + e
    gw, gh = pw * math.exp(dw), ph * math.exp(dh)
    gx, gy = px + pw * dx, py + ph * dy
    half = 0.5 if plus_one else 0.0
    box = [gx - gw * 0.5 + half, gy - gh * 0.5 + half, gx + gw * 0.5 - half, gy + gh * 0.5 - half]
    if max_shape is not None:
        lim = [max_shape[1] - e, max_shape[0] - e] * 2
        box = [min(max(v, 0.0), m) for v, m in zip(box, lim)]
    return box


ROIS = torch.tensor([[10.0, 20.0, 50.0, 80.0], [0.0, 0.0, 5.0, 3.0], [100.0, 90.0, 180.0, 110.0]],
                    dtype=torch.float64)
GTS = torch.tensor([[12.0, 18.0, 55.0, 70.0], [1.0, -2.0, 9.0, 4.0], [150.0, 60.0, 190.0, 130.0]],
                   dtype=torch.float64)
DELTAS = torch.tensor([[0.3, -0.2, 1.1, -0.4, 0.0, 0.1, 30.0, -30.0],  # huge dw/dh -> clamped
                       [-1.0, 0.5, 0.2, 0.2, 2.0, 2.0, -0.5, 0.7],
                       [0.05, 0.05, -25.0, 25.0, -3.0, 1.0, 0.0, 0.0]], dtype=torch.float64)


@pytest.mark.parametrize("plus_one", [False, True])
def test_encode_matches_reference(plus_one):
    coder = DeltaXYWHBBoxCoder(MEANS, STDS, plus_one=plus_one)
    ours = coder.encode(ROIS, GTS)
    ref = torch.tensor([reference_encode(p, g, plus_one) for p, g in zip(ROIS.tolist(), GTS.tolist())],
                       dtype=torch.float64)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("plus_one", [False, True])
@pytest.mark.parametrize("max_shape", [None, (100, 120)])
def test_decode_class_specific_matches_reference(plus_one, max_shape):
    coder = DeltaXYWHBBoxCoder(MEANS, STDS, plus_one=plus_one)
    ours = coder.decode(ROIS, DELTAS, max_shape)
    assert ours.shape == (3, 8)
    ref = [[v for k in range(2) for v in reference_decode(r, d[4 * k:4 * k + 4], max_shape, plus_one)]
           for r, d in zip(ROIS.tolist(), DELTAS.tolist())]
    torch.testing.assert_close(ours, torch.tensor(ref, dtype=torch.float64), rtol=0, atol=1e-10)


@pytest.mark.parametrize("plus_one", [False, True])
def test_round_trip_and_batched_leading_dims(plus_one):
    coder = DeltaXYWHBBoxCoder(MEANS, STDS, plus_one=plus_one)
    torch.testing.assert_close(coder.decode(ROIS, coder.encode(ROIS, GTS)), GTS, rtol=0, atol=1e-9)
    batched = coder.decode(ROIS[None].repeat(2, 1, 1), DELTAS[None, :, :4].repeat(2, 1, 1))
    torch.testing.assert_close(batched[1], coder.decode(ROIS, DELTAS[:, :4]))


def test_decode_gradcheck():
    coder = DeltaXYWHBBoxCoder(MEANS, STDS)
    deltas = (DELTAS[:, :4] * 0.1).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda d: coder.decode(ROIS, d, (100, 120)), (deltas,))


def test_decode_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="4k"):
        DeltaXYWHBBoxCoder().decode(ROIS, DELTAS[:, :6])


POINTS = torch.tensor([[10.0, 20.0], [0.0, 0.0], [99.0, 50.0]], dtype=torch.float64)
DIST = torch.tensor([[3.0, 4.0, 5.0, 6.0], [2.0, 2.0, 1.0, 1.0], [10.0, 1.0, 30.0, 70.0]], dtype=torch.float64)


@pytest.mark.parametrize("plus_one", [False, True])
def test_distance2bbox_matches_reference_and_clips(plus_one):
    ours = distance2bbox(POINTS, DIST, (100, 120), plus_one)
    e = 1.0 if plus_one else 0.0
    for (x, y), (l, t, r, b), box in zip(POINTS.tolist(), DIST.tolist(), ours.tolist()):
        expect = [min(max(x - l, 0), 120 - e), min(max(y - t, 0), 100 - e),
                  min(max(x + r, 0), 120 - e), min(max(y + b, 0), 100 - e)]
        assert box == pytest.approx(expect, abs=1e-12)
    assert ours[2, 2] == 120 - e and ours[2, 3] == 100 - e


def test_distance_round_trip_and_clamp():
    boxes = distance2bbox(POINTS, DIST)
    torch.testing.assert_close(bbox2distance(POINTS, boxes), DIST)
    coder = DistancePointBBoxCoder()
    torch.testing.assert_close(coder.decode(POINTS, coder.encode(POINTS, boxes)), boxes)
    clamped = bbox2distance(POINTS, boxes, max_dis=8.0)
    assert float(clamped.max()) == pytest.approx(7.9) and float(clamped.min()) >= 0
