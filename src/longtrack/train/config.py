"""Training configs: YAML files parsed into frozen, typed dataclasses.

A config has a ``method`` (a registered name, or ``"module:build"`` for your own) and the
sections ``model`` (the method's own ``ModelConfig``), ``data``, ``optim``, ``schedule`` and
``train``. Unknown keys are errors naming the file, line and key. docs/training.md is the
reference of every key.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..assignments import parse_assignment
from ..errors import LongtrackError
from ..typed_config import ConfigSource, parse_dataclass, to_plain

__all__ = ["SourceConfig", "ViewConfig", "DataConfig", "OptimConfig", "ScheduleConfig",
           "FreezeConfig", "ValidationConfig", "TrainSection", "TrainConfig", "load_config", "config_from_dict", "config_to_dict"]


@dataclass(frozen=True)
class SourceConfig:
    """One source of training videos: ``synthetic`` without a ``root`` is the synthetic world
    generated on the fly (every object annotated); any ``load_dataset`` name with a ``root``
    (``synthetic`` included) reads that dataset from disk (its target annotated). Evaluation
    sets are refused (``longtrack.datasets.evaluation_only``)."""

    name: str  # "synthetic" or a dataset name (lasot, got10k, trackingnet, ...)
    root: str | None = None  # dataset folder; none for the on-the-fly synthetic world
    split: str | None = None  # None: "train" on the fly, the reader's default on disk
    weight: float = 1.0  # relative sampling probability among sources
    preset: str = "mini"  # on-the-fly synthetic only: lt, st, mini or lt-real
    # on-the-fly lt-real only: the training root (LaSOT layout) its objects and backgrounds are cut
    # from; None: ../shared/data/real-train beside the repository.
    source_root: str | None = None
    frame_size: tuple[int, int] | None = None  # on-the-fly synthetic only: (width, height)
    num_sequences: int = 1000  # on-the-fly synthetic only: distinct sequences drawn from
    cache: int = 32  # on-the-fly synthetic only: sequences kept ready per process (set-up is the cost)

    @property
    def on_the_fly(self) -> bool:
        return self.name == "synthetic" and self.root is None

    def __post_init__(self):
        if self.weight <= 0:
            raise ValueError(f"source '{self.name}': weight must be > 0")
        if not self.on_the_fly and self.root is None:
            raise ValueError(f"source '{self.name}' needs a root folder")
        if self.num_sequences < 1 or self.cache < 1:
            raise ValueError("num_sequences and cache must be >= 1")
        if self.source_root is not None and not (self.on_the_fly and self.preset == "lt-real"):
            raise ValueError("source_root is for the on-the-fly synthetic world's lt-real preset")


@dataclass(frozen=True)
class ViewConfig:
    """How one frame becomes a network input.

    ``crop``: a square of ``factor`` x the box's mean side around the (jittered) box, resized
    to ``size`` (OSTrack's sample_target). ``full``: the whole frame resized to fit
    ``size = [width, height]`` keeping its aspect ratio, padded at the right and bottom.
    """

    mode: Literal["crop", "full"] = "crop"
    factor: float = 2.0
    size: int | tuple[int, int] = 128
    scale_jitter: float = 0.0  # box size *= exp(N(0, 1) * scale_jitter)
    center_jitter: float = 0.0  # centre += U(-0.5, 0.5) * center_jitter * sqrt(w * h)
    pad: str | float = "mean"  # crop padding: "mean" of the frame or a number

    def __post_init__(self):
        if self.mode == "crop" and not isinstance(self.size, int):
            raise ValueError("a crop view's size is one number (the square's side)")
        if self.mode == "full" and isinstance(self.size, int):
            raise ValueError("a full view's size is [width, height]")
        if self.factor <= 0 or self.scale_jitter < 0 or self.center_jitter < 0:
            raise ValueError("factor must be > 0 and jitters >= 0")


@dataclass(frozen=True)
class ValidationConfig:
    """Real annotated data to validate on while training (read, never trained on; the methods
    that support it log ``eval/*`` figures on it, see ``longtrack.train.validation``)."""

    dataset: str = "lasot"
    root: str = "../shared/data/real-val"
    split: str | None = None
    pairs: int = 48  # query (first frame) -> search (a later visible frame) pairs

    def __post_init__(self):
        if self.pairs < 1:
            raise ValueError("validation.pairs must be >= 1")


@dataclass(frozen=True)
class DataConfig:
    """What one training sample is. ``kind``:

    * ``pair``: ``template_frames`` template frames and ``search_frames`` search frames of one
      video, within ``max_gap`` frames of each other, target visible in all;
    * ``sequence``: one template frame then ``search_frames`` frames in time order;
    * ``multi_instance``: like pair, plus every instance visible in all frames, with identities
      (cross-query losses).
    """

    sources: tuple[SourceConfig, ...] = (SourceConfig("synthetic"),)
    kind: Literal["pair", "sequence", "multi_instance"] = "pair"
    samples_per_epoch: int = 10000  # an epoch is this many samples (seeds the per-sample RNG)
    samples_per_video: int = 1  # consecutive samples drawn from one video (cheaper, less varied)
    # Whose box a sample tracks: "video" the video's own target; "instances" any annotated object
    # of the video, with a probability proportional to the frames it is visible in (the synthetic
    # world annotates every object; a dataset on disk only its target).
    targets: Literal["video", "instances"] = "video"
    templates: tuple[ViewConfig, ...] = (ViewConfig(factor=2.0, size=128),)
    template_frames: int = 1
    search: ViewConfig = ViewConfig(factor=4.0, size=256, scale_jitter=0.25, center_jitter=3.0)
    search_frames: int = 1
    max_gap: int = 200
    instances: bool = False  # also give every visible instance's box and identity
    max_instances: int = 8  # multi_instance: at most this many instances per sample
    flip_prob: float = 0.0  # horizontal flip of all frames of a sample together
    brightness_jitter: float = 0.2  # per frame: pixel values *= U(1 - b, 1 + b)
    color_jitter: float = 0.0  # per frame and channel: *= U(1 - c, 1 + c)
    gray_prob: float = 0.05  # all frames of a sample to grayscale
    # Share of target-free samples: the search crop taken where the target is not (methods whose
    # samples support it, e.g. procontext; 0, every paper's recipe, elsewhere).
    negative_fraction: float = 0.0
    num_workers: int = 0  # DataLoader worker processes per training process
    validation: ValidationConfig | None = None  # real data for the methods' evaluate()

    def __post_init__(self):
        if not self.sources:
            raise ValueError("data.sources needs at least one source")
        if not self.templates:
            raise ValueError("data.templates needs at least one view")
        if min(self.template_frames, self.search_frames, self.max_gap, self.samples_per_epoch,
               self.max_instances, self.samples_per_video) < 1:
            raise ValueError("template_frames, search_frames, max_gap, samples_per_epoch, "
                             "samples_per_video and max_instances must be >= 1")
        for name in ("flip_prob", "gray_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")
        if not 0.0 <= self.negative_fraction < 1.0:
            raise ValueError("negative_fraction must lie in [0, 1)")
        if self.num_workers < 0:
            raise ValueError("num_workers must be >= 0")


@dataclass(frozen=True)
class OptimConfig:
    name: Literal["adamw", "adam", "sgd", "adagrad"] = "adamw"  # adagrad: TANet (Algorithm 1)
    lr: float = 1e-4
    weight_decay: float = 1e-4
    momentum: float = 0.9  # sgd only
    betas: tuple[float, float] = (0.9, 0.999)  # adam/adamw only
    # parameter-name prefix -> lr factor, e.g. {backbone: 0.1}; the longest matching prefix wins.
    lr_multipliers: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError("lr must be > 0 and weight_decay >= 0")


@dataclass(frozen=True)
class ScheduleConfig:
    """Learning-rate factor per step: linear warmup from ``warmup_start``, then ``constant``,
    ``step`` (x ``gamma`` at each of ``milestones``) or ``cosine`` (to ``min_factor``)."""

    name: Literal["constant", "step", "cosine"] = "constant"
    warmup_steps: int = 0
    warmup_start: float = 0.001
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    min_factor: float = 0.0

    def __post_init__(self):
        if self.warmup_steps < 0:
            raise ValueError("warmup_steps must be >= 0")
        if list(self.milestones) != sorted(self.milestones):
            raise ValueError("milestones must be increasing")


@dataclass(frozen=True)
class FreezeConfig:
    """Parameters under ``prefix`` (e.g. ``backbone``, ``backbone.features.0``) take no gradient
    before optimizer step ``until_step`` (-1: never released); with ``norm_eval`` their BatchNorm
    layers keep their running statistics while frozen. Pretrained backbones: the whole backbone
    frozen in a first stage, its last stages released later (one entry per stage)."""

    prefix: str
    until_step: int = -1
    norm_eval: bool = True

    def __post_init__(self):
        if not self.prefix:
            raise ValueError("freeze: prefix must name a parameter prefix")
        if self.until_step < -1:
            raise ValueError("freeze: until_step is a step >= 0, or -1 for never released")


@dataclass(frozen=True)
class TrainSection:
    steps: int = 1000
    batch_size: int = 8  # global: split evenly over torchrun processes
    grad_clip: float = 0.0  # max gradient norm; 0 = no clipping
    amp: Literal["none", "bf16", "fp16"] = "none"
    log_every: int = 10
    ckpt_every: int = 1000
    eval_every: int = 0  # 0 = only if the method has an evaluate() and at the end
    seed: int = 0
    tensorboard: bool = True  # also write TensorBoard events when tensorboard is installed
    find_unused_parameters: bool = False  # DDP: for models that skip some parameters
    # Start the model (not the optimizer) from this weights file or checkpoint of the same method:
    # a fine-tuning stage after an earlier run. A resumed run ignores it (its checkpoint wins).
    init_weights: str | None = None
    freeze: tuple[FreezeConfig, ...] = ()  # frozen parameter prefixes and when each is released
    channels_last: bool = False  # model and 4-D input tensors in channels_last memory format

    def __post_init__(self):
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("steps and batch_size must be >= 1")
        if self.log_every < 1 or self.ckpt_every < 1 or self.eval_every < 0:
            raise ValueError("log_every and ckpt_every must be >= 1, eval_every >= 0")
        if self.grad_clip < 0:
            raise ValueError("grad_clip must be >= 0")


@dataclass(frozen=True)
class TrainConfig:
    method: str
    model: Any = None  # the method's ModelConfig instance (None when it has none)
    data: DataConfig = DataConfig()
    optim: OptimConfig = OptimConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    train: TrainSection = TrainSection()


_SECTIONS = {"data": DataConfig, "optim": OptimConfig, "schedule": ScheduleConfig, "train": TrainSection}


def _parse(data, src: ConfigSource) -> TrainConfig:
    from .methods import resolve_method

    if not isinstance(data, dict):
        raise LongtrackError(f"{src.name}: a config is a mapping with 'method' and sections "
                             f"{', '.join(['model', *_SECTIONS])}")
    known = {"method", "model", *_SECTIONS}
    unknown = [k for k in data if k not in known]
    if unknown:
        raise src.error((unknown[0],), f"unknown key '{unknown[0]}' (known: {', '.join(sorted(known))})")
    method = data.get("method")
    if not isinstance(method, str) or not method:
        raise src.error(("method",), "is required: a registered method name or 'module:build'")
    try:
        model_cls = resolve_method(method).model_config
    except LongtrackError as exc:
        raise src.error(("method",), str(exc)) from exc
    if model_cls is None:
        if data.get("model"):
            raise src.error(("model",), f"method '{method}' takes no model options")
        model = None
    else:
        model = parse_dataclass(model_cls, data.get("model"), src, ("model",))
    sections = {name: parse_dataclass(cls, data.get(name), src, (name,)) for name, cls in _SECTIONS.items()}
    return TrainConfig(method=method, model=model, **sections)


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML training config (``yaml.safe_load``) into a ``TrainConfig``; ``overrides``
    (``"section.key=VALUE"``, see ``apply_overrides``) change it first, e.g. for an ablation."""
    src, data = ConfigSource.from_file(path)
    if overrides:
        data = apply_overrides(data, overrides, str(path))
    return _parse(data, src)


def apply_overrides(data: dict, overrides: list[str], name: str = "<config>") -> dict:
    """A copy of ``data`` with each ``"a.b.c=VALUE"`` set (VALUE read as YAML: ``500``,
    ``1.0e-3``, ``xcorr``, ``[1, 2]``); unknown keys are then refused by the parser as usual."""
    data = copy.deepcopy(data) if isinstance(data, dict) else {}
    for item in overrides:
        parts, parsed = parse_assignment(item, "--set", dotted=True)
        node = data
        for depth, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise LongtrackError(f"{name}: --set {'.'.join(parts)}: {'.'.join(parts[:depth + 1])} is not a section")
        node[parts[-1]] = parsed
    return data


def config_from_dict(data: dict, name: str = "<config>") -> TrainConfig:
    """Parse a config held as a dict (e.g. the one stored in a checkpoint)."""
    return _parse(data, ConfigSource(name))


def config_to_dict(cfg: TrainConfig) -> dict:
    """The config as plain dicts and lists: what checkpoints and ``config.yaml`` hold."""
    return to_plain(cfg)
