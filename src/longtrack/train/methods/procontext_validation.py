"""ProContEXT's figures on real validation pairs (``data.validation``), logged as ``eval/*``.

For each pair the query frame's box gives the templates (static = dynamic, as the tracker's
first frame), and the search frame is cropped twice at the search factor: around the target's
box moved by a fixed random shift and scale (what a tracker sees after a frame of motion), and,
where the frame has room, around a place whose crop does not touch the target (what it sees
after losing it). Figures: the share of shifted crops whose box has IoU >= 0.5 with the truth,
their mean IoU, and ``score_auc``: the probability that the score-map maximum of an on-target
crop exceeds that of a target-free one (0.5 = chance), the separation the presence flag needs.
"""
from __future__ import annotations

import numpy as np
import torch

from ...boxes import iou
from ...crops import crop_around, crop_region
from ...errors import LongtrackError
from ..validation import ValidationPair, validation_pairs
from .tanet_metrics import pixel_auc

__all__ = ["pair_evaluator", "shifted_box", "clear_box"]

SHIFT, SCALE = 0.5, 0.2  # centre moved by up to half the box side, size by up to 20 %
PLACE_TRIES = 20


def shifted_box(box: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``box`` (xywh) with its centre moved by up to ``SHIFT`` of its size and scaled by up to ``SCALE``."""
    x, y, w, h = box
    scale = float(np.exp(rng.uniform(-1, 1) * np.log1p(SCALE)))
    cx, cy = x + w / 2 + rng.uniform(-SHIFT, SHIFT) * w, y + h / 2 + rng.uniform(-SHIFT, SHIFT) * h
    return np.array([cx - w * scale / 2, cy - h * scale / 2, w * scale, h * scale])


def clear_box(box: np.ndarray, frame_hw: tuple[int, int], factor: float,
              rng: np.random.Generator) -> np.ndarray | None:
    """A box of ``box``'s size elsewhere in the frame whose search crop misses ``box``; None if none found."""
    height, width = frame_hw
    w, h = box[2:]
    for _ in range(PLACE_TRIES):
        place = np.array([rng.uniform(0, max(width - w, 1)), rng.uniform(0, max(height - h, 1)), w, h])
        crop = crop_region(place, factor, 1, (width, height))
        apart = (box[0] >= crop.x0 + crop.side + 1 or box[0] + w <= crop.x0 - 1 or
                 box[1] >= crop.y0 + crop.side + 1 or box[1] + h <= crop.y0 - 1)
        if apart:
            return place
    return None


def _tensor(patches: list[np.ndarray]) -> torch.Tensor:
    """``N`` ``S x S x 3`` uint8 patches -> ``[1, N, 3, S, S]`` uint8."""
    return torch.from_numpy(np.stack(patches)).permute(0, 3, 1, 2)[None].contiguous()


def pair_evaluator(pairs: list[ValidationPair], seed: int = 0, search_factor: float = 5.0):
    """``evaluate(model)`` for a ``ProContEXTOnBatches`` model whose search crops are taken at
    ``search_factor`` (its config's); the crops are drawn once, here. ``real_score_auc`` compares
    every on-target crop with every target-free one (pairs whose frame has no room for a
    target-free crop add an on-target crop only)."""
    if not pairs:
        raise LongtrackError("procontext validation: no validation pairs")
    rng = np.random.default_rng([seed, 11])
    views = []
    for pair in pairs:
        moved = shifted_box(pair.search_box, rng)
        away = clear_box(pair.search_box, pair.search_frame.shape[:2], search_factor, rng)
        views.append((pair, moved, away))

    def evaluate(model) -> dict[str, float]:
        cfg = model.config
        if cfg.search_factor != search_factor:
            raise LongtrackError(f"procontext validation: crops drawn for search factor {search_factor}, "
                                 f"the model uses {cfg.search_factor}")
        device = next(model.parameters()).device
        ious, on_scores, off_scores = [], [], []
        for pair, moved, away in views:
            templates = [crop_around(pair.query_frame, pair.query_box, f, cfg.template_size, pad_value=0)[0]
                         for f in cfg.template_factors]
            batch = {"template_images": _tensor(templates + templates).to(device)}
            patch, transform = crop_around(pair.search_frame, moved, cfg.search_factor, cfg.search_size, pad_value=0)
            out = model({**batch, "search_images": _tensor([patch]).to(device)})
            cx, cy, w, h = (out["pred_boxes"][0].float() * cfg.search_size).tolist()
            box = transform.box_to_frame(np.array([cx - w / 2, cy - h / 2, w, h]))
            ious.append(float(iou(box, pair.search_box)))
            on_scores.append(float(out["score"][0]))
            if away is not None:
                patch, _ = crop_around(pair.search_frame, away, cfg.search_factor, cfg.search_size, pad_value=0)
                off_scores.append(float(model({**batch, "search_images": _tensor([patch]).to(device)})["score"][0]))
        ious = np.asarray(ious)
        scores = np.asarray(on_scores + off_scores)
        positive = np.arange(len(scores)) < len(on_scores)
        return {"real_iou50": float((ious >= 0.5).mean()), "real_iou": float(ious.mean()),
                "real_score_auc": pixel_auc(scores, positive, ~positive)}

    return evaluate


def evaluator_for(cfg):
    """The real-pair figures on ``data.validation``, or None without it."""
    if cfg.data.validation is None:
        return None
    return pair_evaluator(validation_pairs(cfg.data.validation, seed=cfg.train.seed), seed=cfg.train.seed,
                          search_factor=cfg.model.search_factor)
