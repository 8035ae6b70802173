"""Why a network that mislocates learns to over-size its boxes under ProContEXT's (= OSTrack's) loss.

    python experiments/procontext/box_loss_bias.py

The authors' criterion scores the box decoded at the *predicted* score maximum with 2 GIoU + 5 L1.
Model the prediction as the true box (a square, 0.2 of the crop) scaled by k and moved by a centre
error of Gaussian std ``sigma`` target sizes per axis: the k that minimises the expected loss is
the size a network with that centre error learns. With sigma 0 it is 1; the bigger the error,
the bigger the loss-optimal box, because GIoU rewards covering a target whose place is uncertain
(L1 on the corners alone is minimised at k = 1). Pure arithmetic on ``longtrack.ops``: seconds.
"""
from __future__ import annotations

import torch

from longtrack.ops import box_cxcywh_to_xyxy, box_iou_elementwise, giou_loss, l1_loss


def expected(scale: float, sigma: float, samples: int = 20000, side: float = 0.2) -> tuple[float, float]:
    """``(expected 2 GIoU + 5 L1, mean IoU)`` of a box ``scale`` x the target, centre error ``sigma``."""
    gen = torch.Generator().manual_seed(0)
    error = torch.randn(samples, 2, generator=gen, dtype=torch.float64) * sigma * side
    target = box_cxcywh_to_xyxy(torch.tensor([[0.5, 0.5, side, side]], dtype=torch.float64).expand(samples, 4))
    pred = box_cxcywh_to_xyxy(torch.cat([0.5 + error, torch.full((samples, 2), scale * side, dtype=torch.float64)], 1))
    loss = 2 * giou_loss(pred, target) + 5 * l1_loss(pred, target)
    return float(loss), float(box_iou_elementwise(pred, target).mean())


def main() -> None:
    scales = [0.6 + 0.05 * i for i in range(39)]
    print("centre error (target sizes) | loss-optimal box scale | mean IoU there | mean IoU at scale 1")
    for sigma in (0.0, 0.25, 0.5, 0.75, 1.0):
        best = min(scales, key=lambda k: expected(k, sigma)[0])
        print(f"{sigma:.2f} | {best:.2f} | {expected(best, sigma)[1]:.2f} | {expected(1.0, sigma)[1]:.2f}")


if __name__ == "__main__":
    main()
