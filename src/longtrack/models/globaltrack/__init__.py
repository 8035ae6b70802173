"""GlobalTrack (Huang et al., AAAI 2020): query-guided Faster R-CNN for global instance search.

See docs/methods/globaltrack.md. ``GlobalTrack`` is the network, ``GlobalTrackConfig`` its
configuration; ``preprocess`` turns a frame into the network's input.
"""
from .config import DetectionConfig, GlobalTrackConfig, ProposalConfig, SamplingConfig
from .model import GlobalTrack, QueryEncoding
from .preprocess import PreparedImage, prepare_image

__all__ = ["GlobalTrack", "GlobalTrackConfig", "QueryEncoding", "ProposalConfig", "SamplingConfig",
           "DetectionConfig", "PreparedImage", "prepare_image"]
