"""Hungarian matcher: literal cost formulas, optimality by brute force, batched == per-sample."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from longtrack.ops import HungarianMatcher, box_cxcywh_to_xyxy, generalized_box_iou

torch.set_num_threads(1)


def make_batch(seed, sizes, queries=5, classes=3):
    gen = torch.Generator().manual_seed(seed)
    outputs = {
        "pred_logits": torch.randn(len(sizes), queries, classes, generator=gen),
        "pred_boxes": torch.rand(len(sizes), queries, 4, generator=gen) * 0.5 + 0.1,
        "ref_points": torch.rand(len(sizes), queries, 2, generator=gen),
    }
    targets = [{"labels": torch.randint(0, classes, (n,), generator=gen),
                "boxes": torch.rand(n, 4, generator=gen) * 0.5 + 0.1} for n in sizes]
    return outputs, targets


def literal_cost(outputs, target, b, q, t, focal, weights=(2.0, 5.0, 2.0)):
    logit = float(outputs["pred_logits"][b, q, int(target["labels"][t])])
    if focal:
        p = 1 / (1 + math.exp(-logit))
        c_cls = 0.25 * (1 - p) ** 2 * -math.log(p + 1e-8) - 0.75 * p ** 2 * -math.log(1 - p + 1e-8)
    else:
        c_cls = -float(outputs["pred_logits"][b, q].softmax(-1)[int(target["labels"][t])])
    pb, tb = outputs["pred_boxes"][b, q], target["boxes"][t]
    c_l1 = float((pb - tb).abs().sum())
    giou = float(generalized_box_iou(box_cxcywh_to_xyxy(pb[None]), box_cxcywh_to_xyxy(tb[None])))
    return weights[0] * c_cls + weights[1] * c_l1 - weights[2] * giou


@pytest.mark.parametrize("focal", [True, False])
def test_matching_is_optimal_under_the_literal_cost(focal):
    outputs, targets = make_batch(0, [3, 1, 4])
    matcher = HungarianMatcher(cost_class=2.0, cost_bbox=5.0, cost_giou=2.0, focal=focal)
    matches = matcher(outputs, targets)
    for b, (target, (rows, cols)) in enumerate(zip(targets, matches)):
        n = len(target["labels"])
        cost = [[literal_cost(outputs, target, b, q, t, focal) for t in range(n)] for q in range(5)]
        best = min(sum(cost[q][t] for t, q in enumerate(perm)) for perm in itertools.permutations(range(5), n))
        assert len(rows) == n and sorted(cols.tolist()) == list(range(n))
        assert rows.tolist() == sorted(rows.tolist())
        assert sum(cost[q][t] for q, t in zip(rows.tolist(), cols.tolist())) == pytest.approx(best, abs=1e-5)


def test_batched_equals_per_sample_and_handles_empty_targets():
    def centre_distance(outputs, targets):
        centres = torch.cat([t["boxes"][:, :2] for t in targets])
        return 3.0 * torch.cdist(outputs["ref_points"], centres[None].expand(len(targets), -1, -1), p=1)

    outputs, targets = make_batch(1, [2, 0, 4, 1])
    for extra in (None, centre_distance):
        matcher = HungarianMatcher(1.0, 5.0, 2.0, focal=True, extra_cost=extra)
        batched = matcher(outputs, targets)
        for b, target in enumerate(targets):
            single = matcher({k: v[b:b + 1] for k, v in outputs.items()}, [target])[0]
            assert torch.equal(batched[b][0], single[0]) and torch.equal(batched[b][1], single[1])
        assert len(batched[1][0]) == 0


def test_extra_cost_changes_the_assignment():
    outputs, targets = make_batch(2, [1], queries=2)
    # Identical predictions: only the extra cost can break the tie.
    outputs["pred_logits"][0, 1] = outputs["pred_logits"][0, 0]
    outputs["pred_boxes"][0, 1] = outputs["pred_boxes"][0, 0]
    prefer_second = lambda o, t: torch.tensor([[[1.0], [0.0]]])  # noqa: E731
    prefer_first = lambda o, t: torch.tensor([[[0.0], [1.0]]])  # noqa: E731
    assert HungarianMatcher(extra_cost=prefer_second)(outputs, targets)[0][0].tolist() == [1]
    assert HungarianMatcher(extra_cost=prefer_first)(outputs, targets)[0][0].tolist() == [0]


def test_more_targets_than_queries_and_bad_costs():
    outputs, targets = make_batch(3, [4], queries=2)
    rows, cols = HungarianMatcher()(outputs, targets)[0]
    assert len(rows) == 2 and len(set(cols.tolist())) == 2
    outputs["pred_boxes"][0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        HungarianMatcher()(outputs, targets)
    with pytest.raises(ValueError, match="all matching costs are zero"):
        HungarianMatcher(0, 0, 0)
