"""Sanity checks of GTELT's training path on a few fixed training samples.

1. Labels: per frame, how many local trackers the criterion's Hungarian matching makes positive
   (must be 1 where the target is present, 0 where absent).
2. Template: how much the scores move when each sample gets another sample's template (if the
   template did not reach the decoder's queries, nothing would move).
3. Overfit: a fresh small model trained with the engine's own step (``Trainer.run_step``: model,
   criterion, gradient clip, AdamW, the config's schedule) on the same ``--samples`` samples every
   step; every ``--eval-every`` steps the online selection (confidence = score x similarity,
   position, theta: ``select_candidates``) is measured on those samples, in eval mode and in
   train mode (BatchNorm batch statistics).

    OMP_NUM_THREADS=1 python experiments/gtelt/overfit.py [--samples 8] [--length 3] [--with-absent 3 | --paired]
        [--steps 300] [--eval-every 50] [--weights src/longtrack/weights/gtelt-synth.pt] [--set SECTION.KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import copy
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from longtrack.checkpoint import load_weights
from longtrack.crops import crop_around
from longtrack.models.gtelt import initial_context, select_candidates
from longtrack.ops import box_cxcywh_to_xyxy, box_iou_elementwise
from longtrack.train.config import load_config
from longtrack.train.distributed import DistInfo
from longtrack.train.hooks import LRScheduleHook
from longtrack.train.methods.gtelt import GTELTOnBatches, build
from longtrack.train.criteria.gtelt import normalised_targets
from longtrack.train.optim import build_optimizer, build_scheduler
from longtrack.train.trainer import Trainer

REPO = Path(__file__).resolve().parents[2]


def fixed_batch(setup, count: int, with_absent: int) -> dict:
    """``count`` samples of the real sampler (distinct videos; the first ``with_absent`` of those
    where the target is absent in some frame, then the first others), collated into one batch."""
    absent, other = [], []
    for index in range(50 * count):
        sample = setup.dataset[(0, index)]
        group = absent if not sample["search_present"].all() and len(absent) < with_absent else other
        group.append(sample)
        if len(absent) >= with_absent and len(absent) + len(other) >= count:
            break
    return setup.collate_fn((absent + other)[:count])


def paired_batch(setup, count: int, length: int, stride: int = 5) -> dict:
    """``count`` samples in pairs that share their frames: the same template frame and T test
    frames of one training video, one sample tracking its target and the other another object
    visible in all those frames (the largest). Only the template tells the two apart."""
    cfg = setup.dataset.model_cfg
    source = setup.dataset.sources[0]
    rows = []
    for v in range(100 * count):
        video = source.video(v)
        for f0 in range(0, len(video) - stride * length - 1, 97):
            frames = [f0 + stride * k for k in range(length + 1)]
            boxes = [dict(zip(*reversed(video.instances(f)))) for f in frames]
            common = set.intersection(*(set(int(i) for i in b) for b in boxes))
            target = int(video.target_identity)
            others = [i for i in common if i != target]
            if target not in common or not others:
                continue
            other = max(others, key=lambda i: min(float(b[i][2] * b[i][3]) for b in boxes))
            images = [video.frame(f) for f in frames]
            for obj in (target, other):
                patch, transform = crop_around(images[0], boxes[0][obj], cfg.template_factor, cfg.template_size,
                                               pad_value=0.0)
                rows.append({"template_images": patch.transpose(2, 0, 1)[None],
                             "template_boxes": np.asarray(transform.box_to_crop(boxes[0][obj]), np.float32)[None],
                             "search_images": np.stack([im.transpose(2, 0, 1) for im in images[1:]]),
                             "search_masks": np.zeros((length, *images[0].shape[:2]), dtype=bool),
                             "search_boxes": np.stack([np.asarray(b[obj], np.float32) for b in boxes[1:]]),
                             "search_present": np.ones(length, dtype=bool)})
            break
        if len(rows) >= count:
            break
    return setup.collate_fn(rows[:count])


@torch.no_grad()
def selection_report(model: GTELTOnBatches, batch: dict, criterion) -> dict[str, float]:
    """The online selection on every frame of ``batch`` (the forward's own context propagation)."""
    out = model(batch)
    logits, boxes, similarity = out["pred_logits"], out["pred_boxes"], out["similarity"]
    batch_size, length, num = logits.shape
    present = batch["search_present"][:, :length].bool()
    image_hw = tuple(batch["search_images"].shape[-2:])
    target = normalised_targets(batch["search_boxes"][:, :length].float(), image_hw)  # [B, T, 4]
    iou = box_iou_elementwise(box_cxcywh_to_xyxy(boxes), box_cxcywh_to_xyxy(target[:, :, None].expand_as(boxes)))
    cfg = model.config
    # The selection exactly as online, with the position term from the previous frame's choice.
    context = initial_context(model, batch_size)
    chosen, reported = [], []
    for t in range(length):
        sel = select_candidates(logits[:, t], similarity[:, t], boxes[:, t], context,
                                presence_threshold=cfg.presence_threshold, position_weight=cfg.position_weight,
                                image_size=cfg.image_size, use_position=cfg.temporal_transfer)
        centre = boxes[torch.arange(batch_size), t, sel.index, :2]
        context = replace(context, last_centre=torch.where(sel.present[:, None], centre, context.last_centre),
                          last_present=sel.present)
        chosen.append(sel.index)
        reported.append(sel.present)
    chosen, reported = torch.stack(chosen, 1), torch.stack(reported, 1)
    chosen_iou = iou.gather(2, chosen[..., None])[..., 0]
    top_score_iou = iou.gather(2, logits.argmax(2, keepdim=True))[..., 0]
    flat = {"pred_logits": logits.reshape(-1, num, 1), "pred_boxes": boxes.reshape(-1, num, 4),
            "references": out["references"].reshape(-1, num, 2)}
    flat_present = present.reshape(-1)
    targets = [{"labels": torch.zeros(int(p), dtype=torch.long), "boxes": target.reshape(-1, 4)[f:f + 1] if p
                else target.reshape(-1, 4)[:0]} for f, p in enumerate(flat_present.tolist())]
    matches = criterion.matcher(flat, targets)
    positives = torch.tensor([len(src) for src, _ in matches])
    matched = torch.tensor([int(src[0]) if len(src) else -1 for src, _ in matches]).view(batch_size, length)
    probs = logits.sigmoid()
    matched_prob = probs.gather(2, matched.clamp(min=0)[..., None])[..., 0]
    chosen_conf = (probs * similarity).gather(2, chosen[..., None])[..., 0]
    nan = float("nan")
    return {
        "labels_ok": float(((positives == 1) == flat_present).all() and (positives <= 1).all()),
        "chosen_iou": chosen_iou[present].mean().item(),
        "chosen_iou>0.5": (chosen_iou[present] > 0.5).float().mean().item(),
        "top_score_iou": top_score_iou[present].mean().item(),
        "best_of_n_iou": iou.max(2).values[present].mean().item(),
        "chosen=matched": (chosen == matched)[present].float().mean().item(),
        "matched_prob": matched_prob[present].mean().item(),
        "other_prob": ((probs.sum(2) - matched_prob) / (num - 1))[present].mean().item(),
        "conf_present": chosen_conf[present].mean().item(),
        "conf_absent": chosen_conf[~present].mean().item() if (~present).any() else nan,
        "reported_present|present": reported[present].float().mean().item(),
        "reported_present|absent": reported[~present].float().mean().item() if (~present).any() else nan,
        "activated": out["activated"].float().mean().item(),
    }


@torch.no_grad()
def template_sensitivity(model: GTELTOnBatches, batch: dict) -> dict[str, float]:
    """Mean |change| of the scores when every sample gets the next sample's template."""
    base = model(batch)["pred_logits"].sigmoid()
    swapped = {**batch, "template_images": batch["template_images"].roll(1, 0),
               "template_boxes": batch["template_boxes"].roll(1, 0)}
    moved = model(swapped)["pred_logits"].sigmoid()
    return {"score_change": (moved - base).abs().mean().item(), "score_mean": base.mean().item(),
            "score_spread": base.std(2).mean().item()}


def show(tag: str, values: dict) -> None:
    print(tag, " ".join(f"{k} {v:.3f}" for k, v in values.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "configs/gtelt-synth.yaml"))
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--length", type=int, default=3, help="T test frames per sample")
    parser.add_argument("--with-absent", type=int, default=3, help="samples with the target absent in a frame")
    parser.add_argument("--paired", action="store_true",
                        help="pairs of samples with the same frames and different targets (needs the template)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--weights", default=str(REPO / "src/longtrack/weights/gtelt-synth.pt"),
                        help="checked for labels / template sensitivity ('none' skips)")
    parser.add_argument("--set", action="append", default=[], help="config override, e.g. optim.lr=1e-3")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    overrides = [f"model.sequence_lengths=[{args.length}]", f"data.search_frames={args.length}",
                 f"train.batch_size={args.samples}", f"train.steps={max(args.steps, 1)}", "data.samples_per_video=1",
                 "data.num_workers=0", *args.set]
    cfg = load_config(args.config, overrides)
    setup = build(cfg, torch.device("cpu"))
    batch = (paired_batch(setup, args.samples, args.length) if args.paired
             else fixed_batch(setup, args.samples, args.with_absent))
    present = batch["search_present"]
    print(f"{args.samples} samples x {args.length} frames, target present in {int(present.sum())} of {present.numel()}")
    if args.weights != "none":
        loaded = GTELTOnBatches(cfg.model)
        loaded.load_state_dict(load_weights(args.weights, method="gtelt").state_dict)
        loaded.eval()
        show("weights eval-mode:", selection_report(loaded, batch, setup.criterion))
        show("weights template swap:", template_sensitivity(loaded, batch))
        loaded.train()
        show("weights train-mode:", selection_report(loaded, batch, setup.criterion))
    if args.steps == 0:  # only the checks of --weights
        return
    torch.manual_seed(args.seed)
    model = GTELTOnBatches(cfg.model)
    setup.model = model
    optimizer = build_optimizer(model, cfg.optim)
    scheduler = build_scheduler(optimizer, cfg.schedule, cfg.train.steps)
    trainer = Trainer(cfg, setup, model, optimizer, scheduler, None, torch.device("cpu"), DistInfo(), Path("."),
                      0, [LRScheduleHook()])
    model.train()
    start = time.time()
    for step in range(1, args.steps + 1):
        trainer.run_step(batch)
        trainer.step += 1
        for hook in trainer.hooks:
            hook.after_step(trainer)
        if step % args.eval_every == 0 or step == args.steps:
            losses = {k: v.item() for k, v in trainer.last_losses.items()}
            show(f"step {step} ({time.time() - start:.0f} s) train:", losses)
            model.eval()
            show(f"step {step} eval-mode:", selection_report(model, batch, setup.criterion))
            model.train()
            saved = copy.deepcopy(model.state_dict())  # train mode updates BatchNorm's statistics
            show(f"step {step} train-mode:", selection_report(model, batch, setup.criterion))
            model.load_state_dict(saved)
    model.eval()
    show("final template swap:", template_sensitivity(model, batch))


if __name__ == "__main__":
    main()
