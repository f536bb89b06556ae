"""The spoken benchmark's sound: questions spoken by Piper and kept in a cache, babble made of
guide sentences, and the stream a microphone would hear when both are mixed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np

from ..audio import SPEECH_RATE, read_wav, resample, write_wav
from ..errors import SpeechError
from ..intents import GUIDE_FILE
from ..knowledge import Guide
from ..resources import cache_dir
from ..settings import VoiceSettings
from ..speech_out import Speaker

PAD_BEFORE = 0.5
"""Seconds of silence (or babble alone) before each question."""
PAD_AFTER = 1.0
"""Seconds of silence (or babble alone) after each question that the recognizer hears when the
endpointer has not ended the question before; beyond them the endpointer alone goes on
listening, to time its decision (see `ask_spoken`)."""
BABBLE_TALKERS = 6
BABBLE_SECONDS = 40.0
BABBLE_RATE = 175
SEED = 1729
VOICE = "en_US-joe-medium"
"""The Piper voice that speaks the questions (the one `scripts/setup --piper` installs)."""

# Piper's own leading and trailing silence is digital near-zero; anything above this
# envelope level (about -50 dBFS) is speech, weak fricatives included.
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
    """Where synthesized questions are kept between runs."""
    return cache_dir() / "spoken-dev"


class VoiceCache:
    """Texts spoken by Piper at a rate, as 16 kHz speech without leading or trailing silence,
    kept as WAV files named by a hash of voice, rate and text."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_cache()
        self._speaker: Speaker | None = None
        self.synthesized = 0
        """How many texts this cache had to synthesize."""

    def path(self, text: str, rate: int) -> Path:
        key = hashlib.sha256(f"{VOICE}\n{rate}\n{text}".encode()).hexdigest()[:20]
        return self.folder / f"{key}.wav"

    def speech(self, text: str, rate: int) -> np.ndarray:
        """The text spoken at `rate` words per minute, synthesized on first use."""
        path = self.path(text, rate)
        if path.is_file():
            return read_wav(path).samples
        if self._speaker is None:
            self._speaker = Speaker()
        try:
            sound = self._speaker.synthesize(text, VoiceSettings(engine="piper", voice=VOICE, rate=rate))
        except SpeechError as err:
            raise SpeechError(f"the spoken benchmark speaks its questions with Piper: {err}") from err
        samples = resample(sound.samples, sound.rate, SPEECH_RATE)
        start, end = speech_span(samples)
        if end == start:
            raise SpeechError(f"Piper produced silence for {text!r}; check the Piper installation (scripts/setup --piper)")
        self.folder.mkdir(parents=True, exist_ok=True)
        # Written under another name first, so that an interrupted run leaves no truncated file.
        partial = path.with_suffix(".part")
        write_wav(partial, samples[start:end], SPEECH_RATE)
        partial.replace(path)
        self.synthesized += 1
        return read_wav(path).samples


def babble_sentences(count: int = BABBLE_TALKERS) -> list[str]:
    """Evenly spaced guide sentences of 12 to 30 words, one per babbling talker."""
    guide = Guide.from_file(GUIDE_FILE)
    sentences = [s for section in guide.sections for s in section.sentences if 12 <= len(s.split()) <= 30]
    step = len(sentences) / count
    return [sentences[int(i * step)] for i in range(count)]


def make_babble(utterances: Sequence[np.ndarray], seconds: float = BABBLE_SECONDS, seed: int = SEED) -> np.ndarray:
    """Several talkers at once: each utterance repeated with short random pauses, started at a
    random point, all summed; scaled to unit mean power."""
    rng = np.random.default_rng(seed)
    length = int(seconds * SPEECH_RATE)
    total = np.zeros(length, dtype=np.float64)
    for utterance in utterances:
        talker = np.asarray(utterance, dtype=np.float64)
        talker /= np.sqrt(np.mean(talker * talker))
        parts, filled = [], 0
        while filled < length:
            pause = np.zeros(int(rng.uniform(0.1, 0.6) * SPEECH_RATE))
            parts += [talker, pause]
            filled += len(talker) + len(pause)
        track = np.concatenate(parts)[:length]
        total += np.roll(track, int(rng.integers(length)))
    total /= np.sqrt(np.mean(total * total))
    return total.astype(np.float32)


def mix(speech: np.ndarray, babble: np.ndarray | None, snr: float | None, tail: float, offset: int = 0) -> np.ndarray:
    """The stream a microphone would hear: PAD_BEFORE, the speech, PAD_AFTER and `tail` more
    seconds, with babble (unit power, read from `offset` on, wrapping round) throughout at
    `snr` dB below the speech's mean power; silence around the speech when `snr` is None."""
    before, after = int(PAD_BEFORE * SPEECH_RATE), int((PAD_AFTER + tail) * SPEECH_RATE)
    stream = np.concatenate([np.zeros(before), speech, np.zeros(after)])
    if snr is not None:
        if babble is None:
            raise ValueError("a noisy condition needs babble")
        power = np.mean(np.asarray(speech, dtype=np.float64) ** 2)
        noise = np.take(babble, np.arange(offset, offset + len(stream)), mode="wrap")
        stream += np.sqrt(power / 10 ** (snr / 10)) * noise
    peak = np.max(np.abs(stream))
    # A sum louder than full scale would clip at the microphone; scaling keeps the SNR.
    return (stream * (0.99 / peak if peak > 0.99 else 1.0)).astype(np.float32)


# ---------------------------------------------------------------------------
