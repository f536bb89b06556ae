"""What the assistant keeps between runs: the rate and volume last asked for by voice.

The state file (``resources.state_file()``, JSON) is the assistant's own, apart from the config
file the user writes. Schema::

    {"rate": {"value": 170, "over": 150}, "volume": {"value": 1.0, "over": 0.85}}

`value` is what "slower", "faster", "louder" or "softer" left; `over` is the value the config
file (or the default) gave when it was said. A remembered value is used only while the config
file still gives that same value: a user who edits the rate in the config file afterwards gets
what they wrote, not an older voice change.

A state file that cannot be read or written never stops the assistant: a bedside device must
start and speak even with a full disk or a damaged file, so problems are logged and the voice
falls back to the config file's settings.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from .errors import InputError
from .resources import state_file
from .settings import REMEMBERED, VoiceSettings

_LOGGER = logging.getLogger(__name__)


def remembered_voice(base: VoiceSettings, path: Path | None = None) -> tuple[dict[str, object], Path]:
    """The remembered rate and volume that still apply over `base` (the config file's voice, or
    the default), and the state file's path."""
    path = path or state_file()
    saved = _read(path)
    found: dict[str, object] = {}
    for name in REMEMBERED:
        entry = saved.get(name)
        if not isinstance(entry, dict) or "value" not in entry:
            continue
        if entry.get("over") != getattr(base, name):
            _LOGGER.debug("remembered %s %r is over %r, but the config now gives %r: not used",
                          name, entry["value"], entry.get("over"), getattr(base, name))
            continue
        value = entry["value"]
        # eSpeak NG fails on a fractional rate: the types are those the config file allows.
        if isinstance(value, bool) or not isinstance(value, int if name == "rate" else (int, float)):
            _LOGGER.warning("ignoring the remembered %s in '%s': %r is not a number of the right kind", name, path, value)
            continue
        found[name] = value
    try:
        VoiceSettings(**{**asdict(base), **found})
    except InputError as err:
        _LOGGER.warning("ignoring the remembered voice in '%s': %s", path, err)
        return {}, path
    return found, path


def remember_voice(voice: VoiceSettings, base: VoiceSettings, path: Path | None = None) -> None:
    """Keep `voice`'s rate and volume for the next start, as changes over `base` (the voice the
    config file or the default gives); a value back at its base is forgotten."""
    path = path or state_file()
    saved = {
        name: {"value": getattr(voice, name), "over": getattr(base, name)}
        for name in REMEMBERED
        if getattr(voice, name) != getattr(base, name)
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole and renamed into place: a power cut mid-write leaves the old file, not half a new one.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=".voice-", delete=False) as tmp:
            json.dump(saved, tmp)
        os.replace(tmp.name, path)
    except OSError as err:
        _LOGGER.warning("cannot keep the voice's rate and volume in '%s' for the next start: %s", path, err)
        return
    _LOGGER.debug("voice kept in %s: %s", path, saved)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        _LOGGER.warning("ignoring the remembered voice in '%s': %s", path, err)
        return {}
    if not isinstance(data, dict):
        _LOGGER.warning("ignoring the remembered voice in '%s': not a JSON object", path)
        return {}
    return data
