"""OxUvA presence scores, GOT-10k AO, TLP's LSM and the re-detection figure on hand-made cases."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longtrack.errors import LongtrackError
from longtrack.evaluation import got10k, oxuva, redetection, tlp
from longtrack.evaluation.overlaps import oxuva_iou_clip


def test_max_geometric_mean_line():
    assert oxuva.max_geometric_mean_line(0.0, 1.0, 1.0, 0.0) == pytest.approx(0.5)  # always present, TPR 1
    assert oxuva.max_geometric_mean_line(1.0, 1.0, 1.0, 0.0) == 1.0
    # From (TNR, TPR) = (0.2, 0.6): the peak of (0.2 + 0.8 t)(0.6 - 0.6 t) lies at t = 3/8.
    t = 3 / 8
    assert oxuva.max_geometric_mean_line(0.2, 0.6, 1.0, 0.0) == pytest.approx(
        math.sqrt((0.2 + 0.8 * t) * (0.6 - 0.6 * t)))


def test_quality_metrics_and_missing_rates():
    q = oxuva.quality_metrics({"TP": 3, "FN": 1, "TN": 1, "FP": 1})
    assert (q["tpr"], q["tnr"]) == (0.75, 0.5)
    assert q["gm"] == pytest.approx(math.sqrt(0.375))
    q = oxuva.quality_metrics({"TP": 3, "FN": 1, "TN": 0, "FP": 0})  # no absent frame
    assert math.isnan(q["tnr"]) and math.isnan(q["max_gm"])


def test_iou_clip_to_unit_square():
    # A box sticking out of the image by half its width is cut, then compared.
    a = np.array([[-0.2, 0.2, 0.0, 0.5]])
    b = np.array([[0.0, 0.2, 0.0, 0.5]])
    assert oxuva_iou_clip(a, b)[0] == pytest.approx(1.0)


def test_previous_prediction_is_carried():
    idx = oxuva.previous_prediction_index([31, 38, 45], [31, 37, 60])
    assert idx.tolist() == [0, 0, 2]
    with pytest.raises(LongtrackError, match="frame 30"):
        oxuva.previous_prediction_index([31, 38], [30])


def test_presence_scores_dense():
    gt = np.tile([10.0, 10, 20, 20], (7, 1))
    absent = np.array([0, 0, 0, 1, 1, 0, 0], bool)
    present = np.array([1, 1, 0, 0, 1, 1, 1], bool)
    pred = gt.copy()
    pred[6] = [100, 100, 20, 20]
    s = oxuva.presence_scores(present, pred, gt, absent)
    # frame 0 not scored; visible 1, 2, 5, 6 -> TP at 1 and 5; absent 3 (TN), 4 (FP)
    assert (s["TP"], s["FN"], s["TN"], s["FP"]) == (2, 2, 1, 1)
    assert (s["tpr"], s["tnr"]) == (0.5, 0.5)
    perfect = oxuva.presence_scores(~absent, gt, gt, absent)
    assert perfect["tpr"] == perfect["tnr"] == perfect["max_gm"] == 1.0


def test_best_presence_threshold_separates_present_from_absent():
    # Frames 1-3 present with right boxes and confidences 0.9/0.8/0.7; frames 4-5 absent with
    # 0.3/0.2. Any t in (0.3, 0.7] gives TPR = TNR = 1; the chooser must pick one of those.
    gt = np.tile([10.0, 10.0, 20.0, 20.0], (6, 1))
    absent = np.array([False, False, False, False, True, True])
    scores = np.array([1.0, 0.9, 0.8, 0.7, 0.3, 0.2])
    best, table = oxuva.best_presence_threshold([(scores, gt.copy(), gt, absent)])
    assert 0.3 < best["threshold"] <= 0.7
    assert (best["tpr"], best["tnr"]) == (1.0, 1.0)
    assert min(row["gm"] for row in table) < 1.0  # other candidates were tried and lost
    # A wrong box is never a true positive, whatever the threshold.
    wrong = gt.copy()
    wrong[1:4, 0] += 100.0
    best, _ = oxuva.best_presence_threshold([(scores, wrong, gt, absent)])
    assert best["tpr"] == 0.0
    with pytest.raises(LongtrackError):
        oxuva.best_presence_threshold([])


def test_got10k_bound_shifts_instead_of_cropping():
    gt = np.array([[0.0, 0, 10, 10], [0, 0, 100, 50]])
    pred = np.array([[0.0, 0, 10, 10], [-20, 0, 100, 50]])
    cover = np.array([8, 8])
    ious = got10k.sequence_ious([pred], gt, cover, image_size=(640, 480))
    assert ious[0] == pytest.approx(1.0)  # x = -20 -> 0 keeping w = 100: identical to the gt
    unbounded = got10k.sequence_ious([pred], gt, cover, image_size=None)
    assert unbounded[0] == pytest.approx(80 / 120)


def test_got10k_skips_frame_one_and_cover_zero_and_pools_runs():
    gt = np.tile([0.0, 0, 10, 10], (4, 1))
    good, bad = gt.copy(), gt + [50, 50, 0, 0]
    ious = got10k.sequence_ious([good, bad], gt, np.array([8, 8, 0, 8]), None)
    assert len(ious) == 4  # 2 scored frames x 2 runs
    s = got10k.scores_from_ious(ious)
    assert (s.ao, s.sr50) == (pytest.approx(0.5), 0.5)


def _brute_lsm(success, fraction):
    n = len(success)
    best = 0
    for i in range(n):
        for j in range(i + 1, n + 1):
            if sum(success[i:j]) >= fraction * (j - i) - 1e-12:
                best = max(best, j - i)
    return best


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), max_size=40), st.sampled_from([0.5, 0.8, 0.95, 1.0]))
def test_longest_subsequence_matches_brute_force(success, fraction):
    assert tlp.longest_subsequence(success, fraction) == _brute_lsm(success, fraction)


def test_lsm_of_a_sequence():
    gt = np.tile([10.0, 10, 20, 20], (10, 1))
    pred = gt.copy()
    pred[3] = [200, 200, 20, 20]
    absent = np.zeros(10, bool)
    assert tlp.lsm(pred, gt, absent, min_fraction=1.0) == pytest.approx(0.6)  # frames 4..9
    assert tlp.lsm(pred, gt, absent, min_fraction=0.9) == pytest.approx(1.0)


def test_redetection_delays_and_censoring():
    gt = np.tile([10.0, 10, 20, 20], (14, 1))
    absent = np.zeros(14, bool)
    absent[[2, 3, 8, 12]] = True
    pred = gt.copy()
    pred[4:6] += 100      # re-appears at 4, found at 6: delay 2
    pred[9:12] += 100     # re-appears at 9, never found before the absence at 12: censored
    present = np.ones(14, bool)
    present[13] = False   # re-appears at 13 with the right box but says absent: censored
    events = redetection.reappearances(pred, gt, absent, present)
    assert [(e.frame, e.delay, e.window) for e in events] == [(4, 2, 4), (9, None, 3), (13, None, 1)]
    s = redetection.summarize(events)
    assert s["num_reappearances"] == 3 and s["redetected_fraction"] == pytest.approx(1 / 3)
    assert s["median_frames"] == 2.0
    assert redetection.summarize([])["num_reappearances"] == 0
