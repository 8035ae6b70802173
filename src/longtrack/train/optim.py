"""Optimizer with per-prefix learning-rate multipliers, and the learning-rate schedule."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import LongtrackError
from .config import OptimConfig, ScheduleConfig

__all__ = ["build_optimizer", "lr_factor", "build_scheduler"]


def _multiplier(name: str, multipliers: dict[str, float]) -> float:
    matches = [p for p in multipliers if name == p or name.startswith(p + ".")]
    return multipliers[max(matches, key=len)] if matches else 1.0


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """One parameter group per learning-rate multiplier (``lr_multipliers`` prefixes)."""
    groups: dict[float, list[nn.Parameter]] = {}
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    for prefix in cfg.lr_multipliers:
        if not any(n == prefix or n.startswith(prefix + ".") for n in names):
            raise LongtrackError(f"optim.lr_multipliers: no trainable parameter starts with '{prefix}'")
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups.setdefault(_multiplier(name, cfg.lr_multipliers), []).append(param)
    if not groups:
        raise LongtrackError("the model has no trainable parameter")
    params = [{"params": ps, "lr": cfg.lr * m} for m, ps in sorted(groups.items())]
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.name == "adagrad":
        return torch.optim.Adagrad(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    optimizer_cls = torch.optim.AdamW if cfg.name == "adamw" else torch.optim.Adam
    return optimizer_cls(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)


def lr_factor(step: int, cfg: ScheduleConfig, total_steps: int) -> float:
    """Factor on the base learning rate for optimizer step ``step`` (0-based)."""
    if step < cfg.warmup_steps:
        return cfg.warmup_start + (1.0 - cfg.warmup_start) * step / cfg.warmup_steps
    if cfg.name == "step":
        return cfg.gamma ** sum(step >= m for m in cfg.milestones)
    if cfg.name == "cosine":
        span = max(1, total_steps - cfg.warmup_steps)
        progress = min(1.0, (step - cfg.warmup_steps) / span)
        return cfg.min_factor + (1.0 - cfg.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: ScheduleConfig,
                    total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    # A plain function (not an object): LambdaLR then keeps only numbers in its state_dict.
    def factor(step: int) -> float:
        return lr_factor(step, cfg, total_steps)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
