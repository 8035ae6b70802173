"""Training data: video sources, views (crops), augmentations, samples and the sample stream."""
from .samples import TrackingSamples, collate_samples
from .sources import build_sources
from .stream import StreamBatchSampler

__all__ = ["TrackingSamples", "collate_samples", "build_sources", "StreamBatchSampler"]
