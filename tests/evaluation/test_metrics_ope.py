"""OPE conventions on hand-checked cases, against per-frame loop ports, and invariants."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longtrack.evaluation import ope
from longtrack.evaluation.overlaps import got10k_rect_iou, matlab_rect_overlap


def test_matlab_overlap_is_pixel_inclusive():
    # 10x10 boxes shifted by 5 px: 5*10 overlap pixels in the +1 convention -> 50 / 150.
    a, b = np.array([[0, 0, 10, 10.]]), np.array([[5, 0, 10, 10.]])
    assert matlab_rect_overlap(a, b)[0] == pytest.approx(50 / 150)
    # Touching boxes share no continuous area, but one pixel column in MATLAB's convention.
    assert got10k_rect_iou(a, np.array([[10, 0, 10, 10.]]))[0] == 0
    assert matlab_rect_overlap(a, np.array([[9, 0, 10, 10.]]))[0] == pytest.approx(10 / 190)


def test_lasot_first_frame_absent_and_repair_rules():
    gt = np.tile([10.0, 10, 20, 20], (6, 1))
    absent = np.array([0, 0, 1, 0, 0, 0], bool)
    pred = gt.copy()
    pred[0] = [500, 500, 5, 5]        # frame 1 is replaced by the ground truth
    pred[3] = [np.nan] * 4            # NaN -> previous frame's box (frame 2: perfect)
    pred[4] = [10, 10, -3, 20]        # w <= 0 -> previous (frame 4, itself repaired)
    pred[5] = [200, 200, 20, 20]      # a real miss
    overlap, err, _ = ope.lasot_frame_errors(pred, gt, absent)
    assert overlap.tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]  # absent frame 3 removed
    c = ope.lasot_curves(pred, gt, absent)
    # 4 successes at every threshold below 1, out of 6 frames (the absent one is a failure).
    assert c.success[0] == pytest.approx(4 / 6)
    assert c.success[-1] == 0  # IoU 1 is not > 1
    assert c.precision[20] == pytest.approx(4 / 6)


def test_lasot_degenerate_ground_truth_fails_success_but_passes_precision():
    gt = np.array([[10, 10, 20, 20], [613, 731, 247, -11], [10, 10, 20, 20.]])
    pred = np.array([[10, 10, 20, 20], [0, 0, 5, 5], [10, 10, 20, 20.]])
    overlap, err, norm_err = ope.lasot_frame_errors(pred, gt, np.zeros(3, bool))
    assert overlap[1] == -1 and err[1] == -1 and norm_err[1] == -1
    s = ope.lasot_curves(pred, gt, np.zeros(3, bool)).scores()
    assert s["precision"] == pytest.approx(1.0)
    assert s["success_rate_50"] == pytest.approx(2 / 3)


def test_longer_results_are_cut_shorter_are_errors():
    gt = np.tile([10.0, 10, 20, 20], (4, 1))
    longer = np.vstack([gt, [[0, 0, 1, 1]]])
    assert ope.ope_scores(longer, gt, np.zeros(4, bool)) == ope.ope_scores(gt, gt, np.zeros(4, bool))
    from longtrack.errors import LongtrackError
    with pytest.raises(LongtrackError, match="3 predicted boxes for 4"):
        ope.ope_scores(gt[:3], gt, np.zeros(4, bool))


def _loop_lasot(pred, gt, absent):
    """A per-frame transcription of calc_seq_err_robust.m + eval_tracker.m."""
    pred = pred.copy()
    n = len(gt)
    for i in range(1, n):
        r = pred[i]
        bad = np.isnan(r).any() or r[2] <= 0 or r[3] <= 0
        if bad and not np.isnan(gt[i]).any():
            pred[i] = pred[i - 1]
    pred[0] = gt[0]
    ov, er = [], []
    for i in range(n):
        if absent[i]:
            continue
        g, p = gt[i], pred[i]
        cg = g[:2] + (g[2:] - 1) / 2
        cp = p[:2] + (p[2:] - 1) / 2
        e = math.sqrt(((cp - cg) ** 2).sum())
        if all(g > 0):
            ov.append(matlab_rect_overlap(p[None], g[None])[0])
            er.append(e)
        else:
            ov.append(-1.0)
            er.append(-1.0)
    ov, er = np.array(ov), np.array(er)
    success = [np.sum(ov > t) / (n + np.finfo(float).eps) for t in np.arange(21) * 0.05]
    precision = [np.sum(er <= t) / (n + np.finfo(float).eps) for t in range(51)]
    return np.array(success), np.array(precision)


boxes_st = st.lists(st.tuples(*[st.sampled_from([-5.0, 0.0, 3.0, 10.0, 12.5, 40.0, float("nan")])] * 4),
                    min_size=2, max_size=25)


@settings(max_examples=150, deadline=None)
@given(boxes_st, st.data())
def test_lasot_matches_loop_port(pred_rows, data):
    n = len(pred_rows)
    pred = np.array(pred_rows, dtype=float)
    gt = np.array(data.draw(st.lists(st.tuples(*[st.sampled_from([-1.0, 2.0, 5.0, 20.0])] * 4),
                                     min_size=n, max_size=n)), dtype=float)
    absent = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    c = ope.lasot_curves(pred, gt, absent)
    success, precision = _loop_lasot(pred, gt, absent)
    np.testing.assert_array_equal(c.success, success)
    np.testing.assert_array_equal(c.precision, precision)


def test_perfect_tracker():
    rng = np.random.default_rng(0)
    # Integer boxes: MATLAB's pixel-inclusive arithmetic ((x + w - 1) - x + 1) is then exact;
    # with fractional boxes it can round an IoU of 1 to just above 1, a success at threshold 1.
    gt = np.column_stack([rng.integers(0, 500, (50, 2)), rng.integers(5, 80, (50, 2))]).astype(float)
    for convention in ope.CONVENTIONS:
        s = ope.sequence_curves(gt, gt, np.zeros(50, bool), convention).scores()
        assert s["precision"] == pytest.approx(1.0)
        assert s["norm_precision"] == pytest.approx(1.0)
        assert s["success_rate_50"] == pytest.approx(1.0)
        if convention == "trackingnet":  # trapezoid over [0, 1] with the last point 0
            assert s["success_auc"] == pytest.approx(1 - 0.05 / 2)
        else:  # 21 thresholds, IoU 1 is not > 1: the official AUC of a perfect tracker is 20/21
            assert s["success_auc"] == pytest.approx(20 / 21)


def test_sequence_order_does_not_change_the_mean():
    rng = np.random.default_rng(1)
    curves = []
    for _ in range(30):
        gt = np.column_stack([rng.uniform(0, 300, (40, 2)), rng.uniform(10, 60, (40, 2))])
        pred = gt + rng.normal(0, 8, gt.shape)
        curves.append(ope.lasot_curves(pred, gt, rng.random(40) < 0.1))
    a = ope.average_curves(curves).scores()
    b = ope.average_curves([curves[i] for i in rng.permutation(30)]).scores()
    for key in a:
        assert a[key] == pytest.approx(b[key], abs=1e-12)


def test_trackingnet_rounds_boxes_and_integrates_by_trapezoid():
    gt = np.array([[10.0, 10, 20, 20], [10.4, 10, 20, 20]])
    pred = np.array([[0.0, 0, 1, 1], [10.0, 10, 19.6, 20]])  # rounds to the gt box
    c = ope.trackingnet_curves(pred, gt)
    assert c.success[:-1].tolist() == [1.0] * 20
    assert c.scores()["success_auc"] == pytest.approx(0.975)


def test_batched_lasot_equals_one_by_one():
    rng = np.random.default_rng(7)
    preds, gts, absents = [], [], []
    for n in (1, 5, 40, 3):
        gt = np.column_stack([rng.uniform(0, 300, (n, 2)), rng.uniform(-2, 60, (n, 2))])
        pred = gt + rng.normal(0, 6, gt.shape)
        pred[rng.random(n) < 0.2] = np.nan
        preds.append(pred)
        gts.append(gt)
        absents.append(rng.random(n) < 0.3)
    many = ope.lasot_curves_many(preds, gts, absents)
    for m, p, g, a in zip(many, preds, gts, absents):
        one = ope.lasot_curves(p, g, a)
        np.testing.assert_array_equal(m.success, one.success)
        np.testing.assert_array_equal(m.precision, one.precision)
        np.testing.assert_array_equal(m.norm_precision, one.norm_precision)
