"""DMTrack: dynamic-convolution one-shot detector with a re-id branch (see ``model.py``)."""
from .config import CORRELATIONS, DMTrackConfig
from .model import DMTrack, build_dmtrack
from .preprocess import preprocess_image

__all__ = ["CORRELATIONS", "DMTrack", "DMTrackConfig", "build_dmtrack", "preprocess_image"]
