"""The training loop: ``outputs = model(batch)``, ``losses = criterion(outputs, batch)``,
backward on ``losses["loss"]``, clip, step. Everything else (learning-rate schedule, logging,
evaluation, checkpoints) is a hook."""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from torch import nn

from ..errors import LongtrackError
from .config import TrainConfig, config_to_dict
from .distributed import DistInfo
from .freezing import FreezePlan
from .hooks import Hook
from .setup import TrainingSetup

__all__ = ["Trainer", "move_to_device"]


def move_to_device(batch, device: torch.device, channels_last: bool = False):
    """Tensors in nested dicts, lists and tuples -> ``device`` (4-D floating tensors in
    channels_last memory format when asked); anything else unchanged."""
    if isinstance(batch, torch.Tensor):
        batch = batch.to(device, non_blocking=True)
        if channels_last and batch.dim() == 4 and batch.is_floating_point():
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch
    if isinstance(batch, dict):
        return {k: move_to_device(v, device, channels_last) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to_device(v, device, channels_last) for v in batch)
    return batch


class Trainer:
    """Holds the training state; ``train(batches)`` runs from ``start_step`` to ``train.steps``."""

    def __init__(self, cfg: TrainConfig, setup: TrainingSetup, model: nn.Module,
                 optimizer: torch.optim.Optimizer, scheduler, scaler, device: torch.device,
                 dist: DistInfo, out_dir: Path, start_step: int, hooks: list[Hook]):
        self.cfg = cfg
        self.config_dict = config_to_dict(cfg)
        self.setup = setup
        self.model = model  # possibly DistributedDataParallel
        self.raw_model = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.scaler = scaler
        self.device = device
        self.dist = dist
        self.out_dir = out_dir
        self.start_step = start_step
        self.step = start_step  # optimizer steps completed
        self.hooks = hooks
        self.last_losses: dict[str, torch.Tensor] = {}
        self.last_grad_norm: torch.Tensor | None = None
        self.last_lr = cfg.optim.lr  # base learning rate of the last step (set by LRScheduleHook)
        self.freeze = FreezePlan(self.raw_model, cfg.train.freeze)

    def _apply_freeze(self) -> None:
        """Frozen prefixes for this step; DDP registers the parameters that take gradients when it
        is built, so a changed frozen set rebuilds its wrapper (on every rank at the same step)."""
        if self.freeze.apply(self.raw_model, self.step) and isinstance(
                self.model, nn.parallel.DistributedDataParallel):
            self.model = nn.parallel.DistributedDataParallel(
                self.raw_model, device_ids=self.model.device_ids,
                find_unused_parameters=self.cfg.train.find_unused_parameters)

    def autocast(self):
        amp = self.cfg.train.amp
        if amp == "none":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if amp == "bf16" else torch.float16
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def data_state(self) -> dict:
        batch = self.cfg.train.batch_size
        return {"next_step": self.step, "global_batch": batch, "samples_seen": self.step * batch,
                "samples_per_epoch": len(self.setup.dataset)}

    def run_step(self, batch) -> None:
        self._apply_freeze()
        batch = move_to_device(batch, self.device, self.cfg.train.channels_last)
        with self.autocast():
            outputs = self.model(batch)
            losses = self.setup.criterion(outputs, batch)
        if "loss" not in losses:
            raise LongtrackError(f"method '{self.cfg.method}': the criterion returned no 'loss' entry "
                                 f"(got {', '.join(losses) or 'nothing'})")
        not_scalar = [k for k, v in losses.items() if not isinstance(v, torch.Tensor) or v.dim() != 0]
        if not_scalar:
            raise LongtrackError(f"method '{self.cfg.method}': the criterion's '{not_scalar[0]}' is not a "
                                 "scalar tensor (reduce it to one number)")
        loss = losses["loss"]
        if not torch.isfinite(loss.detach()).all():
            raise LongtrackError(f"step {self.step + 1}: the loss is {loss.item()} (diverged); lower "
                                 "optim.lr or set train.grad_clip, then resume from the last checkpoint")
        self.optimizer.zero_grad(set_to_none=True)
        clip = self.cfg.train.grad_clip
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if clip > 0:
                self.scaler.unscale_(self.optimizer)
                self.last_grad_norm = nn.utils.clip_grad_norm_(self.raw_model.parameters(), clip).detach()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if clip > 0:
                self.last_grad_norm = nn.utils.clip_grad_norm_(self.raw_model.parameters(), clip).detach()
            self.optimizer.step()
        self.last_losses = {k: v.detach().float() for k, v in losses.items()}

    def train(self, batches) -> None:
        """Run the remaining steps, pulling one batch per step from the iterable ``batches``."""
        self.model.train()
        for hook in self.hooks:
            hook.before_train(self)
        iterator = iter(batches)
        try:
            while self.step < self.cfg.train.steps:
                self.run_step(next(iterator))
                self.step += 1
                for hook in self.hooks:
                    hook.after_step(self)
        except BaseException:
            for hook in self.hooks:  # release files; no collective calls on this path
                hook.on_failure(self)
            raise
        for hook in self.hooks:
            hook.after_train(self)
