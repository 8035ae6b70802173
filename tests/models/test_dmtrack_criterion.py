"""DMTrack's criterion on hand-computed cases: FCOS positives (centre region, regress ranges), the
focal / IoU / centre-ness losses, re-id cross-entropy and the uncertainty-weighted total."""
import math

import pytest
import torch

from longtrack.train.criteria.dmtrack import (CONTRAST_SCALE, DMTrackCriterion, centerness_target, fcos_targets,
                                              reid_contrast_loss)


def test_positives_need_the_centre_region_and_the_level_range():
    # Box 200x200 centred at (100, 100): max distance ~100 px -> only P4 (64-128) may hold positives,
    # and only within 1.5 x 16 = 24 px of the centre.
    points = torch.tensor([[100.0, 100.0], [104.0, 104.0], [136.0, 104.0], [112.0, 112.0]])
    level_index = torch.tensor([0, 1, 1, 2])
    positive, distances = fcos_targets(points, level_index, torch.tensor([[0.0, 0.0, 200.0, 200.0]]),
                                       (8, 16, 32), ((-1, 64), (64, 128), (128, 1e8)))
    assert positive.tolist() == [[False, True, False, False]]
    torch.testing.assert_close(distances[0, 1], torch.tensor([104.0, 104.0, 96.0, 96.0]))


def test_centerness_target():
    d = torch.tensor([[1.0, 2.0, 1.0, 2.0], [1.0, 1.0, 3.0, 3.0]])
    torch.testing.assert_close(centerness_target(d), torch.tensor([1.0, 1.0 / 3.0]))


def hand_case(with_reid=True):
    """One query, three P3 points; the box [0, 0, 16, 8] makes points 0 and 1 positive."""
    out = {
        "points": torch.tensor([[4.0, 4.0], [12.0, 4.0], [100.0, 100.0]]),
        "level_index": torch.zeros(3, dtype=torch.long),
        "query_boxes": torch.tensor([[0.0, 0.0, 16.0, 8.0]]),
        "cls_score": torch.zeros(1, 3, 2, requires_grad=True),
        "bbox_pred": torch.tensor([[[2.0, 2.0, 6.0, 2.0], [12.0, 4.0, 4.0, 4.0], [5.0, 5.0, 5.0, 5.0]]],
                                  requires_grad=True),
        "centerness": torch.zeros(1, 3, requires_grad=True),
    }
    if with_reid:
        out.update({"reid_logits": torch.tensor([[0.0, math.log(3.0)]], requires_grad=True),
                    "reid_labels": torch.tensor([1]), "log_vars": torch.tensor([0.0, math.log(2.0)])})
    return out


def test_detection_losses_on_a_hand_computed_case():
    losses = DMTrackCriterion()(hand_case(with_reid=False), {})
    # Focal at p = 0.5: BCE log 2, (1 - p_t)^2 = 1/4, alpha 1/4 (2 positive entries) or 3/4 (4 negative
    # entries); divided by num_pos + num_queries = 3.
    assert losses["loss_cls"].item() == pytest.approx(math.log(2) * 0.25 * (2 * 0.25 + 4 * 0.75) / 3, rel=1e-5)
    # Point 0 predicts [2, 2, 10, 6] against [0, 0, 16, 8] (IoU 1/4); point 1 is exact; both have the
    # centre-ness target sqrt(1/3), so the weighted mean is -log(1/4) / 2.
    assert losses["loss_bbox"].item() == pytest.approx(math.log(4) / 2, rel=1e-5)
    assert losses["loss_centerness"].item() == pytest.approx(math.log(2), rel=1e-5)  # BCE of logit 0
    assert losses["loss"].item() == pytest.approx(losses["loss_det"].item())


def test_uncertainty_weighted_total_with_reid():
    out = hand_case()
    losses = DMTrackCriterion()(out, {})
    reid = -math.log(0.75)
    assert losses["loss_reid"].item() == pytest.approx(reid, rel=1e-5)
    det = losses["loss_det"].item()
    expected = 0.5 * (math.exp(0.0) * det + math.exp(-math.log(2)) * reid + 0.0 + math.log(2))
    assert losses["loss"].item() == pytest.approx(expected, rel=1e-5)
    losses["loss"].backward()
    assert out["cls_score"].grad.abs().sum() > 0 and out["reid_logits"].grad.abs().sum() > 0


def test_no_positive_gives_zero_box_losses_that_keep_the_graph():
    out = hand_case(with_reid=False)
    out["query_boxes"] = torch.tensor([[500.0, 500.0, 510.0, 510.0]])  # no point inside
    losses = DMTrackCriterion()(out, {})
    assert losses["loss_bbox"].item() == 0.0 and losses["loss_centerness"].item() == 0.0
    losses["loss"].backward()
    assert out["bbox_pred"].grad is not None


def test_reid_contrast_on_hand_computed_cases():
    eye = torch.eye(3)
    # Distinct identities, each query equal to its own search vector and orthogonal to the others:
    # row loss = log(e^s + 2) - s.
    expected = math.log(math.exp(CONTRAST_SCALE) + 2) - CONTRAST_SCALE
    # (float32 logsumexp near s = 10 is exact to ~1e-6: absolute tolerances)
    assert float(reid_contrast_loss(eye, eye, torch.tensor([1, 2, 3]))) == pytest.approx(expected, abs=2e-6)
    # A look-alike (search vector of query 1 equal to query 0's) is as close as the target: log 2 for row 0.
    search = eye.clone()
    search[1] = eye[0]
    row0 = math.log(2 * math.exp(CONTRAST_SCALE) + 1) - CONTRAST_SCALE
    row1 = math.log(3.0)  # query 1 is orthogonal to every search vector, its own included: chance
    row2 = expected
    got = float(reid_contrast_loss(eye, search, torch.tensor([1, 2, 3])))
    assert got == pytest.approx((row0 + row1 + row2) / 3, abs=2e-6)
    # Two pairs of one video share an identity: both search vectors are positives of both queries.
    shared = float(reid_contrast_loss(eye[:2], eye[:2], torch.tensor([5, 5])))
    assert shared == pytest.approx(0.0, abs=1e-6)


def test_contrast_joins_the_reid_loss_with_its_weight():
    out = hand_case()
    vectors = torch.eye(2)
    # Each query's own search vector orthogonal to it, the other identity's equal to it: a loss near s.
    out.update({"reid_query_vectors": vectors, "reid_search_vectors": vectors.flip(0), "query_ids": torch.tensor([0, 1])})
    plain = DMTrackCriterion(uncertainty=False)(dict(out), {})
    weighted = DMTrackCriterion(uncertainty=False, reid_contrast_weight=0.5)(dict(out), {})
    assert "loss_reid_contrast" not in plain
    contrast = math.log(math.exp(CONTRAST_SCALE) + 1)
    assert float(weighted["loss_reid_contrast"]) == pytest.approx(contrast, rel=1e-6)
    assert float(weighted["loss_reid"] - plain["loss_reid"]) == pytest.approx(0.5 * contrast, rel=1e-5)
    assert float(weighted["loss"] - plain["loss"]) == pytest.approx(0.5 * contrast, rel=1e-5)
