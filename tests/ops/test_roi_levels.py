"""Multi-level RoI assignment and pooling against literal per-RoI references."""
from __future__ import annotations

import math

import pytest
import torch

from longtrack.ops import SingleRoIExtractor, extract_roi_features, map_roi_levels, roi_align

torch.set_num_threads(1)


def reference_level(roi, num_levels, finest_scale, plus_one):
    extra = 1.0 if plus_one else 0.0
    scale = math.sqrt((roi[3] - roi[1] + extra) * (roi[4] - roi[2] + extra))
    level = math.floor(math.log2(scale / finest_scale + 1e-6))
    return min(max(level, 0), num_levels - 1)


ROIS = torch.tensor([
    [0, 10, 10, 40, 40],      # 30 px -> level 0
    [0, 0, 0, 112, 112],      # exactly 112 -> level 1 (the 1e-6 pushes log2(2) over)
    [1, 5, 5, 116, 116],      # 111 px, 112 with +1
    [1, 0, 0, 223, 223],      # 223 / 224 px: the +1 decides between levels 1 and 2
    [0, 3, 7, 500, 400],      # large -> clamped to the last level
    [1, 20, 20, 20, 20],      # empty -> level 0
], dtype=torch.float64)


@pytest.mark.parametrize("plus_one", [False, True])
@pytest.mark.parametrize("num_levels", [3, 4])
def test_levels_match_formula(plus_one, num_levels):
    ours = map_roi_levels(ROIS, num_levels, 56, plus_one)
    ref = [reference_level(r, num_levels, 56, plus_one) for r in ROIS.tolist()]
    assert ours.tolist() == ref
    assert ours.dtype == torch.long


def test_plus_one_changes_the_level_at_the_boundary():
    assert map_roi_levels(ROIS[2:4], 4, plus_one=False).tolist() == [0, 1]
    assert map_roi_levels(ROIS[2:4], 4, plus_one=True).tolist() == [1, 2]
    assert map_roi_levels(ROIS[1:2], 4).tolist() == [1]


@pytest.mark.parametrize("aligned,plus_one", [(True, False), (False, True)])
def test_extraction_equals_per_roi_pooling_on_the_chosen_level(aligned, plus_one):
    gen = torch.Generator().manual_seed(3)
    strides = [4, 8, 16, 32]
    feats = [torch.randn(2, 3, 512 // s, 640 // s, generator=gen, dtype=torch.float64, requires_grad=True)
             for s in strides]
    rois = torch.tensor([[0, 2, 3, 30, 40], [1, 0, 0, 120, 130], [0, 10, 5, 330, 290],
                         [1, 50, 60, 52, 61], [1, -10, -5, 600, 500]], dtype=torch.float64)
    ours = extract_roi_features(feats, rois, strides, (2, 3), 2, aligned, 56, plus_one)
    levels = [reference_level(r, 4, 56, plus_one) for r in rois.tolist()]
    assert sorted(set(levels)) == [0, 1, 2, 3]  # the case exercises every level
    ref = torch.cat([roi_align(feats[lv], rois[i:i + 1], (2, 3), 1 / strides[lv], 2, aligned)
                     for i, lv in enumerate(levels)])
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)
    ours.sum().backward()
    for lv, f in enumerate(feats):
        assert (f.grad.abs().sum() > 0) == (lv in levels)


def test_module_uses_only_its_levels_and_handles_empty():
    feats = [torch.randn(1, 2, 16, 16), torch.randn(1, 2, 8, 8), torch.randn(1, 2, 4, 4)]
    extractor = SingleRoIExtractor(strides=[4, 8], output_size=7, sampling_ratio=2, aligned=False,
                                   plus_one=True)
    rois = torch.tensor([[0, 1.0, 2.0, 40.0, 50.0]])
    torch.testing.assert_close(extractor(feats, rois),
                               extract_roi_features(feats[:2], rois, [4, 8], 7, 2, False, 56, True))
    assert extractor(feats, torch.zeros(0, 5)).shape == (0, 2, 7, 7)
    with pytest.raises(ValueError, match="one stride per feature level"):
        extract_roi_features(feats, rois, [4, 8])
