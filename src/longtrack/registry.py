"""Registry of trackers: name -> how to build it, its paper, its shipped weights.

Entries name their factory as ``"module:attribute"`` so that listing trackers does not import
torch or OpenCV. Each factory is called as ``factory(weights=..., device=..., **options)``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import resources

from .errors import LongtrackError


@dataclass(frozen=True)
class TrackerSpec:
    name: str
    factory: str  # "package.module:callable"
    paper: str
    default_weights: str | None = None  # file name inside the package's ``weights`` folder
    needs_weights: bool = False  # a learned tracker: its weights decide its quality
    options: dict = field(default_factory=dict)
    # weights="none" builds the network at random initialisation (an "untrained" row); False
    # for a network that exists only as its files (nanotrack's ONNX pair).
    random_init: bool = True

    def weights_path(self) -> str | None:
        """Path of the shipped default weights, or None when this tracker ships none."""
        if self.default_weights is None:
            return None
        path = resources.files("longtrack.weights").joinpath(self.default_weights)
        return str(path) if path.is_file() else None

    def build(self, weights: str | None = None, device: str = "cpu", **options):
        module_name, attr = self.factory.split(":")
        factory = getattr(importlib.import_module(module_name), attr)
        kwargs = {**self.options, **options}
        if weights is None:
            weights = self.weights_path()
        return factory(weights=weights, device=device, **kwargs)


# The trackers that ship with longtrack; factories are imported only when one is built.
BUILTIN_TRACKERS = [
    TrackerSpec("csrt", "longtrack.trackers.opencv_trackers:CSRTTracker",
                "Lukezic et al., Discriminative Correlation Filter with Channel and Spatial Reliability, CVPR 2017"),
    TrackerSpec("kcf", "longtrack.trackers.opencv_trackers:KCFTracker",
                "Henriques et al., High-Speed Tracking with Kernelized Correlation Filters, TPAMI 2015"),
    TrackerSpec("tld", "longtrack.trackers.opencv_trackers:TLDTracker",
                "Kalal et al., Tracking-Learning-Detection, TPAMI 2012"),
    TrackerSpec("classic-lt", "longtrack.trackers.classic_lt:ClassicLongTermTracker",
                "longtrack: correlation filter + NCC re-detection, switched as in TANet's Algorithm 2"),
    TrackerSpec("nanotrack", "longtrack.trackers.nanotrack:NanoTrackTracker",
                "Chu, NanoTrack v2 (no paper): https://github.com/HonglinChu/SiamTrackers, NanoTrack/ (OpenCV TrackerNano)",
                needs_weights=True, random_init=False),
    TrackerSpec("procontext", "longtrack.trackers.procontext:ProContEXTTracker", "Lan et al., ProContEXT: Exploring Progressive Context Transformer for Tracking, ICASSP 2023", default_weights="procontext-real.pt", needs_weights=True),
    TrackerSpec("globaltrack", "longtrack.trackers.globaltrack:GlobalTrackTracker", "Huang et al., GlobalTrack: A Simple and Strong Baseline for Long-term Tracking, AAAI 2020", default_weights="globaltrack-real.pt", needs_weights=True),
    TrackerSpec("tanet:*", "longtrack.trackers.tanet:TANetTracker", "Wang et al., Tracking by Joint Local and Global Search: A Target-aware Attention based Approach, TNNLS 2021", default_weights="tanet-synth.pt", needs_weights=True),
    TrackerSpec("dmtrack", "longtrack.trackers.dmtrack:DMTrackTracker", "Zhang et al., Distractor-aware Fast Tracking via Dynamic Convolutions and MOT Philosophy, CVPR 2021", default_weights="dmtrack-real.pt", needs_weights=True),
    TrackerSpec("hybrid-lt:*", "longtrack.trackers.hybrid_lt:HybridLongTermTracker", "longtrack: local tracker + GlobalTrack search and verification, DMTrack-style re-id association, ProContEXT-style dynamic templates, TANet-style switching (docs/methods/hybrid-lt.md)", default_weights="globaltrack-real.pt", needs_weights=True),
    TrackerSpec("gtelt", "longtrack.trackers.gtelt:GTELTTracker", "Zhou et al., Global Tracking via Ensemble of Local Trackers, CVPR 2022", default_weights="gtelt-synth.pt", needs_weights=True),
]

# The local tracker a wrapper named without one wraps (``create("tanet")`` = ``tanet:csrt``):
# csrt is the best weights-free local tracker on real video (docs/benchmark-real.md; nanotrack,
# better, needs ONNX files that longtrack does not ship), see docs/methods/tanet.md.
DEFAULT_LOCAL_TRACKERS = {"tanet": "csrt", "hybrid-lt": "csrt"}

_REGISTRY: dict[str, TrackerSpec] = {}


def register_tracker(spec: TrackerSpec) -> TrackerSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"tracker {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def tracker_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_tracker_spec(name: str) -> TrackerSpec:
    _load_builtin()
    if name in _REGISTRY:
        return _REGISTRY[name]
    wrapper, sep, inner = name.partition(":")
    if not sep and name in DEFAULT_LOCAL_TRACKERS and f"{name}:*" in _REGISTRY:  # bare "tanet"
        spec = get_tracker_spec(f"{name}:{DEFAULT_LOCAL_TRACKERS[name]}")
        return TrackerSpec(name, spec.factory, spec.paper, spec.default_weights, spec.needs_weights,
                           spec.options, spec.random_init)
    if sep and f"{wrapper}:*" in _REGISTRY:  # wrappers such as tanet:<local tracker>
        base = _REGISTRY[f"{wrapper}:*"]
        get_tracker_spec(inner)  # the wrapped tracker must exist
        return TrackerSpec(name, base.factory, base.paper, base.default_weights, base.needs_weights,
                           {**base.options, "local_tracker": inner}, base.random_init)
    raise LongtrackError(f"unknown tracker {name!r}; known: {', '.join(sorted(_REGISTRY))}")


def _load_builtin() -> None:
    for spec in BUILTIN_TRACKERS:
        if spec.name not in _REGISTRY:
            _REGISTRY[spec.name] = spec
