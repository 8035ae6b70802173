"""RoIAlign against literal, scalar transcriptions of the two mmdetection kernels."""
from __future__ import annotations

import math

import pytest
import torch

from longtrack.ops import RoIAlign, roi_align

torch.set_num_threads(1)


def kernel_bilinear(feat, height, width, y, x):
    """The kernels' ``bilinear_interpolate``: feat (C, H, W), scalar y, x -> (C,)."""
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return torch.zeros(feat.shape[0], dtype=feat.dtype)
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_high = y_low = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_high = x_low = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1.0 - ly, 1.0 - lx
    return (hy * hx * feat[:, y_low, x_low] + hy * lx * feat[:, y_low, x_high]
            + ly * hx * feat[:, y_high, x_low] + ly * lx * feat[:, y_high, x_high])


def reference_roi_align(features, rois, out_h, out_w, scale, sample_num, aligned):
    """One RoI, one bin, one sample at a time (roi_align_kernel.cu / roi_align_kernel_v2.cu)."""
    _, channels, height, width = features.shape
    pooled = []
    for roi in rois.tolist():
        feat = features[int(roi[0])]
        if aligned:
            start_w, start_h = roi[1] * scale - 0.5, roi[2] * scale - 0.5
            roi_w, roi_h = roi[3] * scale - 0.5 - start_w, roi[4] * scale - 0.5 - start_h
        else:  # legacy v1: inclusive end pixel, width floored at 0
            start_w, start_h = roi[1] * scale, roi[2] * scale
            roi_w = max((roi[3] + 1) * scale - start_w, 0.0)
            roi_h = max((roi[4] + 1) * scale - start_h, 0.0)
        bin_h, bin_w = roi_h / out_h, roi_w / out_w
        grid_h = sample_num if sample_num > 0 else math.ceil(roi_h / out_h)
        grid_w = sample_num if sample_num > 0 else math.ceil(roi_w / out_w)
        count = max(grid_h * grid_w, 1)  # v1 divides by 0 here (NaN); documented deviation
        bins = torch.zeros(channels, out_h, out_w, dtype=features.dtype)
        for ph in range(out_h):
            for pw in range(out_w):
                acc = torch.zeros(channels, dtype=features.dtype)
                for iy in range(grid_h):
                    y = start_h + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        x = start_w + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                        acc = acc + kernel_bilinear(feat, height, width, y, x)
                bins[:, ph, pw] = acc / count
        pooled.append(bins)
    return torch.stack(pooled)


H, W = 7, 9
# Ordinary, partly outside, fully outside, zero-size, inverted, touching every border.
ROIS_IN_PIXELS = [
    [0, 2.3, 3.1, 10.7, 9.9],
    [1, -6.0, -4.0, 5.0, 3.0],
    [0, 60.0, 44.0, 70.0, 52.0],
    [1, 4.0, 4.0, 4.0, 4.0],
    [0, 8.0, 6.0, 2.0, 1.0],
    [1, 0.0, 0.0, 2 * W - 1.0, 2 * H - 1.0],
    [0, 0.0, 0.0, 2 * W, 2 * H],
    [1, 1.0, 5.5, 17.9, 13.9],
]
# At scale 1: samples exactly at -1, at H / W, just past them, and in (-1, 0).
BORDER_ROIS = [
    [0, -0.5, -0.5, -0.5, -0.5],
    [0, W + 0.5, H + 0.5, W + 0.5, H + 0.5],
    [0, W + 0.6, H + 0.6, W + 0.6, H + 0.6],
    [0, -0.6, -0.6, -0.6, -0.6],
    [1, -0.2, 2.0, 0.4, 3.0],
    [1, -1.0, -1.0, -1.0, -1.0],
    [1, W - 1.0, H - 1.0, W - 1.0, H - 1.0],
]


@pytest.fixture(scope="module")
def features():
    return torch.randn(2, 3, H, W, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sample_num", [2, 0, 1])
@pytest.mark.parametrize("scale,rois", [(0.5, ROIS_IN_PIXELS), (0.25, ROIS_IN_PIXELS), (1.0, BORDER_ROIS)])
def test_forward_matches_kernel_transcription(features, aligned, sample_num, scale, rois):
    rois = torch.tensor(rois, dtype=torch.float64)
    ours = roi_align(features, rois, (2, 3), scale, sample_num, aligned)
    ref = reference_roi_align(features, rois, 2, 3, scale, sample_num, aligned)
    assert ours.shape == (len(rois), 3, 2, 3)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)


def test_float32_agrees_with_float64_reference(features):
    rois = torch.tensor(ROIS_IN_PIXELS, dtype=torch.float32)
    ours = roi_align(features.float(), rois, 7, 0.5, 2, aligned=False)
    ref = reference_roi_align(features, rois.double(), 7, 7, 0.5, 2, False)
    torch.testing.assert_close(ours.double(), ref, rtol=0, atol=1e-5)


def test_adaptive_sampling_mixes_grid_sizes(features):
    # Grid sizes from 1 to 5 per bin: exercises the bucketed path and its re-ordering.
    rois = torch.tensor([[0, 0, 0, 30, 20], [1, 1, 1, 3, 2], [0, 2, 2, 9, 12],
                         [1, -3, 0, 25, 4], [0, 5, 5, 6, 6]], dtype=torch.float64)
    for aligned in (True, False):
        ours = roi_align(features, rois, (2, 3), 1.0, 0, aligned)
        ref = reference_roi_align(features, rois, 2, 3, 1.0, 0, aligned)
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)


def test_legacy_zero_size_roi_with_adaptive_sampling_is_zero_not_nan(features):
    rois = torch.tensor([[0, 5.0, 5.0, 3.0, 3.0]], dtype=torch.float64)  # (x2 + 1) - x1 < 0
    out = roi_align(features, rois, 2, 1.0, 0, aligned=False)
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize("aligned", [True, False])
def test_gradient_matches_reference_autograd(aligned):
    gen = torch.Generator().manual_seed(1)
    feats_ours = torch.randn(2, 2, 5, 6, generator=gen, dtype=torch.float64, requires_grad=True)
    feats_ref = feats_ours.detach().clone().requires_grad_(True)
    rois = torch.tensor([[0, 1.2, 0.7, 7.9, 8.3], [1, -2.0, 3.0, 4.0, 12.0], [0, 9.0, 1.0, 11.5, 2.5]],
                        dtype=torch.float64)
    upstream = torch.randn(3, 2, 2, 3, generator=gen, dtype=torch.float64)
    (roi_align(feats_ours, rois, (2, 3), 0.5, 2, aligned) * upstream).sum().backward()
    (reference_roi_align(feats_ref, rois, 2, 3, 0.5, 2, aligned) * upstream).sum().backward()
    torch.testing.assert_close(feats_ours.grad, feats_ref.grad, rtol=0, atol=1e-12)
    assert feats_ours.grad.abs().sum() > 0


@pytest.mark.parametrize("aligned", [True, False])
def test_gradcheck(aligned):
    feats = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0, 0.3, 0.6, 3.1, 2.2], [0, -1.0, 1.5, 5.5, 4.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda f: roi_align(f, rois, 2, 1.0, 0, aligned), (feats,))


def test_module_and_empty_and_bad_input(features):
    module = RoIAlign((2, 3), spatial_scale=0.5, sampling_ratio=2, aligned=True)
    rois = torch.tensor(ROIS_IN_PIXELS[:3], dtype=torch.float64)
    torch.testing.assert_close(module(features, rois), roi_align(features, rois, (2, 3), 0.5, 2, True))
    empty = roi_align(features, torch.zeros(0, 5, dtype=torch.float64), 7, 0.5, 2)
    assert empty.shape == (0, 3, 7, 7)
    with pytest.raises(ValueError, match="batch indices"):
        roi_align(features, torch.tensor([[2.0, 0, 0, 4, 4]], dtype=torch.float64), 2)
    with pytest.raises(ValueError, match=r"\(K, 5\)"):
        roi_align(features, torch.zeros(3, 4, dtype=torch.float64), 2)


def test_bf16_autocast_runs_close_to_float32(features):
    feats = features.float()
    rois = torch.tensor(ROIS_IN_PIXELS, dtype=torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        half = roi_align(feats.bfloat16(), rois, 7, 0.5, 2, aligned=True)
    assert half.dtype == torch.bfloat16
    torch.testing.assert_close(half.float(), roi_align(feats, rois, 7, 0.5, 2, True), rtol=0.02, atol=0.05)
