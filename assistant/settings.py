"""Settings: how answers are spoken, which devices are used, how listening and recognition go.

Each setting comes from, in order: the command line, the voice's rate and volume remembered from
the last session (see `state`), the user's config file, and the default. `load_settings` reads
them once and records where each value came from (`assistant config` shows it).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
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
TRAILING_SILENCE_MIN, TRAILING_SILENCE_MAX = 0.2, 5.0
"""The trailing silences that make sense: shorter cuts questions at a breath, longer feels unanswered."""
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


@dataclass(frozen=True)
class Key:
    """One key of the config file, and the command-line option that overrides it."""

    table: str
    """The config file's table that holds it."""
    name: str
    """Its name in the table."""
    field: str
    """The `Settings` field it sets ("voice" fields are those of `VoiceSettings`)."""
    kind: type | tuple[type, ...]
    """Its TOML type(s)."""
    example: str
    """How to write it, for error messages."""
    flag: str
    """The command-line option that overrides it."""
    dest: str
    """That option's attribute on the parsed command line (None when it was not given)."""

    @property
    def path(self) -> str:
        """"table.name", as `assistant config` shows it."""
        return f"{self.table}.{self.name}"


KEYS: tuple[Key, ...] = (
    Key("voice", "rate", "rate", int, "a whole number of words per minute, e.g. rate = 150", "--rate", "rate"),
    Key("voice", "volume", "volume", (int, float), "a number, e.g. volume = 0.85", "--volume", "volume"),
    Key("voice", "voice", "voice", str, 'a voice name in quotes, e.g. voice = "en-us"', "--voice", "voice"),
    Key("voice", "engine", "engine", str, 'an engine name in quotes, e.g. engine = "piper"', "--voice-engine", "voice_engine"),
    Key("voice", "output_device", "output_device", (str, int),
        'a speaker\'s name (or part of it) in quotes, or its number, e.g. output_device = "USB Audio"',
        "--output-device", "output_device"),
    Key("voice", "remember", "remember", bool, "true or false, e.g. remember = false", "--no-remember", "remember"),
    Key("listen", "input_device", "input_device", (str, int),
        'a microphone\'s name (or part of it) in quotes, or its number, e.g. input_device = "USB Audio"',
        "--input-device", "input_device"),
    Key("listen", "wake", "wake", str, 'a phrase in quotes, e.g. wake = "hello helper"', "--wake", "wake"),
    Key("listen", "push_to_talk", "push_to_talk", bool, "true or false, e.g. push_to_talk = true",
        "--push-to-talk", "push_to_talk"),
    Key("listen", "trailing_silence", "trailing_silence", (int, float), "a number of seconds, e.g. trailing_silence = 0.8",
        "--trailing-silence", "trailing_silence"),
    Key("listen", "tones", "tones", bool, "true or false, e.g. tones = false", "--no-tones", "tones"),
    Key("listen", "captions_page", "captions_page", (int, bool),
        "a port number (0 picks a free one) or false, e.g. captions_page = 8080", "--captions-page", "captions_page"),
    Key("recognizer", "engine", "recognizer", str, 'a recognizer in quotes, e.g. engine = "vosk"', "--engine", "engine"),
    Key("recognizer", "model", "model", str, 'a Vosk model folder in quotes, e.g. model = "/media/usb/vosk-model"',
        "--model", "model"),
    Key("recognizer", "noise_suppression", "noise_suppression", bool, "true or false, e.g. noise_suppression = false",
        "--no-noise-suppression", "noise_suppression"),
)  # fmt: skip
"""Every key of the config file, in the order `assistant config` shows them."""

TABLES = tuple(dict.fromkeys(key.table for key in KEYS))
VOICE_FIELDS = tuple(f.name for f in fields(VoiceSettings))
REMEMBERED = ("rate", "volume")
"""The voice settings that "slower", "faster", "louder" and "softer" change, kept for the next start."""


@dataclass(frozen=True)
class Origin:
    """Where a setting's value came from."""

    source: str
    """"default", "config file", "remembered" or "command line"."""
    where: str | None = None
    """The config or state file's path, or the command-line option; None for a default."""

    def __str__(self) -> str:
        return f"{self.source} ({self.where})" if self.where else self.source


@dataclass(frozen=True)
class Settings:
    """Everything the user can set, in force for one run."""

    voice: VoiceSettings = field(default_factory=VoiceSettings)
    """How answers are spoken."""
    output_device: str | int | None = None
    """The speaker: part of its name or its number; None for the system's default."""
    remember: bool = True
    """Keep rate and volume changed by voice for the next start."""
    input_device: str | int | None = None
    """The microphone: part of its name or its number; None for the system's default."""
    wake: str | None = None
    """A phrase that must start each question, or None to answer everything."""
    push_to_talk: bool = False
    """Enter starts and ends each question."""
    trailing_silence: float = TRAILING_SILENCE
    """Seconds of silence that end a question."""
    tones: bool = True
    """A short tone when listening starts and another when a question was heard."""
    captions_page: int | None = None
    """The port of the large-print captions page on 127.0.0.1 (0: any free port); None for no page."""
    recognizer: str = "auto"
    """Speech recognizer: "auto", "vosk" or "pocketsphinx"."""
    model: Path | None = None
    """A Vosk model folder; None to look for one on the model search path."""
    noise_suppression: bool = True
    """Take steady noise (a fan, hum) out of the sound before recognition, when RNNoise is installed."""
    config: Path | None = None
    """The config file that was read, or None when there was none."""
    configured_voice: VoiceSettings = field(default_factory=VoiceSettings)
    """The voice of the config file and the defaults alone: what a voice changed by "slower" or
    "louder" is remembered over (see `state`)."""
    origins: Mapping[str, Origin] = field(default_factory=dict, compare=False)
    """Where each key's value came from, by `Key.path`."""

    def value(self, key: Key) -> object:
        """The value in force for a key of the config file."""
        if key.field in VOICE_FIELDS:
            return getattr(self.voice, key.field)
        return getattr(self, key.field)


def load_settings(
    flags: Mapping[str, object] | None = None, *, path: Path | None = None, state: Path | None = None
) -> Settings:
    """The settings in force: `flags` (command-line values by `Key.dest`, None when not given) over
    remembered rate and volume (unless `remember` is off), over the config file at `path` (default:
    the user's), over the defaults.

    Config file schema (TOML); every key and table is optional, and a missing file means the
    defaults. Each key is type-checked; a mistake is an InputError naming the file, the key and
    how to write it::

        [voice]
        rate = 150                  # words per minute, a whole number from 100 to 240
        volume = 0.85               # 0.3-1.0
        voice = "en-us"             # engine-specific voice name
        engine = "pyttsx3"          # or "piper"
        output_device = "USB"       # part of the speaker's name, or its number
        remember = true             # keep rate and volume changed by voice for the next start

        [listen]
        input_device = "USB"        # part of the microphone's name, or its number
        wake = "hello helper"       # answer only questions that start with it
        push_to_talk = false        # Enter starts and ends each question
        trailing_silence = 0.6      # seconds of silence that end a question, 0.2-5
        tones = true                # a tone when listening starts and when a question was heard
        captions_page = false       # a port for the captions page (0: any free one), or false

        [recognizer]
        engine = "auto"             # or "vosk", "pocketsphinx"
        model = "/path/to/model"    # a Vosk model folder; ~ is the home folder
        noise_suppression = true    # take steady noise out before recognition (RNNoise, when installed)
    """
    from .state import remembered_voice  # the state module reads VoiceSettings from here

    path = path or config_file()
    values: dict[str, object] = {}
    origins: dict[str, Origin] = {key.path: Origin("default") for key in KEYS}
    table_values = _read_config(path)
    for key in KEYS:
        if key.path in table_values:
            values[key.field] = table_values[key.path]
            origins[key.path] = Origin("config file", str(path))
    given = {key: value for key in KEYS if (value := (flags or {}).get(key.dest)) is not None}
    remember = given.get(_key("voice.remember"), values.get("remember", True))
    try:
        base = VoiceSettings(**{name: values[name] for name in VOICE_FIELDS if name in values})
    except InputError as err:
        raise InputError(f"config file '{path}': {err}") from None
    if remember:
        remembered, state_path = remembered_voice(base, state)
        for name, value in remembered.items():
            values[name] = value
            origins[_key(f"voice.{name}").path] = Origin("remembered", str(state_path))
    for key, value in given.items():
        values[key.field] = value
        origins[key.path] = Origin("command line", key.flag)
    try:
        voice = VoiceSettings(**{name: values.pop(name) for name in VOICE_FIELDS if name in values})
    except InputError as err:
        # The config file's and the remembered values were checked above: the option is at fault.
        flags_given = " ".join(f"{key.flag} {value}" for key, value in given.items() if key.field in VOICE_FIELDS)
        raise InputError(f"{flags_given}: {err}") from None
    if values.get("captions_page") is False:
        values["captions_page"] = None
    if isinstance(values.get("model"), str):
        values["model"] = Path(values["model"]).expanduser()
    settings = Settings(
        voice=voice, config=path if path.is_file() else None, configured_voice=base, origins=origins, **values
    )
    _check(settings, origins)
    return settings


def _key(path: str) -> Key:
    return next(key for key in KEYS if key.path == path)


def _check(settings: Settings, origins: Mapping[str, Origin]) -> None:
    """The checks of values beyond their type, naming where a bad value came from."""

    def refuse(path: str, problem: str) -> None:
        key, origin = _key(path), origins[path]
        value = settings.value(key)
        if origin.source == "config file":
            raise InputError(f"config file '{origin.where}': [{key.table}] {key.name} = {toml_value(value)}: {problem}")
        raise InputError(f"{key.flag} {value}: {problem}")

    if settings.recognizer not in RECOGNIZER_ENGINES:
        refuse("recognizer.engine", f"not a recognizer; use one of: {', '.join(RECOGNIZER_ENGINES)}")
    if not TRAILING_SILENCE_MIN <= settings.trailing_silence <= TRAILING_SILENCE_MAX:
        refuse("listen.trailing_silence", f"out of range; use {TRAILING_SILENCE_MIN} to {TRAILING_SILENCE_MAX} seconds")
    if settings.captions_page is not None and not 0 <= settings.captions_page <= 65535:
        refuse("listen.captions_page", "not a port; use 1 to 65535, 0 for any free port, or false for no page")
    if settings.wake is not None and not settings.wake.split():
        refuse("listen.wake", 'no words; give the words that must start each question, e.g. "hello helper"')


def _read_config(path: Path) -> dict[str, object]:
    """The config file's values by `Key.path`, checked key by key; nothing when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise InputError(f"cannot read config file '{path}': {err.strerror or err}; make it a readable file or delete it") from None
    except UnicodeDecodeError as err:
        raise InputError(f"cannot read config file '{path}': {err}; save it as UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"cannot read config file '{path}': {err}; fix or delete it") from None
    tables = ", ".join(f"[{name}]" for name in TABLES)
    values: dict[str, object] = {}
    for name, table in data.items():
        if name not in TABLES:
            what = f"table [{name}]" if isinstance(table, dict) else f"key {name!r} outside a table"
            raise InputError(f"config file '{path}': unknown {what}; the file's tables are {tables}")
        if not isinstance(table, dict):
            raise InputError(
                f"config file '{path}': {name!r} must be one table; write a [{name}] line, then its keys (not [[{name}]])"
            )
        known = {key.name: key for key in KEYS if key.table == name}
        for key_name, value in table.items():
            if key_name not in known:
                raise InputError(
                    f"config file '{path}': unknown [{name}] key {key_name!r}; known keys: {', '.join(known)}"
                )
            key = known[key_name]
            # TOML's true and false are Python bools, and bool is a kind of int: only a key meant
            # to be a boolean may hold one (captions_page: false alone, as true names no port).
            if isinstance(value, bool):
                ok = bool in _kinds(key) and (key.kind is bool or value is False)
            else:
                ok = isinstance(value, key.kind)
            if not ok:
                raise InputError(f"config file '{path}': [{name}] {key_name} = {toml_value(value)} is not {key.example}")
            values[key.path] = value
    _LOGGER.debug("settings from %s: %s", path, values)
    return values


def _kinds(key: Key) -> tuple[type, ...]:
    return key.kind if isinstance(key.kind, tuple) else (key.kind,)


def toml_value(value: object) -> str:
    """A value as it is written in TOML, to quote it back."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, Path)):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
