"""Moved to ``longtrack.typed_config`` (models use it too); this name stays for old imports."""
from ..typed_config import *  # noqa: F401,F403
from ..typed_config import ConfigSource, parse_dataclass, to_plain  # noqa: F401
