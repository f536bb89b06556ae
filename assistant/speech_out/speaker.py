"""The speaker: an answer split into sentences, respelled, synthesized ahead and streamed to the player.

A producer thread synthesizes ahead while the player plays what is ready, so the first sound
comes after one sentence's synthesis, however long the answer.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from .. import audio
from ..errors import InputError, SpeechError
from ..knowledge import split_sentences
from ..lexicon import Lexicon, default_lexicon
from ..settings import VoiceSettings
from .piper_engine import PiperEngine
from .pyttsx3_engine import Pyttsx3Engine

_LOGGER = logging.getLogger(__name__)

Engine = Pyttsx3Engine | PiperEngine

# How each of settings.ENGINES starts, given the voice setting. pyttsx3 is one engine per
# process and takes the voice with each sentence; a Piper engine is one loaded voice.
_START_ENGINE: dict[str, Callable[[str | None], Engine]] = {
    "pyttsx3": lambda voice: Pyttsx3Engine.shared(),
    "piper": PiperEngine,
}

_END = object()

END_PAUSE = 0.05
"""Seconds of silence kept after the last sentence. Engines end every sentence with a pause
(eSpeak NG about 0.4 s): between sentences it is the pause, after the last it only delays listening."""
SILENT = 1e-3
"""Samples below this (-60 dB of full scale) are silence."""


def _without_end_pause(sound: audio.Audio) -> audio.Audio:
    """`sound` with its trailing silence cut to END_PAUSE."""
    loud = np.flatnonzero(np.abs(sound.samples) > SILENT)
    if not len(loud):
        return sound
    return audio.Audio(sound.samples[: loud[-1] + 1 + round(END_PAUSE * sound.rate)], sound.rate)


@dataclass
class _Utterance:
    """One `speak` call: the synthesized sentences on their way to the player."""

    chunks: queue.Queue = field(default_factory=queue.Queue)
    """Sentence audio in order, then _END."""
    stopped: threading.Event = field(default_factory=threading.Event)
    """Set by `Speaker.stop` (or when playback fails): synthesize no more."""
    error: BaseException | None = None
    """What stopped synthesis early, raised by `speak` once playback has ended."""


class Speaker:
    """Speaks answers on an output device; `stop()` from any thread silences it at once.

    Use as a context manager: the output device is opened on entry and closed on exit.
    """

    def __init__(self, output_device: str | int | None = None, lexicon: Lexicon | None = None):
        self.output_device = output_device
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        self._player: audio.Player | None = None
        self._engines: dict[tuple[str, str | None], Engine] = {}
        self._lock = threading.Lock()
        self._current: _Utterance | None = None

    def __enter__(self) -> Speaker:
        self._player = audio.Player(self.output_device)
        self._player.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        player, self._player = self._player, None
        if player is not None:
            player.__exit__(*exc_info)

    def engine(self, settings: VoiceSettings) -> Engine:
        """The synthesis engine the settings ask for, started on first use."""
        key = (settings.engine, settings.voice)
        if key not in self._engines:
            self._engines[key] = _START_ENGINE[settings.engine](settings.voice)
        return self._engines[key]

    def spoken_sentences(self, text: str, engine: str) -> list[str]:
        """The sentences of `text` as the engine is given them, respelled for listening."""
        return [self.lexicon.apply(sentence, engine) for sentence in split_sentences(text)]

    def sentence_audio(self, text: str, settings: VoiceSettings) -> Iterator[audio.Audio]:
        """Each sentence's audio as soon as it is synthesized."""
        engine = self.engine(settings)
        sentences = self.spoken_sentences(text, settings.engine)
        for index, sentence in enumerate(sentences, 1):
            _LOGGER.debug("%s synthesizes %r", engine.name, sentence)
            sound = engine.synthesize(sentence, settings)
            yield _without_end_pause(sound) if index == len(sentences) else sound

    def synthesize(self, text: str, settings: VoiceSettings) -> audio.Audio:
        """The whole text as one sound (for writing to a file)."""
        parts = list(self.sentence_audio(text, settings))
        if not parts:
            raise InputError(f"nothing to say in {text!r}; give some words")
        return audio.Audio(np.concatenate([part.samples for part in parts]), parts[0].rate)

    def speak(self, text: str, settings: VoiceSettings, lead: audio.Audio | None = None) -> None:
        """Say `text`; returns when it has been spoken or `stop()` was called.

        `lead` is a sound played first (the tone that says a question was heard), while the first
        sentence is being synthesized, so that it costs the listener no wait.
        """
        if self._player is None:
            raise SpeechError("the speaker is not open; use it in a 'with Speaker(...)' block")
        utterance = _Utterance()
        if lead is not None:
            utterance.chunks.put(lead)
        with self._lock:
            self._current = utterance
        producer = threading.Thread(
            target=self._produce, args=(utterance, text, settings), name="speech-synthesis", daemon=True
        )
        producer.start()
        try:
            self._player.play_stream(self._consume(utterance))
        finally:
            utterance.stopped.set()
            with self._lock:
                if self._current is utterance:
                    self._current = None
        if utterance.error is not None:
            raise utterance.error

    def play(self, sound: audio.Audio) -> None:
        """Play a ready sound (a tone) on the same player as speech; returns once it has been heard."""
        if self._player is None:
            raise SpeechError("the speaker is not open; use it in a 'with Speaker(...)' block")
        self._player.play(sound)

    def stop(self) -> None:
        """End the current answer at once (from any thread); the next `speak` plays normally."""
        with self._lock:
            utterance = self._current
        if utterance is None:
            return
        utterance.stopped.set()
        utterance.chunks.put(_END)
        if self._player is not None:
            self._player.stop()

    def _produce(self, utterance: _Utterance, text: str, settings: VoiceSettings) -> None:
        try:
            for sentence in self.sentence_audio(text, settings):
                if utterance.stopped.is_set():
                    break
                utterance.chunks.put(sentence)
        except Exception as err:  # noqa: BLE001 - raised again by `speak`, in the caller's thread
            utterance.error = err
        finally:
            utterance.chunks.put(_END)

    @staticmethod
    def _consume(utterance: _Utterance) -> Iterator[audio.Audio]:
        while True:
            item = utterance.chunks.get()
            if item is _END or utterance.stopped.is_set():
                return
            yield item
