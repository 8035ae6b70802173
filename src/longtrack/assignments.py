"""``KEY=VALUE`` items of the command line (``eval --option``, ``train --set``): VALUE read as YAML."""
from __future__ import annotations

from typing import Any

import yaml

from .errors import LongtrackError


def parse_assignment(item: str, flag: str, dotted: bool = False) -> tuple[list[str], Any]:
    """``"a.b=5"`` -> ``(["a", "b"], 5)``; keys must be names (dotted paths when ``dotted``).
    A malformed item or an unreadable value is a one-line error naming ``flag``."""
    key, sep, value = item.partition("=")
    parts = key.strip().split(".") if dotted else [key.strip()]
    if not sep or not all(part.isidentifier() for part in parts):
        form = "SECTION.KEY=VALUE" if dotted else "KEY=VALUE with KEY a name"
        raise LongtrackError(f"{flag} must be {form}, got {item!r}")
    try:
        return parts, (yaml.safe_load(value) if value.strip() else "")
    except yaml.YAMLError:
        raise LongtrackError(f"{flag} {key}: cannot read value {value!r}") from None
