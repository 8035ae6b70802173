"""VOT-LT: the toolkit's rasterised overlap (against a mask-based transcription), thresholds,
precision / recall / F on hand-made cases."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longtrack.evaluation import votlt


def _mask_overlap(p, p_empty, g, g_empty, size):
    """vot/region/raster.py, transcribed with explicit masks (rectangles / empty regions)."""
    def bounds(r, empty):
        if empty:
            return (0, 0, 0, 0)
        x, y, w, h = (float(v) for v in np.round(np.float32(r)))
        return (int(round(x)), int(round(y)), int(round(x + w - 1)), int(round(y + h - 1)))

    b1, b2 = bounds(p, p_empty), bounds(g, g_empty)
    u = (min(b1[0], b2[0]), min(b1[1], b2[1]), max(b1[2], b2[2]), max(b1[3], b2[3]))
    if u[0] >= u[2] or u[1] >= u[3]:
        return 1.0
    rb = (max(0, u[0]), max(0, u[1]), min(size[0] - 1, u[2]), min(size[1] - 1, u[3])) if size else u
    if rb[0] >= rb[2] or rb[1] >= rb[3]:
        return 0.0

    def raster(r, empty):
        mask = np.zeros((rb[3] - rb[1] + 1, rb[2] - rb[0] + 1), np.uint8)
        if empty:
            return mask
        x, y, w, h = (int(v) for v in np.round(np.float32(r)))
        if x > rb[2] or x + w - 1 < rb[0] or y > rb[3] or y + h - 1 < rb[1]:
            return mask
        left, top = max(0, x - rb[0]), max(0, y - rb[1])
        right, bottom = min(rb[2], x + w - 1 - rb[0]), min(rb[3], y + h - 1 - rb[1])
        mask[top:bottom + 1, left:right + 1] = 1
        return mask

    m1, m2 = raster(p, p_empty), raster(g, g_empty)
    union = np.sum(m1 | m2)
    return float(np.sum(m1 & m2)) / union if union else 0.0


coord = st.floats(-30, 90, allow_nan=False).map(lambda v: round(v, 1))
size_ = st.floats(-3, 60, allow_nan=False).map(lambda v: round(v, 1))
region = st.tuples(coord, coord, size_, size_)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(region, st.booleans(), region, st.booleans()), min_size=1, max_size=12),
       st.sampled_from([(64, 48), (100, 100)]))
def test_raster_overlap_matches_mask_transcription(rows, size):
    p = np.array([r[0] for r in rows])
    pe = np.array([r[1] for r in rows])
    g = np.array([r[2] for r in rows])
    ge = np.array([r[3] for r in rows])
    got = votlt.raster_overlaps(p, pe, g, ge, size)
    want = [_mask_overlap(r[0], r[1], r[2], r[3], size) for r in rows]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


def test_raster_overlap_hand_cases():
    g = np.array([[10, 10, 10, 10.]])
    one = np.array([False])
    assert votlt.raster_overlaps(g, one, g, one, (100, 100))[0] == 1.0
    # empty prediction on an empty ground truth: identical; empty on a visible target: 0
    assert votlt.raster_overlaps(g, ~one, g, ~one, (100, 100))[0] == 1.0
    assert votlt.raster_overlaps(g, ~one, g, one, (100, 100))[0] == 0.0
    # half-even rounding of float32 values: 10.5 -> 10, 11.5 -> 12 (5-wide shifted by 0 / 2)
    assert votlt.raster_overlaps(np.array([[10.5, 10, 10, 10]]), one, g, one, (100, 100))[0] == 1.0
    assert votlt.raster_overlaps(np.array([[11.5, 10, 10, 10]]), one, g, one, (100, 100))[0] == \
        pytest.approx(80 / 120)
    # bounded: the part outside the 15x15 image is ignored
    inside = votlt.raster_overlaps(np.array([[10, 10, 20, 20.]]), one, g, one, (15, 15))[0]
    assert inside == 1.0
    assert votlt.raster_overlaps(np.array([[10, 10, 20, 20.]]), one, g, one, None)[0] == 0.25


def test_determine_thresholds():
    assert votlt.determine_thresholds([0.2, np.nan, 0.9, 0.5]).tolist() == [math.inf, 0.9, 0.5, 0.2, -math.inf]
    scores = np.linspace(0, 1, 1000)
    thr = votlt.determine_thresholds(scores, 100)
    assert len(thr) == 100 and thr[0] == math.inf and thr[-1] == -math.inf
    assert np.all(np.diff(thr[1:-1]) <= 0)


def test_precision_recall_and_f_on_a_hand_case():
    overlaps = np.array([0.0, 0.8, 0.6, 0.0, 1.0])  # frame 0: init marker
    conf = np.array([0.0, 0.9, 0.4, 0.7, 0.2])
    thresholds = [math.inf, 0.8, 0.5, 0.1, -math.inf]
    pr, re = votlt.tpr_curves(overlaps, conf, n_visible=4, thresholds=thresholds)
    assert pr.tolist() == pytest.approx([1.0, 0.8, 0.4, (0.8 + 0.6 + 1.0) / 4, 2.4 / 5])
    assert re.tolist() == pytest.approx([0.0, 0.2, 0.2, 0.6, 0.6])
    s = votlt.aggregate([(pr, re)], thresholds)
    f = 2 * pr * re / (pr + re)
    assert s.threshold_index == int(np.argmax(f)) == 3
    assert s.f_score == pytest.approx(f[3])


def test_perfect_tracker_and_the_toolkits_recall_quirks():
    gt = np.tile([5.0, 5, 10, 10], (8, 1))
    gt_empty = np.zeros(8, bool)
    run = votlt.Trajectory(gt, np.r_[True, np.zeros(7, bool)], np.r_[0.0, np.ones(7)], gt, gt_empty, (50, 50))
    s, _ = votlt.score_trajectories([[run]])
    # Precision 1; recall misses only the init frame, which counts as visible with overlap 0.
    assert (s.precision, s.recall, s.threshold) == (1.0, pytest.approx(7 / 8), 1.0)

    gt_empty[4:6] = True
    run = votlt.Trajectory(gt, gt_empty | (np.arange(8) == 0), np.r_[0.0, np.ones(7)], gt, gt_empty, (50, 50))
    s, _ = votlt.score_trajectories([[run]])
    # Correctly reported absences have overlap 1 and enter the recall numerator, while the
    # denominator counts visible frames only: recall (5 + 2) / 6 > 1, as vot-toolkit 0.9.0.
    assert s.precision == 1.0 and s.recall == pytest.approx(7 / 6)
