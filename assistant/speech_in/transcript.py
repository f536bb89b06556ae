"""What recognizers produce and the interface they share.

A `Recognizer` takes one utterance of 16 kHz mono speech at a time and returns a `Transcript`:
the words heard, the engine's confidence, and how much of it belongs to the domain vocabulary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ..audio import SPEECH_RATE, Audio, resample, to_pcm16

_TRANSCRIBE_BLOCK = SPEECH_RATE // 10


@dataclass
class Word:
    """One recognized word."""

    text: str
    """The word in lower case."""
    confidence: float | None
    """The engine's posterior for this word, 0..1; None when the engine gives none."""
    start: float
    """Seconds from the start of the utterance."""
    end: float
    """Seconds from the start of the utterance."""


@dataclass
class Transcript:
    """What a recognizer heard in one utterance."""

    text: str
    """Recognized words in lower case, separated by single spaces; empty when nothing was heard."""
    confidence: float | None = None
    """Mean word confidence, 0..1; None when the engine gives none."""
    words: list[Word] = field(default_factory=list)
    """The words with their confidences and times, when the engine reports them."""
    in_domain: float | None = None
    """Share of the transcript's content words (not FUNCTION_WORDS) that are in the domain
    vocabulary, 0..1; None without a domain vocabulary or without content words."""
    open_text: str | None = None
    """What a second pass without the domain grammar heard, when one ran (Vosk with `open_pass`)."""
    hearing: str = "clear"
    """How well the words were heard, from the confidences: "certain" (every word that says what
    the question is about was heard well, as was the whole), "clear", "unsure" (ask back before
    answering) or "unheard" (ask to say it again)."""
    alternatives: list[str] = field(default_factory=list)
    """Other word sequences the recognizer found nearly as likely for the same sound, most likely
    first (PocketSphinx's N-best list); empty where the engine gives none, and for a transcript
    trimmed by `Recognizer.within`, whose alternatives would hold the words trimmed off."""


# ---------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------


class Recognizer(ABC):
    """A streaming recognizer of 16 kHz mono 16-bit speech.

    Feed one utterance with `accept`, read the running guess with `partial`, and end the
    utterance with `final`, which also makes the recognizer ready for the next one.
    """

    name: str = ""
    vocabulary: frozenset[str] = frozenset()
    """Words of the domain phrases this recognizer can produce; empty when it has none."""
    sure_confidence: float = 0.0
    """Below this confidence a transcript is "unsure"; 0 where the engine's confidences have not
    been measured against what was said."""
    heard_confidence: float = 0.0
    """Below this confidence a transcript is "unheard"."""
    certain_confidence: float | None = None
    """A clear transcript whose confidence and every content word's (not FUNCTION_WORDS) reach this
    is "certain"; None where the engine's word confidences have not been measured."""

    @abstractmethod
    def accept(self, pcm16: bytes) -> None:
        """Feed the next block of little-endian 16-bit samples at 16 kHz."""

    @abstractmethod
    def partial(self) -> str:
        """The best guess for the utterance so far."""

    @abstractmethod
    def final(self) -> Transcript:
        """End the utterance and return what was heard."""

    @abstractmethod
    def reset(self) -> None:
        """Drop the current utterance without a result."""

    def forget(self) -> None:
        """Drop what the recognizer has learnt of the voice and the room, as if it were new."""

    def expect_answer(self, expected: bool) -> None:
        """Whether the next utterances are likely a yes or a no, to a question the assistant asked
        back; an engine that can lean its language towards those answers does, until told otherwise."""

    def transcribe(self, audio: Audio | np.ndarray) -> Transcript:
        """Recognize one whole utterance: an `Audio` of any rate, or float samples at 16 kHz."""
        if isinstance(audio, Audio):
            samples = resample(audio.samples, audio.rate, SPEECH_RATE)
        else:
            samples = np.asarray(audio, dtype=np.float32)
        self.reset()
        for start in range(0, len(samples), _TRANSCRIBE_BLOCK):
            self.accept(to_pcm16(samples[start : start + _TRANSCRIBE_BLOCK]))
        return self.final()

    def within(self, transcript: Transcript, start: float, end: float | None) -> Transcript:
        """The transcript without the words heard wholly before `start` or from `end` seconds on
        (after the speaker stopped: the noise of a room, other voices), when its words have times."""
        kept = [w for w in transcript.words if w.end > start and (end is None or w.start < end)]
        if not transcript.words or len(kept) == len(transcript.words):
            return transcript
        trimmed = self._transcript(kept)
        trimmed.open_text = transcript.open_text
        return trimmed

    def _transcript(self, words: list[Word], unknown: int = 0) -> Transcript:
        """A transcript of recognized words; `unknown` counts words heard but not recognized."""
        content = [w.text for w in words if w.text not in FUNCTION_WORDS]
        judged = len(content) + unknown
        in_domain = sum(w in self.vocabulary for w in content) / judged if self.vocabulary and judged else None
        confidence = _mean(w.confidence for w in words)
        hearing = "clear"
        if confidence is not None and words:
            hearing = "unheard" if confidence < self.heard_confidence else "unsure" if confidence < self.sure_confidence else "clear"
            if hearing == "clear" and self._certain(words, confidence):
                hearing = "certain"
        return Transcript(" ".join(w.text for w in words), confidence, words, in_domain, hearing=hearing)


    def _certain(self, words: list[Word], confidence: float) -> bool:
        if self.certain_confidence is None or confidence < self.certain_confidence:
            return False
        content = [w.confidence for w in words if w.text not in FUNCTION_WORDS]
        return bool(content) and all(c is not None and c >= self.certain_confidence for c in content)


# Words that frame any question, in or out of the domain; they say nothing about its topic.
FUNCTION_WORDS = frozenset(
    "a an the is are was were be been being am do does did done i i'm i've me my you your he he's "
    "his him she she's her it it's its they they're them their we our us what what's how why when "
    "where who which that this these those and or but if so of in on at to for from with about "
    "after before by can could will would should may might must there any some um uh just "
    "really like get got have has had not no yes please tell know"
    .split()
)  # fmt: skip


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None
