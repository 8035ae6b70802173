"""Losses against literal per-element formulas; gradients by gradcheck in float64."""
from __future__ import annotations

import math

import pytest
import torch

from longtrack.ops import (
    gaussian_focal_loss,
    giou_loss,
    iou_loss,
    l1_loss,
    sigmoid_focal_loss,
    smooth_l1_loss,
    weight_reduce_loss,
)

torch.set_num_threads(1)


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def reference_focal(logits, targets, alpha=0.25, gamma=2.0):
    out = []
    for x, t in zip(logits, targets):
        p = sigmoid(x)
        ce = -(t * math.log(p) + (1 - t) * math.log(1 - p))
        p_t = p * t + (1 - p) * (1 - t)
        a_t = alpha * t + (1 - alpha) * (1 - t)
        out.append(a_t * (1 - p_t) ** gamma * ce)
    return out


def test_sigmoid_focal_matches_formula_and_reductions():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 3, generator=gen, dtype=torch.float64) * 3
    targets = torch.zeros(5, 3, dtype=torch.float64)
    targets[torch.arange(5), torch.tensor([0, 2, 1, 1, 0])] = 1
    ref = torch.tensor(reference_focal(logits.flatten().tolist(), targets.flatten().tolist()),
                       dtype=torch.float64).view(5, 3)
    torch.testing.assert_close(sigmoid_focal_loss(logits, targets, reduction="none"), ref, rtol=1e-12, atol=0)
    torch.testing.assert_close(sigmoid_focal_loss(logits, targets), ref.mean())
    torch.testing.assert_close(sigmoid_focal_loss(logits, targets, reduction="sum"), ref.sum())
    torch.testing.assert_close(sigmoid_focal_loss(logits, targets, avg_factor=4.0), ref.sum() / 4)
    weight = torch.rand(5, 3, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(sigmoid_focal_loss(logits, targets, weight, reduction="sum"), (ref * weight).sum())
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: sigmoid_focal_loss(x, targets, avg_factor=3.0), (logits,))


def reference_gaussian_focal(pred, target, alpha=2.0, beta=4.0):
    pos = neg = 0.0
    num_pos = 0
    for p, t in zip(pred, target):
        if t == 1:
            num_pos += 1
            pos += math.log(p) * (1 - p) ** alpha
        else:
            neg += math.log(1 - p) * p ** alpha * (1 - t) ** beta
    return -(pos + neg) / num_pos if num_pos else -neg


def gaussian_heatmap(size, centre, sigma):
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64),
                            indexing="ij")
    return torch.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma ** 2))


def test_gaussian_focal_matches_centernet_formula():
    gen = torch.Generator().manual_seed(1)
    target = torch.stack([gaussian_heatmap(6, (2, 3), 1.2), gaussian_heatmap(6, (4, 1), 0.8)])
    pred = torch.rand(2, 6, 6, generator=gen, dtype=torch.float64) * 0.98 + 0.01
    expected = reference_gaussian_focal(pred.flatten().tolist(), target.flatten().tolist())
    assert int(target.eq(1).sum()) == 2
    assert gaussian_focal_loss(pred, target).item() == pytest.approx(expected, rel=1e-12)
    no_object = torch.zeros(6, 6, dtype=torch.float64) + 0.3
    assert gaussian_focal_loss(pred[0], no_object).item() == pytest.approx(
        reference_gaussian_focal(pred[0].flatten().tolist(), no_object.flatten().tolist()), rel=1e-12)
    pred.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: gaussian_focal_loss(p, target), (pred,))


def test_gaussian_focal_is_finite_when_probabilities_saturate():
    pred = torch.tensor([1.0, 0.0, 0.5], requires_grad=True)
    target = torch.tensor([1.0, 0.2, 0.0])
    loss = gaussian_focal_loss(pred, target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()


PRED = torch.tensor([[0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 3.0, 5.0], [10.0, 10.0, 12.0, 11.0]], dtype=torch.float64)
TARGET = torch.tensor([[2.0, 2.0, 6.0, 6.0], [1.0, 1.0, 3.0, 5.0], [0.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
# IoU: 4/28, 1, 0; enclosing areas 36, 8, 132 with unions 28, 8, 3.
IOU = [4 / 28, 1.0, 0.0]
GIOU = [4 / 28 - 8 / 36, 1.0, 0.0 - 129 / 132]


def test_giou_and_iou_losses_match_hand_values():
    torch.testing.assert_close(giou_loss(PRED, TARGET, reduction="none"),
                               torch.tensor([1 - g for g in GIOU], dtype=torch.float64))
    torch.testing.assert_close(iou_loss(PRED, TARGET, mode="linear", reduction="none"),
                               torch.tensor([1 - i for i in IOU], dtype=torch.float64))
    torch.testing.assert_close(iou_loss(PRED, TARGET, mode="log", eps=1e-6, reduction="none"),
                               torch.tensor([-math.log(max(i, 1e-6)) for i in IOU], dtype=torch.float64))
    torch.testing.assert_close(giou_loss(PRED, TARGET, avg_factor=2.0), sum(1 - g for g in GIOU) / 2 * torch.ones(
        (), dtype=torch.float64))
    pred = PRED[:2].clone().requires_grad_(True)  # pairs with a non-empty overlap: smooth there
    assert torch.autograd.gradcheck(lambda p: giou_loss(p + 0.1, TARGET[:2]), (pred,))
    assert torch.autograd.gradcheck(lambda p: iou_loss(p + 0.1, TARGET[:2]), (pred,))


def test_l1_and_smooth_l1():
    pred = torch.tensor([0.0, 0.05, 0.5, 2.0], dtype=torch.float64)
    target = torch.zeros(4, dtype=torch.float64)
    beta = 1 / 9
    expected = [0.5 * d * d / beta if d < beta else d - 0.5 * beta for d in [0.0, 0.05, 0.5, 2.0]]
    torch.testing.assert_close(smooth_l1_loss(pred, target, beta, reduction="none"),
                               torch.tensor(expected, dtype=torch.float64))
    assert l1_loss(pred, target, reduction="sum").item() == pytest.approx(2.55)


def test_reduction_errors():
    with pytest.raises(ValueError, match="reduction"):
        weight_reduce_loss(torch.ones(2), reduction="avg")
    with pytest.raises(ValueError, match="avg_factor"):
        weight_reduce_loss(torch.ones(2), reduction="sum", avg_factor=2.0)
    with pytest.raises(ValueError, match="must match"):
        sigmoid_focal_loss(torch.zeros(2, 3), torch.zeros(2, 2))
