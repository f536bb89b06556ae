"""Voice settings the dialogue changes by voice ("slower", "louder") and speech output reads."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, fields, replace
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

    Config file schema (TOML)::

        [voice]
        rate = 150          # words per minute, 100-240
        volume = 0.85       # 0.3-1.0
        voice = "en-us"     # engine-specific voice name (optional)
        engine = "pyttsx3"  # or "piper"
    """
    path = path or config_file()
    values: dict[str, object] = {}
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("voice", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read config file '{path}': {err}; fix or delete it") from err
        known = {f.name for f in fields(VoiceSettings)}
        unknown = set(table) - known
        if unknown:
            raise InputError(
                f"config file '{path}': unknown [voice] keys {sorted(unknown)}; known keys: {sorted(known)}"
            )
        values.update(table)
        _LOGGER.debug("voice settings from %s: %s", path, table)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return VoiceSettings(**values)  # type: ignore[arg-type]
