"""What a method's ``build(cfg, device)`` returns to the engine."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from .data.samples import collate_samples

__all__ = ["TrainingSetup"]


@dataclass
class TrainingSetup:
    """The parts of one method's training.

    * ``model``: ``outputs = model(batch)``, a dict of tensors;
    * ``criterion``: ``losses = criterion(outputs, batch)``, a dict of named scalar tensors
      whose ``"loss"`` entry is the weighted total that is back-propagated (the others are
      logged);
    * ``dataset``: ``dataset[(epoch, index)]`` -> one sample; ``len(dataset)`` samples per
      epoch (``longtrack.train.data.TrackingSamples`` is one);
    * ``collate_fn``: list of samples -> batch (nested dicts/lists of tensors);
    * ``evaluate``: optional ``evaluate(model) -> {name: float}``, run on rank 0 every
      ``train.eval_every`` steps and at the end, with the model in eval mode.
    """

    model: nn.Module
    criterion: Callable[[dict, dict], dict[str, torch.Tensor]]
    dataset: torch.utils.data.Dataset
    collate_fn: Callable = collate_samples
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None
