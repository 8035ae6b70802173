"""``longtrack train``: build a method from its config, then train it in one process or under
``torchrun`` (DDP), resuming from ``OUT/checkpoint.pt`` on request.

Files written in ``OUT`` (rank 0 only): ``config.yaml`` (the full config, defaults filled
in), ``log.jsonl``, ``checkpoint.pt`` (latest, atomic), ``weights.pt`` (config + the
tracker-ready inference state, ``TrainingSetup.inference_state``, at the end) and
``tensorboard/`` when TensorBoard is installed.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import yaml
from torch import nn

from ..checkpoint import load_checkpoint, load_weights
from ..errors import LongtrackError
from ..fileio import atomic_write_text, check_writable, clean_stale_temporaries
from . import distributed
from .config import TrainConfig, config_from_dict, config_to_dict, load_config
from .data.stream import StreamBatchSampler
from .hooks import (CHECKPOINT_NAME, WEIGHTS_NAME, CheckpointHook, EvalHook, Hook, LoggingHook,
                    LRScheduleHook)
from .methods import resolve_method
from .optim import build_optimizer, build_scheduler
from .seeding import restore_rng_state, seed_everything
from .trainer import Trainer

__all__ = ["train", "RESUMABLE_CHANGES"]

# Keys a resumed run may change without changing what is learned.
RESUMABLE_CHANGES = {"train.steps", "train.ckpt_every", "train.log_every", "train.eval_every",
                     "train.tensorboard", "data.num_workers"}


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _check_same_run(saved: dict, current: dict, path: Path) -> None:
    try:  # options added since the run started take their defaults, which keep the old behaviour
        saved = config_to_dict(config_from_dict(saved, str(path)))
    except LongtrackError:
        pass  # a key this code no longer knows: the raw comparison below names it
    old, new = _flatten(saved), _flatten(current)
    changed = sorted(k for k in old.keys() | new.keys()
                     if old.get(k) != new.get(k) and k not in RESUMABLE_CHANGES)
    if changed:
        shown = ", ".join(changed[:6]) + (" ..." if len(changed) > 6 else "")
        allowed = ", ".join(sorted(RESUMABLE_CHANGES))
        raise LongtrackError(f"cannot resume from {path}: the config changed in {shown} (only {allowed} "
                             "may change); use a new --out to train the new config")


def _worker_init(_worker_id: int) -> None:
    torch.set_num_threads(1)  # workers share the machine's cores with the training process
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass


def _make_loader(setup, cfg: TrainConfig, info, start_step: int, device: torch.device):
    sampler = StreamBatchSampler(len(setup.dataset), cfg.train.batch_size, info.rank, info.world_size,
                                 start_step)
    return torch.utils.data.DataLoader(
        setup.dataset, batch_sampler=sampler, collate_fn=setup.collate_fn,
        num_workers=cfg.data.num_workers, worker_init_fn=_worker_init if cfg.data.num_workers else None,
        pin_memory=device.type == "cuda",
        # Its own generator: making the iterator must not consume the global torch RNG,
        # which a resumed run has just restored.
        generator=torch.Generator())


def train(config: str | os.PathLike | TrainConfig, out_dir: str | os.PathLike, resume: bool = False,
          device: str = "auto", extra_hooks: list[Hook] | None = None) -> Path:
    """Train ``config`` (a YAML path or a ``TrainConfig``) into ``out_dir``; returns ``out_dir``.

    ``resume``: continue from ``out_dir/checkpoint.pt`` when it exists (else start fresh).
    Works the same in one process and under ``torchrun``.
    """
    cfg = config if isinstance(config, TrainConfig) else load_config(config)
    out_dir = Path(out_dir)
    ckpt_path = out_dir / CHECKPOINT_NAME
    if ckpt_path.exists() and not resume:
        raise LongtrackError(f"{out_dir} already holds a training run ({CHECKPOINT_NAME}); pass --resume "
                             "to continue it or choose another --out")
    info = distributed.local_info()
    if info.rank == 0:  # before any work: a folder that cannot be written fails now, in one line
        check_writable(out_dir / CHECKPOINT_NAME)
        clean_stale_temporaries(out_dir)  # e.g. half-written checkpoints of a killed run
    dev = distributed.pick_device(device, info)
    if cfg.train.amp == "fp16" and dev.type != "cuda":
        raise LongtrackError("train.amp fp16 needs a CUDA device; use bf16 on the CPU")
    info = distributed.init_distributed(dev)
    try:
        if cfg.train.batch_size % info.world_size:
            raise LongtrackError(f"train.batch_size {cfg.train.batch_size} does not split evenly over "
                                 f"{info.world_size} processes")
        if info.is_main:
            out_dir.mkdir(parents=True, exist_ok=True)
        distributed.barrier()
        return _train(cfg, out_dir, ckpt_path if resume and ckpt_path.exists() else None, dev, info,
                      extra_hooks or [])
    finally:
        distributed.shutdown()


def _train(cfg: TrainConfig, out_dir: Path, resume_from: Path | None, device: torch.device, info,
           extra_hooks: list[Hook]) -> Path:
    seed_everything(cfg.train.seed + info.rank)  # rank 0's model init is broadcast by DDP
    setup = resolve_method(cfg.method).build(cfg, device)
    model = setup.model.to(device)
    if cfg.train.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(model, cfg.optim)
    scheduler = build_scheduler(optimizer, cfg.schedule, cfg.train.steps)
    scaler = torch.amp.GradScaler("cuda") if cfg.train.amp == "fp16" else None
    start_step = 0
    config_dict = config_to_dict(cfg)
    if resume_from is not None:
        ckpt = load_checkpoint(resume_from, map_location=device)
        _check_same_run(ckpt["config"], config_dict, resume_from)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        if scaler is not None and ckpt.get("scaler"):
            scaler.load_state_dict(ckpt["scaler"])
        rng = ckpt.get("rng") or []
        if info.rank < len(rng):  # a run resumed on more processes seeds the new ones afresh
            restore_rng_state(rng[info.rank])
        start_step = int(ckpt["step"])
        if start_step >= cfg.train.steps and (out_dir / WEIGHTS_NAME).is_file():
            if info.is_main:
                print(f"longtrack train: {out_dir} already finished its {cfg.train.steps} steps")
            return out_dir
        if info.is_main:
            print(f"longtrack train: resuming {out_dir} at step {start_step}")
    elif cfg.train.init_weights:
        start = load_weights(Path(cfg.train.init_weights).expanduser(), method=cfg.method, map_location=device)
        try:
            model.load_state_dict(start.state_dict)
        except RuntimeError as exc:
            raise LongtrackError(f"train.init_weights {cfg.train.init_weights} does not fit the config's "
                                 f"model: {str(exc).splitlines()[0]}") from exc
        if info.is_main:
            print(f"longtrack train: starting the model from {cfg.train.init_weights} (its step {start.step})")
    if info.is_main:
        atomic_write_text(out_dir / "config.yaml", yaml.safe_dump(config_dict, sort_keys=False))
    if info.enabled:
        model = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=cfg.train.find_unused_parameters)
    logger = LoggingHook()
    hooks: list[Hook] = [LRScheduleHook(), logger]
    if setup.evaluate is not None:
        hooks.append(EvalHook(logger))
    hooks += [CheckpointHook(), *extra_hooks]
    trainer = Trainer(cfg, setup, model, optimizer, scheduler, scaler, device, info, out_dir,
                      start_step, hooks)
    trainer.train(_make_loader(setup, cfg, info, start_step, device))
    return out_dir
