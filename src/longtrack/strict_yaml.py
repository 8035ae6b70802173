"""YAML read safely and strictly: ``yaml.SafeLoader`` (no object construction) that also refuses
a key given twice in one mapping. PyYAML would keep the last value without a word, so a
config edited in two places would silently train something else than the file seems to say.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import LongtrackError


class StrictSafeLoader(yaml.SafeLoader):
    """``SafeLoader`` whose mappings refuse duplicate keys (a ``yaml.constructor.ConstructorError``
    naming both lines)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # ``<<:`` merges are resolved by flatten_mapping
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base class reports it
                    break
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first given on line {first.line + 1})",
                        key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, name: str = "<yaml>") -> Any:
    """Parse ``text``; a syntax error or a duplicate key is a ``LongtrackError`` naming
    ``name`` and the line."""
    try:
        return yaml.load(text, Loader=StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise LongtrackError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from exc


def read_yaml_file(path, what: str = "file") -> tuple[str, Any]:
    """The text of a UTF-8 YAML file and its data; an unreadable, binary or invalid file is a
    ``LongtrackError`` naming it (``what`` says what the file was meant to be)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LongtrackError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LongtrackError(f"{path} is not a text file (byte {exc.start} is not UTF-8): "
                             f"expected a YAML {what}") from None
    if "\x00" in text:
        raise LongtrackError(f"{path} is not a text file (it holds NUL bytes): expected a YAML {what}")
    return text, load_yaml(text, str(path))
