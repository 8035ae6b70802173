"""A test-only training method: a tiny CNN that finds the template's object in the search crop.

Configs name it as ``method: tiny_method:build`` (tests/train is on the import path: pytest
puts it there, and the subprocess tests set PYTHONPATH).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from longtrack.train.data import TrackingSamples, collate_samples
from longtrack.train.setup import TrainingSetup


@dataclass(frozen=True)
class ModelConfig:
    width: int = 16
    dropout: float = 0.1  # uses the torch RNG: resume must restore it
    stride: int = 4


def _encoder(width: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, width, 3, 2, 1), nn.ReLU(), nn.Conv2d(width, width, 3, 2, 1), nn.ReLU())


class TinyLocator(nn.Module):
    """template ``(B, 1, 3, t, t)`` + search ``(B, 1, 3, s, s)`` uint8 -> ``heatmap`` ``(B, s/4, s/4)``
    logits of the target centre and ``size`` ``(B, 2, s/4, s/4)`` (w, h over s)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.template_encoder = _encoder(cfg.width)
        self.search_encoder = _encoder(cfg.width)
        self.dropout = nn.Dropout(cfg.dropout)
        self.fuse = nn.Sequential(nn.Conv2d(2 * cfg.width, cfg.width, 3, 1, 1), nn.ReLU())
        self.heatmap = nn.Conv2d(cfg.width, 1, 1)
        self.size = nn.Conv2d(cfg.width, 2, 1)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        template = batch["template_images"][:, 0].float() / 255.0 - 0.5
        search = batch["search_images"][:, 0].float() / 255.0 - 0.5
        kernel = self.template_encoder(template).mean(dim=(2, 3))  # (B, C)
        feat = self.dropout(self.search_encoder(search))  # (B, C, h, w)
        fused = self.fuse(torch.cat([feat, feat * kernel[:, :, None, None]], dim=1))
        return {"heatmap": self.heatmap(fused)[:, 0], "size": self.size(fused).sigmoid()}


class TinyCriterion(nn.Module):
    """Cross-entropy of the centre cell + 5 x L1 of the size there."""

    def forward(self, outputs: dict, batch: dict) -> dict[str, torch.Tensor]:
        logits = outputs["heatmap"].float()
        b, h, w = logits.shape
        side = batch["search_images"].shape[-1]
        box = batch["search_boxes"][:, 0].float()  # (B, 4) xywh in search pixels
        cell = side / w
        cx = ((box[:, 0] + box[:, 2] / 2) / cell).long().clamp(0, w - 1)
        cy = ((box[:, 1] + box[:, 3] / 2) / cell).long().clamp(0, h - 1)
        centre = F.cross_entropy(logits.reshape(b, -1), cy * w + cx)
        size = outputs["size"].float()[torch.arange(b), :, cy, cx]
        l1 = F.l1_loss(size, box[:, 2:] / side)
        return {"loss": centre + 5.0 * l1, "centre_ce": centre, "size_l1": l1}


def build(cfg, device) -> TrainingSetup:
    model = TinyLocator(cfg.model)
    return TrainingSetup(model=model, criterion=TinyCriterion(),
                         dataset=TrackingSamples(cfg.data, seed=cfg.train.seed), collate_fn=collate_samples)


# Variants for the engine's error paths and hooks (configs name them as tiny_method:<name>).

def build_with_eval(cfg, device) -> TrainingSetup:
    """Adds an evaluate(): the size-head bias, a number that training changes."""
    setup = build(cfg, device)
    setup.evaluate = lambda model: {"size_bias": float(model.size.bias.sum())}
    return setup


def build_without_total(cfg, device) -> TrainingSetup:
    setup = build(cfg, device)
    criterion = setup.criterion
    setup.criterion = lambda outputs, batch: {
        k: v for k, v in criterion(outputs, batch).items() if k != "loss"}
    return setup


def build_diverging(cfg, device) -> TrainingSetup:
    setup = build(cfg, device)
    criterion = setup.criterion
    setup.criterion = lambda outputs, batch: {"loss": criterion(outputs, batch)["loss"] * float("nan")}
    return setup
