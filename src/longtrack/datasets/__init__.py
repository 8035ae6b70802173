"""Dataset readers: one module per benchmark format, all yielding ``Sequence``."""
from .sequence import Sequence

__all__ = ["Sequence"]
