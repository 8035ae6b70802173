"""Checks of TANet's training path (``method: tanet``) that fit in a few CPU-minutes.

    OMP_NUM_THREADS=1 python experiments/tanet/training_check.py overlay --out tanet_samples.png
    OMP_NUM_THREADS=1 python experiments/tanet/training_check.py overfit --samples 8 --steps 150
    OMP_NUM_THREADS=1 python experiments/tanet/training_check.py score --weights src/longtrack/weights/tanet-synth.pt
    OMP_NUM_THREADS=1 python experiments/tanet/training_check.py continue --checkpoint RUN/checkpoint.pt --steps 240
    OMP_NUM_THREADS=1 python experiments/tanet/training_check.py scratch --steps 400 --set model.decoder_init=unit
    python experiments/tanet/training_check.py prior

* ``overlay``: training samples exactly as the method makes them (flip, colour, absent frames),
  each frame with its target mask's outline, and the target patch: look that the masks sit on
  the target.
* ``overfit``: the generator, BCE only, trained on a fixed batch of training samples through
  the method's own forward and criterion; scores on that batch with per-batch BatchNorm
  statistics (as in training) and with running ones (as at tracking time).
* ``score``: maps of a generator on held-out frames of the ``lt`` val split, computed as the
  tracker computes them (first-visible-frame target patch, the config's clip), against the
  target's box and the other objects' boxes (``tanet_metrics.map_scores``).
* ``continue``: a training run's generator (and its Adagrad state, from a ``checkpoint.pt``)
  trained further with the BCE alone on the samples that follow the run's, scored as ``score``.
* ``scratch``: a fresh generator trained with the BCE alone (``--set`` changes the config, e.g.
  ``model.decoder_init``, ``optim.name``, ``optim.lr``) on the method's sample stream, scored as
  ``score`` every ``--every`` steps, with running and with per-frame BatchNorm statistics.
* ``prior``: the BCE of a constant map and of an objectness oracle on the training videos.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import time

import cv2
import numpy as np
import torch

from longtrack.checkpoint import load_checkpoint, load_weights
from longtrack.errors import LongtrackError
from longtrack.fileio import atomic_path
from longtrack.models.tanet import TANetGenerator, batch_statistics
from longtrack.models.tanet_inputs import resize_bgr, target_patch
from longtrack.train import load_config
from longtrack.train.config import SourceConfig, config_from_dict, config_to_dict
from longtrack.train.data.sources import SyntheticSource
from longtrack.train.methods.tanet import build
from longtrack.train.methods.tanet_data import box_mask, collate_tanet
from longtrack.train.methods.tanet_metrics import map_scores
from longtrack.train.optim import build_optimizer


def bce_only_setup(config: str, motion_frames: int | None = None, overrides: list[str] | None = None):
    """The method's training setup with ``adversarial: none`` (the generator and the BCE)."""
    d = config_to_dict(load_config(config, overrides))
    d["model"]["adversarial"] = "none"
    if motion_frames is not None:
        d["model"]["motion_frames"] = motion_frames
    cfg = config_from_dict(d)
    return cfg, build(cfg, torch.device("cpu"))


def rounded(scores: dict) -> dict:
    return {k: round(float(v), 4) for k, v in scores.items()}


def binary_entropy(p: float) -> float:
    """The BCE of a constant map of value ``p`` on masks whose share of ones is ``p``."""
    return float(-(p * np.log(p) + (1 - p) * np.log(1 - p)))


def bce_step(model, criterion, optimizer, batch) -> float:
    """One optimizer step of the method's forward and criterion (no clipping, no schedule);
    returns the step's BCE."""
    model.train()
    losses = criterion(model(batch), batch)
    optimizer.zero_grad(set_to_none=True)
    losses["loss"].backward()
    optimizer.step()
    return float(losses["bce"].detach())


def train_on_stream(setup, optimizer, batch_size: int, step0: int, steps: int, every: int, report) -> None:
    """Steps ``step0 + 1 .. step0 + steps`` on the samples a run of this config draws at those
    steps; every ``every`` steps (and at the last) prints the mean train BCE since the last
    print, the seconds per step and ``report()``'s scores."""
    bces, start = [], time.time()
    for k in range(1, steps + 1):
        first = (step0 + k - 1) * batch_size
        batch = collate_tanet([setup.dataset[(0, first + i)] for i in range(batch_size)])
        bces.append(bce_step(setup.model, setup.criterion, optimizer, batch))
        if k % every == 0 or k == steps:
            print(json.dumps({"step": step0 + k, "train_bce": round(float(np.mean(bces[-every:])), 4),
                              "s_per_step": round((time.time() - start) / k, 2), **report()}), flush=True)


def overlay(args) -> None:
    cfg, setup = bce_only_setup(args.config)
    rows = []
    for i in range(args.samples):
        s = setup.dataset[(0, args.first + i)]
        tiles = []
        for frame, mask in zip(s["frames"], s["masks"]):
            img = np.ascontiguousarray(frame.transpose(1, 2, 0))  # BGR, as cv2 writes it
            mask = cv2.resize(mask, img.shape[1::-1], interpolation=cv2.INTER_NEAREST)
            contours, _ = cv2.findContours((mask > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            tiles.append(cv2.drawContours(img, contours, -1, (0, 0, 255), 1))
        tiles.append(np.ascontiguousarray(s["target"].transpose(1, 2, 0)))
        rows.append(np.concatenate(tiles, 1))
        print(f"sample {args.first + i}: present {s['present'].astype(int).tolist()}")
    cv2.imwrite(str(args.out), np.concatenate(rows, 0))
    print(f"{args.out}: one row per sample: its frames (oldest first) with the mask outline, then the target patch")


def overfit(args) -> None:
    torch.manual_seed(args.seed)
    cfg, setup = bce_only_setup(args.config, args.motion_frames)
    model, criterion = setup.model, setup.criterion
    batch = collate_tanet([setup.dataset[(0, args.first + i)] for i in range(args.samples)])
    optimizer = build_optimizer(model, cfg.optim)
    masks = batch["masks"][:, model.first_current:model.first_current + cfg.model.motion_frames].float()
    share = float(masks.mean())
    print(json.dumps({"maps": masks.shape[0] * masks.shape[1], "mask_share": round(share, 4),
                      "constant_map_bce": round(binary_entropy(share), 4)}))

    def scored(mode: str) -> dict:
        model.eval()
        with torch.no_grad():
            if mode == "batch":
                with batch_statistics(model.generator):
                    out = model(batch)
            else:
                out = model(batch)
            bce = float(criterion(out, batch)["bce"])
        logits = out["attention_logits"][:, :, 0].flatten(0, 1).numpy()
        return rounded({"bce": bce, **map_scores(logits, masks.flatten(0, 1).numpy())})

    start = time.time()
    for step in range(1, args.steps + 1):
        bce_step(model, criterion, optimizer, batch)
        if step % args.every == 0 or step == args.steps:
            print(json.dumps({"step": step, "s_per_step": round((time.time() - start) / step, 2),
                              "batch_bn": scored("batch"), "running_bn": scored("running")}), flush=True)


def val_frames(generator: TANetGenerator, num_videos: int, per_video: int):
    """Held-out frames as the tracker sees them: ``(frame, target, clip, target_masks,
    object_masks)`` tensors/arrays, ``per_video`` frames spread over each of ``num_videos``."""
    g = generator.config
    source = SyntheticSource(SourceConfig("synthetic", split="val", preset="lt", num_sequences=num_videos, cache=1))
    frames, targets, clips, target_masks, object_masks = [], [], [], [], []
    for v in range(num_videos):
        video = source.video(v)
        first = int(np.flatnonzero(video.target_visible)[0])
        patch = resize_bgr(target_patch(video.frame(first), video.target_boxes[first], g.input_size), g.input_size)
        for t in np.linspace(first + 10, len(video) - 2, per_video).astype(int):
            images = {o: resize_bgr(video.frame(t + o), g.input_size) for o in g.clip_offsets()}
            size = video.frame(t).shape[1::-1]
            target = (box_mask(video.target_boxes[t], size, g.output_size) if video.target_visible[t]
                      else np.zeros((g.output_size,) * 2, np.float32))
            others = np.zeros_like(target)
            for box, identity in zip(*video.instances(t)):
                if identity != video.target_identity:
                    others = np.maximum(others, box_mask(box, size, g.output_size))
            frames.append(images[0]), targets.append(patch), target_masks.append(target), object_masks.append(others)
            clips.append(np.stack([images[o] for o in g.clip_offsets()]))
    as_input = lambda arrays: torch.from_numpy(np.stack(arrays)).float() / 255.0  # noqa: E731
    return as_input(frames), as_input(targets), as_input(clips), np.stack(target_masks), np.stack(object_masks)


@torch.no_grad()
def val_scores(generator: TANetGenerator, frames, bn: str = "running") -> dict:
    """``bn``: ``"running"`` (eval mode, batches of 8) or ``"batch"`` (each frame alone with its
    own BatchNorm statistics, as the tracker runs ``test_bn: batch``)."""
    frame, target, clip, target_masks, object_masks = frames
    was_training = generator.training
    generator.eval()
    chunk = 8 if bn == "running" else 1
    with batch_statistics(generator) if bn == "batch" else contextlib.nullcontext():
        logits = torch.cat([generator(frame[i:i + chunk], target[i:i + chunk], clip[i:i + chunk])["attention_logits"][:, 0]
                            for i in range(0, len(frame), chunk)]).numpy()
    generator.train(was_training)
    # The same maps' mean, shown for every frame: what position alone (border effects, a
    # centre bias) scores. A map that sees the target beats it.
    mean_map = np.broadcast_to(logits.mean(0), logits.shape)
    return rounded({**map_scores(logits, target_masks, object_masks),
                    "mean_map_target_auc": map_scores(mean_map, target_masks)["target_auc"]})


def score(args) -> None:
    torch.manual_seed(args.seed)  # the random generator of --weights none
    cfg, setup = bce_only_setup(args.config)
    generator = setup.model.generator
    if args.weights != "none":
        state = load_weights(args.weights, method="tanet").state_dict
        generator.load_state_dict({k[len("generator."):]: v for k, v in state.items() if k.startswith("generator.")})
    frames = val_frames(generator, args.videos, args.per_video)
    print(json.dumps({"weights": args.weights, "frames": len(frames[0]), **val_scores(generator, frames)}))


def continue_bce(args) -> None:
    torch.manual_seed(args.seed)
    ckpt = load_checkpoint(args.checkpoint, map_location="cpu")
    cfg, setup = bce_only_setup(args.config)
    model = setup.model
    generator_state = {k: v for k, v in ckpt["model"].items() if k.startswith("generator.")}
    model.load_state_dict({**generator_state, "iteration": ckpt["model"]["iteration"]})
    optimizer = build_optimizer(model, cfg.optim)
    params = list(model.parameters())
    saved = ckpt["optimizer"]
    # The run's model registers the generator first, so its first parameters are the generator's.
    if len(saved["param_groups"]) != 1 or any(saved["state"][i]["sum"].shape != p.shape for i, p in enumerate(params)):
        raise LongtrackError(f"{args.checkpoint}: not a single-group Adagrad state starting with this generator")
    state = optimizer.state_dict()
    state["state"] = {i: saved["state"][i] for i in range(len(params))}
    optimizer.load_state_dict(state)
    frames = val_frames(model.generator, args.videos, args.per_video)
    step0 = int(ckpt["step"])
    print(json.dumps({"step": step0, **val_scores(model.generator, frames)}), flush=True)
    # The samples the run would have drawn next.
    train_on_stream(setup, optimizer, cfg.train.batch_size, step0, args.steps, args.every,
                    lambda: val_scores(model.generator, frames))
    if args.save:
        save_generator(model.generator, args.save)


def scratch(args) -> None:
    """A fresh generator, BCE only, on the stream of samples a run of this config draws."""
    torch.manual_seed(args.seed)
    cfg, setup = bce_only_setup(args.config, overrides=args.set)
    model = setup.model
    optimizer = build_optimizer(model, cfg.optim)
    frames = val_frames(model.generator, args.videos, args.per_video)
    train_on_stream(setup, optimizer, cfg.train.batch_size, 0, args.steps, args.every,
                    lambda: {"running_bn": val_scores(model.generator, frames),
                             "batch_bn": val_scores(model.generator, frames, "batch")})
    if args.save:
        save_generator(model.generator, args.save)


def save_generator(generator: TANetGenerator, path: str) -> None:
    with atomic_path(path) as tmp:
        torch.save({"generator": generator.state_dict()}, tmp)


def prior(args) -> None:
    """The BCE of the best maps that ignore the target's identity, from box masks alone (no
    rendering): a constant map, and an objectness oracle (one value on every object's box,
    0 on background)."""
    cfg, _ = bce_only_setup(args.config)
    source_cfg, side = cfg.data.sources[0], cfg.model.generator.output_size
    source = SyntheticSource(source_cfg)
    rng = np.random.default_rng(args.seed)
    target_px = object_px = total_px = 0.0
    target_odds = []
    for v in rng.choice(len(source), args.videos, replace=False):
        video = source.video(int(v))
        size = video.frame(0).shape[1::-1]
        for t in rng.integers(0, len(video), args.per_video):
            target = (box_mask(video.target_boxes[t], size, side) if video.target_visible[t]
                      else np.zeros((side, side), np.float32))
            objects = target.copy()
            for box in video.instances(int(t))[0]:
                objects = np.maximum(objects, box_mask(box, size, side))
            target_px, object_px, total_px = target_px + target.sum(), object_px + objects.sum(), total_px + target.size
            if target.any():
                target_odds.append(target.sum() / objects.sum())
    share, on_objects = target_px / total_px, target_px / object_px
    print(json.dumps(rounded({"frames": args.videos * args.per_video, "frames_with_target": len(target_odds),
                              "target_share": share, "object_share": object_px / total_px,
                              "constant_map_bce": binary_entropy(share),
                              "objectness_oracle_bce": object_px / total_px * binary_entropy(on_objects),
                              "oracle_value_on_objects": on_objects,
                              "oracle_object_pixel_on_target": float(np.mean(target_odds))})))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/tanet-synth.yaml")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("overlay")
    p.add_argument("--out", default="tanet_samples.png")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--first", type=int, default=0, help="index of the first sample of the stream")
    p = sub.add_parser("overfit")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--every", type=int, default=25)
    p.add_argument("--motion-frames", type=int, default=1, help="maps per sample (the config has 3)")
    p.add_argument("--seed", type=int, default=0)
    for name in ("score", "continue", "scratch"):
        p = sub.add_parser(name)
        p.add_argument("--videos", type=int, default=8)
        p.add_argument("--per-video", type=int, default=6)
    sub.choices["score"].add_argument("--weights", default="src/longtrack/weights/tanet-synth.pt",
                                      help="'none': a random generator (seeded by --seed)")
    sub.choices["score"].add_argument("--seed", type=int, default=0)
    p = sub.choices["continue"]
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt of a tanet training run")
    p.add_argument("--steps", type=int, default=240)
    p.add_argument("--every", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="write the generator's state_dict here")
    p = sub.choices["scratch"]
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="write the generator's state_dict here")
    p = sub.add_parser("prior")
    p.add_argument("--videos", type=int, default=60)
    p.add_argument("--per-video", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    {"overlay": overlay, "overfit": overfit, "score": score, "continue": continue_bce, "scratch": scratch,
     "prior": prior}[args.command](args)


if __name__ == "__main__":
    main()
