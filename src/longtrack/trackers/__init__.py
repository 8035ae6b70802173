"""Online trackers: one file per method, each holding all temporal state around its model."""
from ..registry import TrackerSpec

# The default tracker of `longtrack demo` and `longtrack track`: the best-scoring tracker on the
# synthetic long-term test benchmark among those that ship weights (docs/benchmark.md).
DEFAULT_TRACKER = "classic-lt"

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
    TrackerSpec("procontext", "longtrack.trackers.procontext:ProContEXTTracker", "Lan et al., ProContEXT: Exploring Progressive Context Transformer for Tracking, ICASSP 2023", default_weights="procontext-synth.pt", needs_weights=True),
    TrackerSpec("globaltrack", "longtrack.trackers.globaltrack:GlobalTrackTracker", "Huang et al., GlobalTrack: A Simple and Strong Baseline for Long-term Tracking, AAAI 2020", default_weights="globaltrack-synth.pt", needs_weights=True),
    TrackerSpec("tanet:*", "longtrack.trackers.tanet:TANetTracker", "Wang et al., Tracking by Joint Local and Global Search: A Target-aware Attention based Approach, TNNLS 2021", default_weights="tanet-synth.pt", needs_weights=True),
    TrackerSpec("dmtrack", "longtrack.trackers.dmtrack:DMTrackTracker", "Zhang et al., Distractor-aware Fast Tracking via Dynamic Convolutions and MOT Philosophy, CVPR 2021", default_weights="dmtrack-synth.pt", needs_weights=True),
    TrackerSpec("gtelt", "longtrack.trackers.gtelt:GTELTTracker", "Zhou et al., Global Tracking via Ensemble of Local Trackers, CVPR 2022", default_weights="gtelt-synth.pt", needs_weights=True),
]
