"""The spoken benchmark's voices: who speaks the questions and the talkers of the noise, and the
cache that keeps what they said as 16 kHz speech without leading or trailing silence."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import SPEECH_RATE, read_wav, resample, write_wav
from ..errors import SpeechError
from ..resources import cache_dir
from ..settings import VoiceSettings
from ..speech_out import Speaker

PIPER_VOICE = "en_US-joe-medium"
"""The Piper voice (the one `scripts/setup --piper` installs)."""


@dataclass(frozen=True)
class Voice:
    """A synthetic speaker at one speaking rate."""

    engine: str
    """Speech engine: "piper" or "pyttsx3" (eSpeak NG)."""
    name: str
    """The engine's voice: a Piper model name, or an eSpeak NG voice ("en-us")."""
    rate: int
    """Words per minute."""

    @property
    def settings(self) -> VoiceSettings:
        return VoiceSettings(engine=self.engine, voice=self.name, rate=self.rate)

    @property
    def label(self) -> str:
        """As the tables print it: "Piper joe 150 wpm", "eSpeak en-us 150 wpm"."""
        if self.engine == "piper":
            return f"Piper {self.name.split('-')[1]} {self.rate} wpm"
        return f"eSpeak {self.name} {self.rate} wpm"


JOE = Voice("piper", PIPER_VOICE, 150)
JOE_FAST = Voice("piper", PIPER_VOICE, 200)
ESPEAK_US = Voice("pyttsx3", "en-us", 150)
ESPEAK_RP = Voice("pyttsx3", "en-gb-x-rp", 150)
QUESTION_VOICES = (JOE, JOE_FAST, ESPEAK_US, ESPEAK_RP)
"""Who asks the questions, the main voice first."""

# The noise's talkers are never the question's own voice: Piper questions are heard over eSpeak NG
# talkers of other accents, eSpeak NG questions over Piper talkers at other rates.
_TALKERS = {
    "piper": tuple(
        Voice("pyttsx3", name, rate)
        for name, rate in [("en-gb-scotland", 160), ("en-029", 175), ("en-us-nyc", 190),
                           ("en-gb-x-gbclan", 150), ("en-gb-x-gbcwmd", 170), ("en", 185)]
    ),  # fmt: skip
    "pyttsx3": tuple(Voice("piper", PIPER_VOICE, rate) for rate in (140, 155, 170, 185, 200, 215)),
}


def talkers_for(voice: Voice) -> tuple[Voice, ...]:
    """The voices that talk in the background of questions asked by `voice`."""
    return _TALKERS[voice.engine]


# Synthesized silence is digital near-zero; anything above this envelope level (about -50 dBFS)
# is speech, weak fricatives included.
_SPEECH_LEVEL = 0.003
_ENVELOPE_SECONDS = 0.005


def speech_span(samples: np.ndarray, rate: int = SPEECH_RATE) -> tuple[int, int]:
    """First and one-past-last sample where the smoothed envelope reaches speech level."""
    width = max(1, int(rate * _ENVELOPE_SECONDS))
    envelope = np.convolve(np.abs(samples), np.ones(width) / width, mode="same")
    loud = np.flatnonzero(envelope >= _SPEECH_LEVEL)
    if len(loud) == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1


def default_cache() -> Path:
    """Where synthesized speech is kept between runs."""
    return cache_dir() / "spoken"


class VoiceCache:
    """Texts spoken by a `Voice`, as 16 kHz speech without leading or trailing silence, kept as
    WAV files named by a hash of engine, voice, rate and text."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_cache()
        self._speaker: Speaker | None = None
        self.synthesized = 0
        """How many texts this cache had to synthesize."""

    def path(self, text: str, voice: Voice) -> Path:
        key = hashlib.sha256(f"{voice.engine}\n{voice.name}\n{voice.rate}\n{text}".encode()).hexdigest()[:20]
        return self.folder / f"{key}.wav"

    def has(self, text: str, voice: Voice) -> bool:
        return self.path(text, voice).is_file()

    def speech(self, text: str, voice: Voice) -> np.ndarray:
        """The text as `voice` says it, synthesized on first use."""
        path = self.path(text, voice)
        if path.is_file():
            return read_wav(path).samples
        if self._speaker is None:
            self._speaker = Speaker()
        try:
            sound = self._speaker.synthesize(text, voice.settings)
        except SpeechError as err:
            raise SpeechError(f"the spoken benchmark speaks with {voice.label}: {err}") from err
        samples = resample(sound.samples, sound.rate, SPEECH_RATE)
        start, end = speech_span(samples)
        if end == start:
            raise SpeechError(f"{voice.label} produced silence for {text!r}; check that engine's installation")
        self.folder.mkdir(parents=True, exist_ok=True)
        # Written under another name first, so that an interrupted run leaves no truncated file.
        partial = path.with_suffix(".part")
        write_wav(partial, samples[start:end], SPEECH_RATE)
        partial.replace(path)
        self.synthesized += 1
        return read_wav(path).samples
