"""Data files: YAML read with the line of each entry, so that a bad entry can be reported as
file:line, and TOML (the shipped model registries, the tones), whose errors name the file and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

from .errors import AssistantError, OverlayError


class Mapping(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int
    key_lines: dict[str, int]


class Sequence(list):
    """A YAML sequence that remembers its line (1-based)."""

    line: int


def load(path: Path) -> Mapping:
    """Read a YAML file whose top level is a mapping; errors name the file and line.

    Only plain YAML is read: text, numbers, lists and mappings. Anchors and aliases are refused
    (our files need none, and a few aliases of aliases stand for billions of values), and so are
    explicit tags (`!!binary`, `!!python/object`, `!foo`). A plain scalar that YAML 1.1 would read
    as a boolean or a date ("yes", "2024-13-45") stays text.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise OverlayError(f"data file '{path}' not found; restore it from the project") from err
    except (OSError, UnicodeDecodeError) as err:
        raise OverlayError(f"cannot read data file '{path}': {err}; save it as UTF-8 text") from err
    parser = _LOADER(text)
    try:
        data = _build(parser, Path(path))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise OverlayError(f"{where}: not valid YAML ({problem}); fix the file") from err
    finally:
        parser.dispose()
    if not isinstance(data, Mapping):
        raise OverlayError(f"{path}:1: expected a mapping of keys to values at the top level")
    return data


def read_toml(path: Path, error: type[AssistantError], what: str, fix: str, missing: str | None = None) -> dict:
    """A TOML file's tables. `error` is raised when it cannot be read: "cannot read {what}
    '{path}': {why}; {fix}", or, for a file that is not there and `missing` given, "{what} '{path}'
    not found; {missing}"."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        if missing is None:
            raise error(f"cannot read {what} '{path}': {err.strerror}; {fix}") from None
        raise error(f"{what} '{path}' not found; {missing}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise error(f"cannot read {what} '{path}': {err}; {fix}") from None


def check_keys(mapping: Mapping, allowed: set[str], path: Path) -> None:
    """A misspelled key would be silently ignored: name it and its line instead."""
    for key in mapping:
        if key not in allowed:
            raise fail(path, mapping.key_lines[key], f"unknown key {key!r}; expected one of: {', '.join(sorted(allowed))}")


def fail(path: Path, line: int, message: str) -> OverlayError:
    return OverlayError(f"{path}:{line}: {message}")


def _build(parser: Any, path: Path) -> Any:
    """The document's value, built from the parser's events with a stack of the open mappings and
    lists rather than by recursion, so that deep nesting cannot exhaust Python's stack."""
    root: Any = None
    documents = 0
    # Each open container, with the key whose value comes next (None: a key comes next).
    open_: list[list[Any]] = []

    def place(value: Any, line: int) -> None:
        nonlocal root
        if not open_:
            root = value
            return
        container, key = open_[-1]
        if isinstance(container, Sequence):
            container.append(value)
        elif key is not None:
            container[key] = value
            open_[-1][1] = None
        elif not isinstance(value, str):
            kind = "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else repr(value)
            raise fail(path, line, f"a key must be text, not {kind}")
        elif value in container:
            raise fail(path, line, f"duplicate key {value!r}")
        else:
            container.key_lines[value] = line
            open_[-1][1] = value

    while not parser.check_event(yaml.StreamEndEvent):
        event = parser.get_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise fail(path, line, "a second document ('---'); a data file holds one")
        elif isinstance(event, yaml.AliasEvent):
            raise fail(path, line, f"alias *{event.anchor} is not supported; write the value out in full")
        elif isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if event.anchor is not None:
                raise fail(path, line, f"anchor &{event.anchor} is not supported; data files use no anchors or aliases")
            if event.tag is not None:
                tag = event.tag.replace(_YAML_TAG, "!!", 1) if event.tag.startswith(_YAML_TAG) else event.tag
                raise fail(path, line, f"tag {tag!r} is not supported; write plain text, quoted if it starts with '!'")
            if isinstance(event, yaml.ScalarEvent):
                place(_scalar(event), line)
            else:
                container = Mapping() if isinstance(event, yaml.MappingStartEvent) else Sequence()
                container.line = line
                if isinstance(container, Mapping):
                    container.key_lines = {}
                place(container, line)
                open_.append([container, None])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            open_.pop()
    return root


def _scalar(event: yaml.ScalarEvent) -> Any:
    """Text, or a number or null where the scalar is written plainly as one."""
    if not event.implicit[0]:  # quoted or a block: always text
        return event.value
    tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, (True, False))
    if tag not in _CONSTRUCTED:
        # Our data files hold no booleans (YAML 1.1 would read the stopwords "yes", "no", "on"
        # as ones) and no dates: both stay as written.
        return event.value
    try:
        return _CONSTRUCTED[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, event.value))
    except ValueError:  # "0x_" matches YAML's pattern for an integer but is not one
        return event.value


# libyaml's parser, when PyYAML was built with it, reads the data files several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_YAML_TAG = "tag:yaml.org,2002:"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_CONSTRUCTED = {
    f"{_YAML_TAG}int": yaml.constructor.SafeConstructor.construct_yaml_int,
    f"{_YAML_TAG}float": yaml.constructor.SafeConstructor.construct_yaml_float,
    f"{_YAML_TAG}null": yaml.constructor.SafeConstructor.construct_yaml_null,
}
