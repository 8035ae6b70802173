"""longtrack: long-term single-object visual tracking."""
from .api import create, track_video
from .contract import BaseTracker, Box, Prediction, Tracker
from .errors import LongtrackError
from .registry import tracker_names

__version__ = "0.1.0"
__all__ = ["BaseTracker", "Box", "Prediction", "Tracker", "create", "track_video", "LongtrackError",
           "tracker_names", "__version__"]
