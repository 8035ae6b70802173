"""GTELT (Zhou et al., CVPR 2022): global tracking via an ensemble of local trackers.

``GTELTConfig`` (sizes, ablation switches), ``GTELT`` (the stateless network) and, in
:mod:`.context`, the temporal-context propagation shared by the tracker and training.
docs/methods/gtelt.md maps every element of the paper to this code.
"""
from .config import GTELTConfig
from .context import (Selection, TrackerContext, initial_context, select_candidates, start_context,
                      transfer_context)
from .network import GTELT

__all__ = ["GTELT", "GTELTConfig", "Selection", "TrackerContext", "initial_context", "select_candidates",
           "start_context", "transfer_context"]
