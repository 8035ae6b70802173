"""Hooks around the training loop: learning-rate schedule, logging (JSONL, TensorBoard,
progress bar), evaluation and checkpointing. Each sees the ``Trainer`` after every step, in
that order; only rank 0 writes files.

Log windows close at every ``log_every`` step *and* at every checkpoint, so a run resumed
from a checkpoint writes exactly the log lines of an uninterrupted run.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from tqdm import tqdm

from ..checkpoint import save_checkpoint, save_weights
from ..fileio import atomic_write_text
from . import distributed
from .optim import lr_factor
from .seeding import capture_rng_state

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["Hook", "LRScheduleHook", "LoggingHook", "EvalHook", "CheckpointHook", "CHECKPOINT_NAME",
           "WEIGHTS_NAME",
           "LOG_NAME", "truncate_log"]

CHECKPOINT_NAME = "checkpoint.pt"
WEIGHTS_NAME = "weights.pt"
LOG_NAME = "log.jsonl"


class Hook:
    def before_train(self, trainer: "Trainer") -> None: ...

    def after_step(self, trainer: "Trainer") -> None: ...

    def after_train(self, trainer: "Trainer") -> None: ...

    def on_failure(self, trainer: "Trainer") -> None:
        """The loop raised: release resources (no collective calls: other ranks may be gone)."""


class LRScheduleHook(Hook):
    """Steps the learning-rate schedule after every optimizer step (before any checkpoint, so a
    checkpoint holds the schedule's state for the next step)."""

    def after_step(self, trainer):
        t = trainer.cfg
        trainer.last_lr = t.optim.lr * lr_factor(trainer.step - 1, t.schedule, t.train.steps)
        trainer.scheduler.step()


def closes_window(trainer: "Trainer") -> bool:
    t = trainer.cfg.train
    return trainer.step % t.log_every == 0 or trainer.step % t.ckpt_every == 0 or trainer.step == t.steps


def truncate_log(path: Path, last_step: int) -> None:
    """Keep the log lines up to ``last_step`` (a resumed run rewrites what followed)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a kill
            continue
        if record.get("step", math.inf) <= last_step:
            kept.append(line)
    atomic_write_text(path, "".join(f"{line}\n" for line in kept))


class LoggingHook(Hook):
    """Mean of each named loss over the window, averaged over processes, to ``log.jsonl``,
    TensorBoard (when installed and enabled) and the progress bar."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.window_start = 0.0
        self.log_path: Path | None = None
        self.writer = None
        self.bar = None

    def before_train(self, trainer):
        self.window_start = time.perf_counter()
        if not trainer.dist.is_main:
            return
        self.log_path = trainer.out_dir / LOG_NAME
        truncate_log(self.log_path, trainer.start_step)
        if trainer.cfg.train.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                print("longtrack train: tensorboard is not installed; logging to log.jsonl only",
                      file=sys.stderr)
            else:
                self.writer = SummaryWriter(str(trainer.out_dir / "tensorboard"),
                                            purge_step=trainer.start_step + 1)
        self.bar = tqdm(total=trainer.cfg.train.steps, initial=trainer.start_step, desc="train",
                        unit="step", disable=None, dynamic_ncols=True)

    def after_step(self, trainer):
        for name, value in trainer.last_losses.items():
            if name in self.sums:
                self.sums[name] += value
            else:
                self.sums[name] = value.clone()
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)
        if not closes_window(trainer):
            return
        names = sorted(self.sums)
        totals = distributed.all_reduce_sum(torch.stack([self.sums[n] for n in names]).double())
        means = (totals / (self.count * trainer.dist.world_size)).tolist()
        elapsed = time.perf_counter() - self.window_start
        record = {"step": trainer.step, "lr": trainer.last_lr}
        record.update(zip(names, means))
        if trainer.last_grad_norm is not None:
            record["grad_norm"] = float(trainer.last_grad_norm)  # of the window's last step
        record["steps_per_s"] = self.count / elapsed if elapsed > 0 else None
        self.sums, self.count, self.window_start = {}, 0, time.perf_counter()
        if trainer.dist.is_main:
            self.write(trainer.step, record)
            if self.bar is not None:
                self.bar.set_postfix(loss=f"{record['loss']:.4f}", refresh=False)

    def write(self, step: int, record: dict) -> None:
        with open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.writer.add_scalar(key, value, step)

    def after_train(self, trainer):
        self.on_failure(trainer)

    def on_failure(self, trainer):
        if self.writer is not None:
            self.writer.close()
        if self.bar is not None:
            self.bar.close()


class EvalHook(Hook):
    """Runs the method's ``evaluate(model)`` on rank 0; the scores go to the log as ``eval/<name>``."""

    def __init__(self, logger: LoggingHook):
        self.logger = logger

    def _run(self, trainer):
        if trainer.dist.is_main:
            model = trainer.raw_model
            was_training = model.training
            model.eval()
            with torch.no_grad():
                scores = trainer.setup.evaluate(model)
            model.train(was_training)
            record = {"step": trainer.step, **{f"eval/{k}": float(v) for k, v in scores.items()}}
            self.logger.write(trainer.step, record)
        distributed.barrier()

    def after_step(self, trainer):
        every = trainer.cfg.train.eval_every
        if every and trainer.step % every == 0 and trainer.step != trainer.cfg.train.steps:
            self._run(trainer)

    def after_train(self, trainer):
        if trainer.step == trainer.cfg.train.steps:
            self._run(trainer)


class CheckpointHook(Hook):
    """``checkpoint.pt`` every ``ckpt_every`` steps and at the end (every process's RNG state
    gathered to rank 0, which writes); ``weights.pt`` (config + the method's inference state,
    tracker-ready) at the end."""

    def after_step(self, trainer):
        if trainer.step % trainer.cfg.train.ckpt_every == 0 or trainer.step == trainer.cfg.train.steps:
            self.save(trainer)

    def save(self, trainer):
        rng_states = distributed.all_gather_objects(capture_rng_state())
        if trainer.dist.is_main:
            save_checkpoint(
                trainer.out_dir / CHECKPOINT_NAME, method=trainer.cfg.method, config=trainer.config_dict,
                model=trainer.raw_model.state_dict(), step=trainer.step,
                optimizer=trainer.optimizer.state_dict(), scheduler=trainer.scheduler.state_dict(),
                scaler=trainer.scaler.state_dict() if trainer.scaler is not None else None,
                rng=rng_states, data=trainer.data_state())
        distributed.barrier()

    def after_train(self, trainer):
        if trainer.dist.is_main and trainer.step == trainer.cfg.train.steps:
            save_weights(trainer.out_dir / WEIGHTS_NAME, method=trainer.cfg.method,
                         config=trainer.config_dict, state_dict=trainer.setup.inference_state(trainer.raw_model),
                         step=trainer.step)
        distributed.barrier()
