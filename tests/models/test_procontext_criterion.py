"""ProContEXT's loss: focal on a Gaussian centre target + 2 GIoU + 5 L1, on hand-checked cases."""
import math

import pytest
import torch

from longtrack.train.criteria.procontext import ProContEXTCriterion, gaussian_heatmap, gaussian_radius


def test_gaussian_radius_hand_checked():
    # 2 x 2 cells at overlap 0.7: the third root is the smallest,
    # (-2*0.7*4 + sqrt((2*0.7*4)^2 + 4*(4*0.7)*(0.3*4))) / 2
    expected = (-5.6 + math.sqrt(5.6 ** 2 + 4 * 2.8 * 1.2)) / 2
    assert float(gaussian_radius(torch.tensor(2.0), torch.tensor(2.0))) == pytest.approx(expected)
    assert expected == pytest.approx(0.5467, abs=1e-4)


def test_gaussian_heatmap_shapes_values_and_border():
    # box 8 x 8 cells centred on cell (8, 8) of a 16-cell map: radius floor(4 * 0.5467) = 2, sigma 5/6
    heat = gaussian_heatmap(torch.tensor([[0.25, 0.25, 0.5, 0.5]]), 16)
    assert heat.shape == (1, 1, 16, 16)
    assert heat[0, 0, 8, 8] == 1.0 and heat.max() == 1.0
    sigma = 5 / 6
    assert float(heat[0, 0, 8, 9]) == pytest.approx(math.exp(-1 / (2 * sigma ** 2)), rel=1e-6)
    assert float(heat[0, 0, 10, 10]) == pytest.approx(math.exp(-8 / (2 * sigma ** 2)), rel=1e-5)
    assert heat[0, 0, 8, 11] == 0 and heat[0, 0, 5, 8] == 0  # beyond the radius
    assert int((heat > 0).sum()) == 25
    # a centre one cell outside the right border keeps only the columns inside
    outside = gaussian_heatmap(torch.tensor([[0.75, 0.25, 0.5, 0.5]]), 16)  # centre x = 16
    assert outside.max() < 1.0 and int((outside[0, 0].sum(0) > 0).sum()) == 2  # columns 14, 15


def test_criterion_hand_checked_case():
    # search 64 px, 4 x 4 map; target (16, 16, 32, 32) px = [0.25, 0.75]^2: 2 x 2 cells, radius 0,
    # so the target is 1 at cell (2, 2) and 0 elsewhere.
    score_map = torch.full((1, 1, 4, 4), 0.1)
    score_map[0, 0, 2, 2] = 0.5
    score_map.requires_grad_(True)
    pred = torch.tensor([[0.5, 0.5, 0.5, 0.25]], requires_grad=True)  # xyxy [.25, .375, .75, .625]
    batch = {"search_boxes": torch.tensor([[[16.0, 16.0, 32.0, 32.0]]]),
             "search_images": torch.zeros(1, 1, 3, 64, 64, dtype=torch.uint8)}
    losses = ProContEXTCriterion()({"score_map": score_map, "pred_boxes": pred}, batch)
    focal = 0.25 * -math.log(0.5) + 15 * (0.1 ** 2) * -math.log(0.9)  # one positive
    assert losses["focal"].item() == pytest.approx(focal, rel=1e-5)
    assert losses["giou"].item() == pytest.approx(0.5, rel=1e-6)  # IoU 0.5, enclosing = target
    assert losses["l1"].item() == pytest.approx(0.0625, rel=1e-6)  # (0 + .125 + 0 + .125) / 4
    assert losses["iou"].item() == pytest.approx(0.5, rel=1e-6)
    assert losses["loss"].item() == pytest.approx(focal + 2 * 0.5 + 5 * 0.0625, rel=1e-5)
    losses["loss"].backward()
    assert score_map.grad.abs().sum() > 0 and pred.grad.abs().sum() > 0
    assert not losses["iou"].requires_grad


def test_weights_are_owned_by_the_criterion():
    outputs = {"score_map": torch.full((2, 1, 4, 4), 0.2), "pred_boxes": torch.tensor([[0.5, 0.5, 0.2, 0.2]] * 2)}
    batch = {"search_boxes": torch.tensor([[8.0, 8.0, 16.0, 16.0]] * 2), "search_images": torch.zeros(2, 3, 32, 32)}
    only_l1 = ProContEXTCriterion(focal_weight=0.0, giou_weight=0.0, l1_weight=1.0)(outputs, batch)
    assert only_l1["loss"].item() == pytest.approx(only_l1["l1"].item())


def test_regress_at_target_reads_the_box_at_the_true_centre_cell():
    # target (16, 16, 32, 32) px of 64: centre cell (2, 2) of the 4 x 4 map; the score maximum is at
    # cell (0, 0), whose box is far off, while cell (2, 2) holds the exact box.
    score_map = torch.full((1, 1, 4, 4), 0.1)
    score_map[0, 0, 0, 0] = 0.9
    size_map = torch.full((1, 2, 4, 4), 0.9)
    size_map[0, :, 2, 2] = 0.5
    offset_map = torch.zeros(1, 2, 4, 4)
    outputs = {"score_map": score_map, "size_map": size_map, "offset_map": offset_map,
               "pred_boxes": torch.tensor([[0.0, 0.0, 0.9, 0.9]])}  # what decode_center gives: cell (0, 0)
    batch = {"search_boxes": torch.tensor([[16.0, 16.0, 32.0, 32.0]]),
             "search_images": torch.zeros(1, 3, 64, 64, dtype=torch.uint8)}
    at_target = ProContEXTCriterion(regress_at="target")(outputs, batch)
    assert at_target["giou"].item() == pytest.approx(0.0, abs=1e-6) and at_target["l1"].item() == pytest.approx(0.0, abs=1e-6)
    at_prediction = ProContEXTCriterion()(outputs, batch)
    assert at_prediction["giou"].item() > 0.5 and at_prediction["l1"].item() > 0.1
    assert at_target["iou"].item() == at_prediction["iou"].item() < 0.5  # the metric stays at the maximum
    # a wrong size at the centre cell: only that cell's size gets a gradient
    size_map = size_map.clone()
    size_map[0, :, 2, 2] = 0.4
    size_map.requires_grad_(True)
    ProContEXTCriterion(regress_at="target")({**outputs, "size_map": size_map}, batch)["loss"].backward()
    grad = size_map.grad.abs().sum(dim=1)[0]
    assert grad[2, 2] > 0 and grad.sum() == grad[2, 2]
    with pytest.raises(ValueError, match="regress_at"):
        ProContEXTCriterion(regress_at="centre")


def hand_case(batch_size: int = 2):
    """The hand-checked case above as sample 0; the others: score 0.5 on every cell, a wrong box."""
    score_map = torch.full((batch_size, 1, 4, 4), 0.5)
    score_map[0] = 0.1
    score_map[0, 0, 2, 2] = 0.5
    pred = torch.tensor([[0.5, 0.5, 0.5, 0.25]] + [[0.1, 0.9, 0.05, 0.3]] * (batch_size - 1))
    batch = {"search_boxes": torch.tensor([[[16.0, 16.0, 32.0, 32.0]]] * batch_size),
             "search_images": torch.zeros(batch_size, 1, 3, 64, 64, dtype=torch.uint8)}
    return score_map.requires_grad_(True), pred.requires_grad_(True), batch


def test_target_free_samples_hand_checked():
    score_map, pred, batch = hand_case()
    batch["target_free"] = torch.tensor([False, True])
    losses = ProContEXTCriterion()({"score_map": score_map, "pred_boxes": pred}, batch)
    positive = 0.25 * -math.log(0.5) + 15 * (0.1 ** 2) * -math.log(0.9)
    free = 16 * 0.25 * -math.log(0.5)  # every cell is background: -(p^2) log(1 - p)
    # one positive cell + one target-free sample: the sum over both maps / 2
    assert losses["focal"].item() == pytest.approx((positive + free) / 2, rel=1e-5)
    # the box terms and the IoU are sample 0's alone (its wrong box is ignored)
    assert losses["giou"].item() == pytest.approx(0.5, rel=1e-6)
    assert losses["l1"].item() == pytest.approx(0.0625, rel=1e-6)
    assert losses["iou"].item() == pytest.approx(0.5, rel=1e-6)
    losses["loss"].backward()
    assert torch.all(pred.grad[1] == 0) and pred.grad[0].abs().sum() > 0
    # gradient descent lowers every cell of the target-free map, towards 0
    assert torch.all(score_map.grad[1] > 0)
    lower = ProContEXTCriterion()({"score_map": torch.cat([score_map[:1], score_map[1:] * 0.2]).detach(),
                                   "pred_boxes": pred.detach()}, batch)
    assert lower["focal"].item() < losses["focal"].item()


def test_an_all_target_free_batch_is_normalised_per_sample():
    score_map, pred, batch = hand_case(batch_size=3)
    score_map.data[0] = 0.5
    batch["target_free"] = torch.tensor([True, True, True])
    losses = ProContEXTCriterion(regress_at="target")(
        {"score_map": score_map, "pred_boxes": pred, "size_map": torch.full((3, 2, 4, 4), 0.3, requires_grad=True),
         "offset_map": torch.zeros(3, 2, 4, 4)}, batch)
    assert losses["focal"].item() == pytest.approx(16 * 0.25 * -math.log(0.5), rel=1e-5)  # 3 maps / 3
    assert losses["giou"].item() == 0 and losses["l1"].item() == 0 and losses["iou"].item() == 0
    losses["loss"].backward()
    assert torch.all(score_map.grad > 0)


def test_no_target_free_sample_changes_nothing():
    score_map, pred, batch = hand_case(batch_size=3)
    for regress_at in ("prediction", "target"):
        outputs = {"score_map": score_map, "pred_boxes": pred, "size_map": torch.full((3, 2, 4, 4), 0.3),
                   "offset_map": torch.zeros(3, 2, 4, 4)}
        without = ProContEXTCriterion(regress_at=regress_at)(outputs, batch)
        with_flags = ProContEXTCriterion(regress_at=regress_at)(outputs, {**batch, "target_free": torch.zeros(3, dtype=torch.bool)})
        assert all(torch.equal(without[k], with_flags[k]) for k in without)
