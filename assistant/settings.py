"""Voice settings the dialogue changes by voice ("slower", "louder") and speech output reads."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import InputError
from .resources import config_file

_LOGGER = logging.getLogger(__name__)

RATE_MIN, RATE_MAX, RATE_STEP = 100, 240, 20
VOLUME_MIN, VOLUME_MAX, VOLUME_STEP = 0.3, 1.0, 0.15
ENGINES = ("pyttsx3", "piper")
"""Text-to-speech engines."""
RECOGNIZER_ENGINES = ("auto", "vosk", "pocketsphinx")
"""Speech recognizers; "auto" is Vosk when an English model is installed, else PocketSphinx."""
TRAILING_SILENCE = 0.6
"""Seconds of silence that end a question, unless told otherwise."""
COMPLETE_SILENCE = 0.3
"""Seconds of silence that end a question whose words already make a complete, clear question or command."""
UNFINISHED_SILENCE = 1.2
"""Seconds of silence allowed in a question whose words are clearly unfinished ("what is ...", "um")."""


@dataclass(frozen=True)
class VoiceSettings:
    """How answers are spoken."""

    rate: int = 150
    """Speaking rate in words per minute."""
    volume: float = 0.85
    """Loudness from 0.0 to 1.0."""
    voice: str | None = None
    """Engine-specific voice name or id; None means the engine's default."""
    engine: str = "pyttsx3"
    """Text-to-speech engine: "pyttsx3" (eSpeak NG on Linux) or "piper"."""

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InputError(f"unknown voice engine {self.engine!r}; use one of: {', '.join(ENGINES)}")
        if not RATE_MIN <= self.rate <= RATE_MAX:
            raise InputError(f"speaking rate {self.rate} is out of range; use {RATE_MIN} to {RATE_MAX}")
        if not VOLUME_MIN <= self.volume <= VOLUME_MAX:
            raise InputError(f"volume {self.volume} is out of range; use {VOLUME_MIN} to {VOLUME_MAX}")

    def stepped(self, action: str) -> VoiceSettings | None:
        """The settings one step slower/faster/louder/softer, or None when already at that bound."""
        if action in ("slower", "faster"):
            rate = self.rate + (RATE_STEP if action == "faster" else -RATE_STEP)
            rate = min(max(rate, RATE_MIN), RATE_MAX)
            return None if rate == self.rate else replace(self, rate=rate)
        if action in ("louder", "softer"):
            volume = self.volume + (VOLUME_STEP if action == "louder" else -VOLUME_STEP)
            volume = round(min(max(volume, VOLUME_MIN), VOLUME_MAX), 2)
            return None if volume == self.volume else replace(self, volume=volume)
        raise ValueError(f"not a voice adjustment: {action}")


def load_voice_settings(path: Path | None = None, **overrides: object) -> VoiceSettings:
    """Settings from the `[voice]` table of the config file, then non-None overrides (command-line flags).

    Config file schema (TOML); every key is optional, and a missing file means the defaults::

        [voice]
        rate = 150          # words per minute, a whole number from 100 to 240
        volume = 0.85       # 0.3-1.0
        voice = "en-us"     # engine-specific voice name
        engine = "pyttsx3"  # or "piper"
    """
    path = path or config_file()
    settings = _config_settings(path)
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


_CONFIG_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "rate": (int, "a whole number of words per minute, e.g. rate = 150"),
    "volume": ((int, float), "a number, e.g. volume = 0.85"),
    "voice": (str, 'a voice name in quotes, e.g. voice = "en-us"'),
    "engine": (str, 'an engine name in quotes, e.g. engine = "piper"'),
}
"""Each key of the config file's [voice] table: its TOML type and how to write it."""


def _config_settings(path: Path) -> VoiceSettings:
    """The settings of the config file, checked key by key; the defaults when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return VoiceSettings()
    except OSError as err:
        raise InputError(f"cannot read config file '{path}': {err.strerror or err}; make it a readable file or delete it") from None
    except UnicodeDecodeError as err:
        raise InputError(f"cannot read config file '{path}': {err}; save it as UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"cannot read config file '{path}': {err}; fix or delete it") from None
    for name, value in data.items():
        if name != "voice":
            what = f"table [{name}]" if isinstance(value, dict) else f"key {name!r} outside a table"
            raise InputError(f"config file '{path}': unknown {what}; the file has one table, [voice]")
    table = data.get("voice", {})
    if not isinstance(table, dict):
        raise InputError(
            f"config file '{path}': 'voice' must be one table; write a [voice] line, then its keys (not [[voice]])"
        )
    for key, value in table.items():
        if key not in _CONFIG_KEYS:
            raise InputError(f"config file '{path}': unknown [voice] key {key!r}; known keys: {', '.join(_CONFIG_KEYS)}")
        kind, example = _CONFIG_KEYS[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(f"config file '{path}': [voice] {key} = {_toml(value)} is not {example}")
    _LOGGER.debug("voice settings from %s: %s", path, table)
    try:
        return VoiceSettings(**table)
    except InputError as err:
        raise InputError(f"config file '{path}': {err}") from None


def _toml(value: object) -> str:
    """A value as it is written in TOML, to quote it back."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
