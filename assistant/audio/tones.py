"""The short tones that tell a listener what is happening: "speak now" and "heard you".

Made here from their parameters in ``sounds/tones.toml`` (shipped as package data); played by the
speaker's player, like speech. Formats only; no devices.

Schema of the file: one table per tone (``[listening]``, ``[heard]``), each with

- ``notes``: a list of frequencies in Hz (20 to 8000), played one after the other;
- ``note_seconds``: how long each note lasts (0.02 to 1.0);
- ``fade_seconds``: the fade in and out of each note, so that it does not click (at most half a note);
- ``volume``: the loudness, as a share of the voice's volume (0.0 to 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..datafile import read_toml
from ..errors import AudioError
from ..resources import sounds_file
from .wav import Audio

TONE_RATE = 22050
"""Rate the tones are made at; the player resamples them to the speaker's."""


@dataclass(frozen=True)
class Tone:
    """A short run of sine notes, each faded in and out."""

    notes: tuple[float, ...]
    """Frequencies in Hz, played one after the other."""
    note_seconds: float
    """Length of each note."""
    fade_seconds: float
    """Fade in and out of each note."""
    volume: float
    """Loudness from 0.0 to 1.0, as a share of the voice's volume."""

    @classmethod
    def from_dict(cls, data: dict, where: str) -> Tone:
        """A tone from its TOML table; `where` names the table in messages ("tones.toml [heard]")."""
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise AudioError(f"{where}: unknown key {key!r}; known keys: {', '.join(known)}")
        missing = [key for key in known if key not in data]
        if missing:
            raise AudioError(f"{where}: missing {', '.join(missing)}; restore the file from the package")
        notes = data["notes"]
        if not isinstance(notes, list) or not notes or not all(_number(n) and 20 <= n <= 8000 for n in notes):
            raise AudioError(f"{where}: notes = {notes!r} must be a list of frequencies from 20 to 8000 Hz")
        numbers = {key: data[key] for key in ("note_seconds", "fade_seconds", "volume")}
        for key, value in numbers.items():
            if not _number(value):
                raise AudioError(f"{where}: {key} = {value!r} must be a number")
        if not 0.02 <= numbers["note_seconds"] <= 1.0:
            raise AudioError(f"{where}: note_seconds = {numbers['note_seconds']} must be from 0.02 to 1.0")
        if not 0 <= numbers["fade_seconds"] <= numbers["note_seconds"] / 2:
            raise AudioError(f"{where}: fade_seconds = {numbers['fade_seconds']} must be from 0 to half of note_seconds")
        if not 0 <= numbers["volume"] <= 1:
            raise AudioError(f"{where}: volume = {numbers['volume']} must be from 0.0 to 1.0")
        return cls(tuple(float(n) for n in notes), *(float(v) for v in numbers.values()))

    def sound(self, volume: float = 1.0, rate: int = TONE_RATE) -> Audio:
        """The tone as samples, at `volume` (the voice's) times its own."""
        count = round(self.note_seconds * rate)
        t = np.arange(count) / rate
        # A raised-cosine fade: no click at either end of a note.
        fade = min(round(self.fade_seconds * rate), count // 2)
        envelope = np.ones(count)
        if fade:
            ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
            envelope[:fade], envelope[count - fade :] = ramp, ramp[::-1]
        notes = [np.sin(2 * np.pi * frequency * t) * envelope for frequency in self.notes]
        return Audio((np.concatenate(notes) * self.volume * volume).astype(np.float32), rate)


@dataclass(frozen=True)
class Tones:
    """The tones of the hands-free loop."""

    listening: Tone
    """Played when it starts listening: speak now."""
    heard: Tone
    """Played when a question has been heard, before the answer."""

    @classmethod
    def from_file(cls, path: Path | None = None) -> Tones:
        """The tones of ``sounds/tones.toml``, or of another file of the same schema."""
        path = path or sounds_file("tones.toml")
        data = read_toml(path, AudioError, "the tones", "restore the file from the package")
        names = [f.name for f in fields(cls)]
        unknown = [name for name in data if name not in names]
        if unknown:
            raise AudioError(f"'{path}': unknown tone [{unknown[0]}]; the tones are {', '.join(names)}")
        for name in names:
            if not isinstance(data.get(name), dict):
                raise AudioError(f"'{path}': no [{name}] table; restore the file from the package")
        return cls(**{name: Tone.from_dict(data[name], f"'{path}' [{name}]") for name in names})


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
