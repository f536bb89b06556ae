"""YAML data files read with their line numbers, so that a bad entry can be reported as file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import OverlayError


class Mapping(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int
    key_lines: dict[str, int]


class Sequence(list):
    """A YAML sequence that remembers its line (1-based)."""

    line: int


def load(path: Path) -> Mapping:
    """Read a YAML file whose top level is a mapping; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise OverlayError(f"data file '{path}' not found; restore it from the project") from err
    except (OSError, UnicodeDecodeError) as err:
        raise OverlayError(f"cannot read data file '{path}': {err}; save it as UTF-8 text") from err
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise OverlayError(f"{where}: not valid YAML ({problem}); fix the file") from err
    if not isinstance(node, yaml.MappingNode):
        raise OverlayError(f"{path}:1: expected a mapping of keys to values at the top level")
    return _convert(node, Path(path))


def check_keys(mapping: Mapping, allowed: set[str], path: Path) -> None:
    """A misspelled key would be silently ignored: name it and its line instead."""
    for key in mapping:
        if key not in allowed:
            raise fail(path, mapping.key_lines[key], f"unknown key {key!r}; expected one of: {', '.join(sorted(allowed))}")


def fail(path: Path, line: int, message: str) -> OverlayError:
    return OverlayError(f"{path}:{line}: {message}")


def _convert(node: yaml.Node, path: Path) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = Mapping()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, path)
            if not isinstance(key, str):
                raise fail(path, key_node.start_mark.line + 1, f"key {key!r} must be text")
            if key in result:
                raise fail(path, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            result[key] = _convert(value_node, path)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        result = Sequence(_convert(item, path) for item in node.value)
        result.line = node.start_mark.line + 1
        return result
    if node.tag in (_STR, _BOOL):
        # Our data files hold no booleans; YAML 1.1 would read the stopwords "yes", "no", "on" as ones.
        return node.value
    return _SCALARS.construct_object(node)


# libyaml's parser, when PyYAML was built with it, reads the data files several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_SCALARS = yaml.SafeLoader("")
