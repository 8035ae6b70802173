"""``method: tanet`` -- the generator trained adversarially against an appearance and a motion
discriminator, alternating as the paper's Algorithm 1 (the authors' ``train.py``).

The engine owns one optimizer and takes one step per batch. The alternation lives in the
training module instead: it counts its iterations ``n = 1, 2, ...`` (a buffer, so a resumed
run continues the schedule) and picks the phase as the authors do -- the appearance
discriminator when ``(n - 1) % app_d_every == 0`` (every 5th), else the motion discriminator
when ``(n - 1) % mot_d_every == 0`` (every 3rd), else the generator. It routes the gradients
so that the one optimizer only moves the phase's network: in a discriminator phase the maps
are made without gradient; in the generator phase the discriminators run with detached
weights. Parameters without a gradient are skipped by every torch optimizer (and Adagrad's
state is per parameter), so this equals the authors' three Adagrad optimizers (lr 1e-4 each;
``optim.name: adagrad``).

``adversarial`` selects the discriminators (Table IV ablation): ``both``, ``appearance``,
``motion`` or ``none`` (BCE only).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ...checkpoint import load_weights
from ...errors import LongtrackError
from ...models.tanet import TANetConfig, TANetGenerator
from ...models.tanet_discriminators import AppearanceDiscriminator, MotionDiscriminator
from ..config import SourceConfig
from ..criteria.tanet import TANetCriterion
from ..setup import TrainingSetup
from .tanet_data import TANetSamples, collate_tanet
from .tanet_metrics import map_scores

__all__ = ["ModelConfig", "TANetGAN", "init_decoder", "phase_of", "inference_state", "build"]


@dataclass(frozen=True)
class ModelConfig:
    """The ``model`` section of a TANet training config."""

    generator: TANetConfig = field(default_factory=TANetConfig)
    adversarial: Literal["both", "appearance", "motion", "none"] = "both"
    lambda_app: float = 0.1  # the authors' alpha1
    lambda_mot: float = 0.2  # the authors' alpha2
    app_d_every: int = 5  # Algorithm 1: appearance discriminator on iterations 1, 6, 11, ...
    mot_d_every: int = 3  # ... else motion discriminator on iterations 1, 4, 7, ...
    motion_frames: int = 3  # consecutive maps the motion discriminator judges together
    discriminator_relu_output: bool = False  # the authors' ReLU before the sigmoid (see models)
    # How the generator's decoder starts: "default" = PyTorch's init (the authors'), whose 17
    # affine layers shrink the signal ~2x each (logits' spatial std ~0.008 at init: a constant
    # map); "unit" = variance-preserving normal init, zero biases (see init_decoder).
    decoder_init: Literal["default", "unit"] = "default"
    # A TANet weights file whose generator starts this run (its discriminators, if any, are not
    # used): the Table IV variants fine-tuned from one BCE-trained generator. ``train.init_weights``
    # cannot do it: it loads the whole model strictly, and a BCE-only run has no discriminators.
    init_generator: str | None = None
    eval_samples: int = 32  # validation samples for evaluate() (0: none)

    def __post_init__(self):
        if min(self.app_d_every, self.mot_d_every, self.motion_frames) < 1:
            raise ValueError("app_d_every, mot_d_every and motion_frames must be >= 1")
        if self.adversarial in ("both", "motion") and self.motion_frames != 3:
            raise ValueError("the motion discriminator judges 3 frames (its C3D needs 6 time steps)")
        if self.lambda_app < 0 or self.lambda_mot < 0 or self.eval_samples < 0:
            raise ValueError("lambda_app, lambda_mot and eval_samples must be >= 0")

    @property
    def uses_appearance(self) -> bool:
        return self.adversarial in ("both", "appearance")

    @property
    def uses_motion(self) -> bool:
        return self.adversarial in ("both", "motion")


def phase_of(n: int, cfg: ModelConfig) -> int:
    """Algorithm 1's phase of iteration ``n`` (1-based): 0 generator, 1 appearance D, 2 motion D."""
    if cfg.uses_appearance and (n - 1) % cfg.app_d_every == 0:
        return 1
    if cfg.uses_motion and (n - 1) % cfg.mot_d_every == 0:
        return 2
    return 0


def init_decoder(generator: TANetGenerator, mode: str) -> None:
    """``"unit"``: every transposed conv of the decoder and the head gets weights
    ``N(0, 1 / (in_channels * k * k))`` (the number of inputs summed per output pixel of a stride-1
    transposed conv, so a layer keeps its input's variance) and zero bias. The decoder has no
    activation, so this keeps the map's dependence on the features at init; with PyTorch's
    default the 17 layers shrink it ~10^4-fold and the map starts constant. ``"default"``: no change."""
    if mode == "default":
        return
    for m in [*generator.decoder, generator.head]:
        if isinstance(m, nn.ConvTranspose2d):
            in_channels, _, kh, kw = m.weight.shape
            nn.init.normal_(m.weight, 0.0, (in_channels * kh * kw) ** -0.5)
            nn.init.zeros_(m.bias)


def _with_frozen_weights(module: nn.Module, *args) -> torch.Tensor:
    """``module(*args)`` with its parameters detached: gradients reach the inputs only."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return torch.func.functional_call(module, params, args)


class TANetGAN(nn.Module):
    """Generator + discriminators for one training step: ``forward(batch) -> outputs`` for
    :class:`TANetCriterion`. ``batch`` is :class:`TANetSamples`' collated dict."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        g = cfg.generator
        self.generator = TANetGenerator(g)
        init_decoder(self.generator, cfg.decoder_init)
        relu = cfg.discriminator_relu_output
        self.appearance = AppearanceDiscriminator(g.width, g.input_size, relu) if cfg.uses_appearance else None
        self.motion = MotionDiscriminator(g.width, g.input_size, relu) if cfg.uses_motion else None
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))
        self.offsets = g.clip_offsets()
        self.first_current = -min(self.offsets)  # index of frame t in a sample's frames

    @property
    def num_frames(self) -> int:
        """Frames per sample: the clip of each of the ``motion_frames`` maps."""
        return len(self.offsets) + self.cfg.motion_frames - 1

    def generate(self, frames: torch.Tensor, target: torch.Tensor) -> dict:
        """Maps of the ``M`` current frames of each sample, in one generator call.

        frames: ``[B, F, 3, S, S]`` float [0, 1]; target ``[B, 3, S, S]``. Returns the generator's
        outputs with ``attention``/``attention_logits`` reshaped to ``[B, M, 1, O, O]``."""
        b, m = frames.shape[0], self.cfg.motion_frames
        current = [self.first_current + k for k in range(m)]
        clips = torch.stack([frames[:, [c + o for o in self.offsets]] for c in current], dim=1)
        out = self.generator(frames[:, current].flatten(0, 1), target.repeat_interleave(m, dim=0),
                             clips.flatten(0, 1))
        for key in ("attention", "attention_logits"):
            out[key] = out[key].unflatten(0, (b, m))
        return out

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        frames = batch["frames"].float() / 255.0
        target = batch["target"].float() / 255.0
        phase = 0
        if self.training:
            self.iteration += 1
            phase = phase_of(int(self.iteration), self.cfg)
        with torch.set_grad_enabled(torch.is_grad_enabled() and phase == 0):
            out = self.generate(frames, target)
        m = self.cfg.motion_frames
        masks = batch["masks"][:, self.first_current:self.first_current + m, None].float()
        outputs = {"attention_logits": out["attention_logits"], "target_masks": masks,
                   "phase": torch.tensor(phase, device=frames.device)}
        if self.appearance is None and self.motion is None:
            return outputs
        size = frames.shape[-1]
        fake = _to_size(out["attention"], size)
        real = _to_size(masks, size)
        current = frames[:, self.first_current:self.first_current + m]
        for name, net, inputs in (("app", self.appearance, lambda maps: (current[:, 0], maps[:, 0])),
                                  ("mot", self.motion, lambda maps: (current, maps))):
            if net is None:
                continue
            if phase == 0:  # generator step: the discriminator judges but does not learn
                outputs[f"{name}_fake"] = _with_frozen_weights(net, *inputs(fake))
                with torch.no_grad():
                    outputs[f"{name}_real"] = net(*inputs(real))
            else:
                outputs[f"{name}_fake"] = net(*inputs(fake.detach()))
                outputs[f"{name}_real"] = net(*inputs(real))
        return outputs


def _to_size(maps: torch.Tensor, size: int) -> torch.Tensor:
    """``[B, M, 1, O, O]`` -> ``[B, M, 1, size, size]`` (nearest) so maps stack with frames."""
    if maps.shape[-1] == size:
        return maps
    return F.interpolate(maps.flatten(0, 1), size=(size, size)).unflatten(0, maps.shape[:2])


def _make_evaluate(cfg, model: TANetGAN):
    """Scores of the generator on fixed validation samples of the synthetic ``val`` split:
    ``bce``, ``peak_in_box`` (share of frames with the target present whose map maximum lies
    in its box), ``target_auc`` (pixel AUC of the target's box against the rest, 0.5 = chance;
    see ``tanet_metrics``) and ``absent_peak`` (mean map maximum where the target is absent)."""
    first = cfg.data.sources[0]
    if cfg.model.eval_samples == 0 or not first.on_the_fly:
        return None
    from ..data.sources import SyntheticSource

    val_source = SyntheticSource(SourceConfig("synthetic", split="val", preset=first.preset,
                                              frame_size=first.frame_size, num_sequences=8, cache=8))
    g = cfg.model.generator
    samples = TANetSamples(cfg.data, seed=0, input_size=g.input_size, output_size=g.output_size,
                           num_frames=model.num_frames, sources=[val_source])
    batch = None

    def evaluate(trained: TANetGAN) -> dict[str, float]:
        nonlocal batch
        if batch is None:
            batch = collate_tanet([samples[(0, i)] for i in range(cfg.model.eval_samples)])
        device = next(trained.parameters()).device
        out = trained.generate(batch["frames"].to(device).float() / 255.0,
                               batch["target"].to(device).float() / 255.0)
        first_map = out["attention"][:, 0, 0].float().cpu()
        masks = batch["masks"][:, trained.first_current].float()
        present = batch["present"][:, trained.first_current].numpy()
        peaks = first_map.flatten(1).max(1).values.numpy()
        scores = map_scores(out["attention_logits"][:, 0, 0].float().cpu().numpy(), masks.numpy())
        return {"bce": float(F.binary_cross_entropy(first_map.clamp(1e-6, 1 - 1e-6), masks)),
                "peak_in_box": scores["peak_in_box"], "target_auc": scores["target_auc"],
                "absent_peak": float(peaks[~present].mean()) if (~present).any() else float("nan")}

    return evaluate


def _load_generator(generator: TANetGenerator, path: str) -> None:
    loaded = load_weights(Path(path).expanduser(), method="tanet")
    state = {k[len("generator."):]: v for k, v in loaded.state_dict.items() if k.startswith("generator.")}
    try:
        generator.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise LongtrackError(f"model.init_generator {path}: its generator does not fit the config's: "
                             f"{str(exc).splitlines()[0]}") from exc
    print(f"longtrack train: generator from {path} (its step {loaded.step})")


def inference_state(model: TANetGAN) -> dict[str, torch.Tensor]:
    """What a run's ``weights.pt`` holds: the generator only, under ``generator.`` (as ``longtrack
    convert`` writes it); the discriminators and the schedule counter are for training."""
    return {f"generator.{k}": v for k, v in model.generator.state_dict().items()}


def build(cfg, device) -> TrainingSetup:
    mc: ModelConfig = cfg.model
    if mc is None:
        raise LongtrackError("method tanet needs a model section")
    model = TANetGAN(mc)
    if mc.init_generator:
        _load_generator(model.generator, mc.init_generator)
    g = mc.generator
    dataset = TANetSamples(cfg.data, cfg.train.seed, input_size=g.input_size, output_size=g.output_size,
                           num_frames=model.num_frames)
    return TrainingSetup(model=model, criterion=TANetCriterion(mc.lambda_app, mc.lambda_mot),
                         dataset=dataset, collate_fn=collate_tanet, evaluate=_make_evaluate(cfg, model),
                         inference_state=inference_state)
