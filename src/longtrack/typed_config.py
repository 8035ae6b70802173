"""Strict parsing of YAML mappings into frozen, typed dataclasses.

A key the dataclass does not declare is an error (a typo never passes silently), and so is
a value of the wrong type; both name the file, the line and the dotted key. Supported field
types: ``int``, ``float``, ``bool``, ``str``, ``Literal[...]``, ``X | None``, unions,
``tuple[X, ...]``, ``tuple[X, Y]``, ``dict[str, X]`` and nested dataclasses.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from .errors import LongtrackError
from .strict_yaml import read_yaml_file

__all__ = ["ConfigSource", "parse_dataclass", "to_plain"]


class ConfigSource:
    """The text a config came from, to point errors at a file and line."""

    def __init__(self, name: str, text: str | None = None):
        self.name = name
        self._root = None
        if text is not None:
            try:
                self._root = yaml.compose(text, Loader=yaml.SafeLoader)
            except yaml.YAMLError:
                self._root = None

    @classmethod
    def from_file(cls, path: str | Path) -> tuple["ConfigSource", Any]:
        """Read a UTF-8 YAML file safely and strictly (``strict_yaml``: a key given twice is an
        error); returns the source and the loaded data."""
        text, data = read_yaml_file(path, "config")
        return cls(str(path), text), data

    def where(self, keys: tuple) -> str:
        """``file:line`` of the entry at ``keys`` (dict keys and list indices), or ``file``."""
        node, line = self._root, None
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
                if match is None:
                    break
                line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return f"{self.name}:{line}" if line else self.name

    def error(self, keys: tuple, message: str) -> LongtrackError:
        dotted = ".".join(str(k) for k in keys) or "(top level)"
        return LongtrackError(f"{self.where(keys)}: {dotted}: {message}")


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _parse_value(tp, value, keys: tuple, src: ConfigSource):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _parse_value(arg, value, keys, src)
            except LongtrackError:
                continue
        raise src.error(keys, f"expected {' or '.join(_type_name(a) for a in args)}, got {value!r}")
    if origin is Literal:
        if value not in args:
            raise src.error(keys, f"must be one of {', '.join(repr(a) for a in args)}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return parse_dataclass(tp, value, src, keys)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise src.error(keys, f"expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_parse_value(args[0], v, keys + (i,), src) for i, v in enumerate(value))
        if len(value) != len(args):
            raise src.error(keys, f"expected a list of {len(args)} values, got {len(value)}")
        return tuple(_parse_value(a, v, keys + (i,), src) for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict:
        if not isinstance(value, dict):
            raise src.error(keys, f"expected a mapping, got {value!r}")
        key_type, value_type = args
        return {_parse_value(key_type, k, keys, src): _parse_value(value_type, v, keys + (k,), src)
                for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise src.error(keys, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise src.error(keys, f"expected a whole number, got {value!r}")
        return value
    if tp is float:
        # PyYAML reads '1e-4' (no dot) as a string: accept numeric strings for float fields.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise src.error(keys, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise src.error(keys, f"expected a string, got {value!r}")
        return value
    raise TypeError(f"unsupported config field type {tp!r}")


def parse_dataclass(cls, data, src: ConfigSource, keys: tuple = ()):
    """Build ``cls`` from a mapping, rejecting unknown keys and values of the wrong type."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise src.error(keys, f"expected a mapping of {cls.__name__} options, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        known = ", ".join(fields) or "none"
        raise src.error(keys + (unknown[0],), f"unknown key '{unknown[0]}' (known keys here: {known})")
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _parse_value(hints[name], data[name], keys + (name,), src)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise src.error(keys + (name,), "is required")
    try:
        return cls(**kwargs)
    except (ValueError, LongtrackError) as exc:  # __post_init__ checks of value ranges
        raise src.error(keys, str(exc)) from exc


def to_plain(obj):
    """Dataclasses, tuples and dicts -> plain dicts and lists (YAML- and checkpoint-safe)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj
