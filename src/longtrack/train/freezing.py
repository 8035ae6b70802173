"""Frozen parameter prefixes with a release step (``train.freeze``).

A frozen parameter keeps ``requires_grad = False``, so no gradient is computed through it and
the optimizer (which holds every parameter from the start) skips it; with ``norm_eval`` the
BatchNorm layers under a frozen prefix stay in eval mode, so their ImageNet running statistics
survive small training batches. Prefixes follow ``optim.lr_multipliers``: a name matches a
prefix when it equals it or continues it after a dot; the longest matching entry decides.
"""
from __future__ import annotations

from torch import nn

from ..errors import LongtrackError
from .config import FreezeConfig

__all__ = ["FreezePlan"]


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


class FreezePlan:
    """Which parameters are frozen at a given step, applied to a model before each step."""

    def __init__(self, model: nn.Module, entries: tuple[FreezeConfig, ...]):
        self.entries = tuple(entries)
        names = [n for n, _ in model.named_parameters()]
        for entry in self.entries:
            if not any(_matches(n, entry.prefix) for n in names):
                raise LongtrackError(f"train.freeze: no parameter of the model starts with '{entry.prefix}'")
        self._state: dict[str, bool] | None = None  # parameter name -> frozen, as last applied

    def _entry(self, name: str) -> FreezeConfig | None:
        matches = [e for e in self.entries if _matches(name, e.prefix)]
        return max(matches, key=lambda e: len(e.prefix)) if matches else None

    @staticmethod
    def _frozen_at(entry: FreezeConfig | None, step: int) -> bool:
        return entry is not None and (entry.until_step < 0 or step < entry.until_step)

    def frozen(self, model: nn.Module, step: int) -> dict[str, bool]:
        """Parameter name -> frozen before optimizer step ``step + 1``."""
        return {n: self._frozen_at(self._entry(n), step) for n, _ in model.named_parameters()}

    def apply(self, model: nn.Module, step: int) -> bool:
        """Set ``requires_grad`` and BatchNorm modes for ``step``; True when the frozen set changed
        (a DistributedDataParallel wrapper must then be rebuilt)."""
        if not self.entries:
            return False
        state = self.frozen(model, step)
        changed = state != self._state
        if changed:
            for name, param in model.named_parameters():
                param.requires_grad_(not state[name])
            self._state = state
        if model.training:
            for name, module in model.named_modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    entry = self._entry(name + ".weight")
                    if entry is not None and entry.norm_eval and self._frozen_at(entry, step):
                        module.eval()
        return changed
