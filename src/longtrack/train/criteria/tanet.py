"""TANet's losses (paper Eq. 1-4, the authors' ``train.py``): a pixel-wise BCE between the
attention maps and the target masks, plus adversarial terms, alternated per Algorithm 1.

* generator step: ``loss = BCE + lambda_app * GAN_app + lambda_mot * GAN_mot`` where
  ``GAN_x = BCE(D_x(fake), 1)`` (the authors' 0.1 and 0.2);
* appearance-discriminator step: ``loss = BCE(D_app(real), 1) + BCE(D_app(fake), 0)``;
* motion-discriminator step: the same with ``D_mot``.

Every named loss is computed on every step (so the log has the same columns throughout);
``outputs["phase"]`` (set by the training module, which also routes the gradients) picks
which one is ``"loss"``. Discriminator outputs are logits: ``BCE(sigmoid(x), y)`` is
computed as ``binary_cross_entropy_with_logits(x, y)``, the same value, stably.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PHASES", "TANetCriterion"]

# outputs["phase"] codes: 0 = generator, 1 = appearance D, 2 = motion D.
PHASES = ("generator", "appearance_d", "motion_d")


def _bce(logits: torch.Tensor, label: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits.float(), label))


class TANetCriterion(nn.Module):
    """``(outputs, batch) -> {"loss", "bce", ["gan_app", "d_app"], ["gan_mot", "d_mot"]}``.

    outputs (from the training module): ``attention_logits`` and ``target_masks``, both
    ``[B, M, 1, O, O]`` (the ``M`` generated maps and their masks); ``phase`` (0-dim int tensor);
    with an appearance discriminator ``app_real``/``app_fake`` ``[B, 1]`` logits, with a motion
    one ``mot_real``/``mot_fake``. ``batch`` is not read: the module already paired maps and masks.
    """

    def __init__(self, lambda_app: float = 0.1, lambda_mot: float = 0.2):
        super().__init__()
        self.lambda_app = float(lambda_app)
        self.lambda_mot = float(lambda_mot)

    def forward(self, outputs: dict, batch: dict) -> dict[str, torch.Tensor]:
        logits = outputs["attention_logits"].float()
        masks = outputs["target_masks"].float()
        losses = {"bce": F.binary_cross_entropy_with_logits(logits, masks)}
        generator_total = losses["bce"]
        for key, weight in (("app", self.lambda_app), ("mot", self.lambda_mot)):
            if f"{key}_fake" not in outputs:
                continue
            losses[f"gan_{key}"] = _bce(outputs[f"{key}_fake"], 1.0)
            losses[f"d_{key}"] = _bce(outputs[f"{key}_real"], 1.0) + _bce(outputs[f"{key}_fake"], 0.0)
            generator_total = generator_total + weight * losses[f"gan_{key}"]
        phase = int(outputs["phase"])
        if phase == 0:
            losses["loss"] = generator_total
        elif phase == 1:
            losses["loss"] = losses["d_app"]
        else:
            losses["loss"] = losses["d_mot"]
        return losses
