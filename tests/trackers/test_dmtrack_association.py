"""The MOT-style association under DMTrack: Kalman filter, gating, Hungarian matching, tracklets that
keep their identities when two look-alike objects cross."""
import numpy as np
import pytest

from longtrack.trackers.association import Associator, iou_matrix, linear_assignment
from longtrack.trackers.kalman import CHI2_95, KalmanBoxFilter, xyah_to_xyxy, xyxy_to_xyah


def test_box_conversions_round_trip():
    boxes = np.array([[10.0, 20.0, 50.0, 100.0], [0.0, 0.0, 1.0, 3.0]])
    np.testing.assert_allclose(xyah_to_xyxy(xyxy_to_xyah(boxes)), boxes)
    np.testing.assert_allclose(xyxy_to_xyah(boxes)[0], [30.0, 60.0, 0.5, 80.0])


def test_iou_matrix_and_thresholded_assignment():
    a = np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    b = np.array([[20.0, 20.0, 30.0, 30.0], [5.0, 0.0, 15.0, 10.0], [100.0, 100.0, 110.0, 110.0]])
    iou = iou_matrix(a, b)
    np.testing.assert_allclose(iou, [[0.0, 50 / 150, 0.0], [1.0, 0.0, 0.0]])
    matches, rows, cols = linear_assignment(1 - iou, max_cost=0.5)
    assert matches == [(1, 0)] and rows == [0] and cols == [1, 2]  # IoU 1/3 is above the 0.5 cost
    assert linear_assignment(np.zeros((0, 3)), 0.5) == ([], [], [0, 1, 2])


def test_kalman_learns_a_constant_velocity_and_gates_far_boxes():
    kf = KalmanBoxFilter()
    box = np.array([100.0, 100.0, 140.0, 180.0])
    mean, cov = kf.initiate(xyxy_to_xyah(box))
    for t in range(1, 15):
        mean, cov = kf.predict(mean, cov)
        mean, cov = kf.update(mean, cov, xyxy_to_xyah(box + [5.0 * t, 0, 5.0 * t, 0]))
    assert mean[4] == pytest.approx(5.0, abs=0.3)  # vx
    mean, cov = kf.predict(mean, cov)
    assert xyah_to_xyxy(mean)[0] == pytest.approx(100 + 5 * 15, abs=1.0)
    near, far = box + [5 * 15, 0, 5 * 15, 0], box + [5 * 15 + 200, 0, 5 * 15 + 200, 0]
    distance = kf.gating_distance(mean, cov, xyxy_to_xyah(np.stack([near, far])))
    assert distance[0] < CHI2_95[4] < distance[1]


def test_crossing_look_alikes_keep_their_identities():
    """Two objects swap sides; their embeddings differ slightly, their boxes overlap mid-way."""
    rng = np.random.default_rng(0)
    base = rng.normal(size=8)
    ids = [base + 0.8 * rng.normal(size=8) for _ in range(2)]
    ids = [v / np.linalg.norm(v) for v in ids]
    associator = Associator()
    owners = {0: [], 1: []}
    for t in range(40):
        xs = [10 + 5 * t, 210 - 5 * t]
        boxes = np.array([[x, 50.0, x + 40, 130.0] for x in xs])
        emb = np.stack([v + 0.05 * rng.normal(size=8) for v in ids])
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        links = associator.step(boxes, np.array([0.9, 0.9]), emb, frame=t)
        for k in (0, 1):
            owners[k].append(links[k].track_id)
    assert len(set(owners[0])) == 1 and len(set(owners[1])) == 1 and owners[0][0] != owners[1][0]


def test_unmatched_tracklets_expire_and_new_detections_start_tracklets():
    associator = Associator(max_age=3)
    associator.step(np.array([[0.0, 0.0, 10.0, 10.0]]), np.array([0.9]), None, frame=0)
    for t in range(1, 5):
        associator.step(np.zeros((0, 4)), np.zeros(0), None, frame=t)
    assert associator.tracklets == []
    links = associator.step(np.array([[0.0, 0.0, 10.0, 10.0]]), np.array([0.9]), None, frame=5)
    assert links[0].track_id == 1 and links[0].history == [5]
