"""What a method's ``build(cfg, device)`` returns to the engine."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from .data.samples import collate_samples

__all__ = ["TrainingSetup", "whole_state"]


def whole_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The inference state of a method whose training model is the tracker's network."""
    return model.state_dict()


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
      ``train.eval_every`` steps and at the end, with the model in eval mode;
    * ``inference_state``: ``inference_state(model) -> state_dict``, what the run's
      ``weights.pt`` holds: the state the tracker's network loads strictly, without the parts
      only training uses (a re-id classifier, discriminators); ``checkpoint.pt`` keeps them all.
    """

    model: nn.Module
    criterion: Callable[[dict, dict], dict[str, torch.Tensor]]
    dataset: torch.utils.data.Dataset
    collate_fn: Callable = collate_samples
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None
    inference_state: Callable[[nn.Module], dict[str, torch.Tensor]] = whole_state
