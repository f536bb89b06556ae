"""Vosk (Kaldi) with an English model the user installs. Small models accept a runtime grammar
built from the domain phrases, which steers them toward the guide's vocabulary.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
import types
from pathlib import Path
from typing import Callable, Sequence

from ..audio import SPEECH_RATE
from ..errors import ModelError, RecognizerError
from ..text import spoken_words
from .transcript import Recognizer, Transcript, Word

_LOGGER = logging.getLogger(__name__)

_UNKNOWN = "[unk]"


def _import_vosk():
    # vosk's __init__ imports requests for its own model downloader, which the assistant never
    # calls (models come from `assistant models install`). Importing requests loads urllib3,
    # which opens an AF_INET6 socket to probe for IPv6: a placeholder keeps the network stack out.
    placeholder = None if "requests" in sys.modules else sys.modules.setdefault("requests", types.ModuleType("requests"))
    try:
        import vosk
    except ImportError:
        raise RecognizerError("Vosk is not installed; run: pip install vosk") from None
    finally:
        if placeholder is not None and sys.modules.get("requests") is placeholder:
            del sys.modules["requests"]
    # Kaldi's warnings (-1) and progress (0) would go straight to the user's terminal.
    vosk.SetLogLevel(0 if _LOGGER.isEnabledFor(logging.DEBUG) else -2)
    return vosk


@functools.lru_cache(maxsize=2)
def _load_vosk_model(path: Path):
    """A loaded Vosk model, shared by the recognizers made from the same folder."""
    from ..models import install_hint, usable_layout

    vosk = _import_vosk()
    layout = usable_layout(path)
    started = time.perf_counter()
    try:
        model = vosk.Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception when Kaldi rejects the files
        raise ModelError(f"Vosk could not load the model in '{path}' ({exc}); the files may be damaged: {install_hint()}") from None
    _LOGGER.debug("loaded Vosk model %s in %.2f s", path, time.perf_counter() - started)
    return model, layout.runtime_grammar


class _VoskStream:
    """One Kaldi recognizer and the words of the segments its own endpointing already closed."""

    def __init__(self, recognizer) -> None:
        self.recognizer = recognizer
        self.done: list[dict] = []

    def accept(self, pcm16: bytes) -> None:
        if self.recognizer.AcceptWaveform(pcm16):
            self.done += json.loads(self.recognizer.Result()).get("result", [])

    def partial(self) -> list[str]:
        return [w["word"] for w in self.done] + json.loads(self.recognizer.PartialResult())["partial"].split()

    def final(self) -> list[dict]:
        words = self.done + json.loads(self.recognizer.FinalResult()).get("result", [])
        self.done = []
        return words

    def reset(self) -> None:
        self.recognizer.Reset()
        self.done = []


class VoskRecognizer(Recognizer):
    """Vosk (Kaldi) with an installed model.

    With phrases and a model that takes runtime grammars (the small ones), the phrases, cut to
    the words the model knows, plus "[unk]" become the grammar. That grammar is a bigram model
    rather than a strict list, so it can still produce a confident phrase nobody said; words
    heard as "[unk]" count against `Transcript.in_domain`, and with `open_pass` a second
    recognizer on the same model decodes without the grammar and reports what it heard in
    `Transcript.open_text`. Large models, or `open_vocabulary`, decode freely with the model's
    own language model.
    """

    name = "vosk"

    def __init__(
        self,
        model_path: str | Path,
        phrases: Sequence[str] = (),
        open_vocabulary: bool = False,
        open_pass: bool = False,
    ):
        vosk = _import_vosk()
        model, takes_grammar = _load_vosk_model(Path(model_path).expanduser().resolve())
        known = functools.lru_cache(maxsize=None)(lambda w: model.vosk_model_find_word(w) != -1)
        self.vocabulary = frozenset(w for p in phrases for w in spoken_words(p) if known(w))
        self.grammar: list[str] | None = None
        if phrases and not open_vocabulary:
            if takes_grammar:
                self.grammar = _grammar(phrases, known)
            else:
                _LOGGER.info("the Vosk model in '%s' takes no runtime grammar; decoding with its own language model", model_path)
        try:
            if self.grammar is None:
                self._main = _VoskStream(vosk.KaldiRecognizer(model, SPEECH_RATE))
            else:
                grammar = json.dumps(self.grammar, ensure_ascii=False)
                self._main = _VoskStream(vosk.KaldiRecognizer(model, SPEECH_RATE, grammar))
            self._open = _VoskStream(vosk.KaldiRecognizer(model, SPEECH_RATE)) if open_pass and self.grammar else None
        except Exception as exc:  # vosk's own bare Exception
            raise RecognizerError(f"Vosk could not start a recognizer on '{model_path}' ({exc})") from None
        # Words come with times and confidences only when asked for; without, "result" is missing.
        for stream in (self._main, self._open):
            if stream:
                stream.recognizer.SetWords(True)
        self._fed = 0  # samples fed since the recognizer was made
        self._utterance_start = 0

    def accept(self, pcm16: bytes) -> None:
        self._fed += len(pcm16) // 2
        self._main.accept(pcm16)
        if self._open:
            self._open.accept(pcm16)

    def partial(self) -> str:
        return " ".join(w for w in self._main.partial() if w != _UNKNOWN)

    def final(self) -> Transcript:
        raw = self._main.final()
        # Vosk times words from the first sample it was ever given.
        offset = self._utterance_start / SPEECH_RATE
        self._utterance_start = self._fed
        words = [
            Word(w["word"], float(w.get("conf", 1.0)), float(w["start"]) - offset, float(w["end"]) - offset)
            for w in raw
            if w["word"] != _UNKNOWN
        ]
        transcript = self._transcript(words, unknown=len(raw) - len(words))
        if self._open:
            transcript.open_text = " ".join(w["word"] for w in self._open.final() if w["word"] != _UNKNOWN)
        return transcript

    def reset(self) -> None:
        self._main.reset()
        if self._open:
            self._open.reset()
        self._utterance_start = self._fed


def _grammar(phrases: Sequence[str], known: Callable[[str], bool]) -> list[str]:
    """Vosk grammar: each phrase cut to the model's words, once, plus "[unk]" when the model has it."""
    kept: dict[str, None] = {}
    dropped: set[str] = set()
    for phrase in phrases:
        words = spoken_words(phrase)
        dropped.update(w for w in words if not known(w))
        if text := " ".join(w for w in words if known(w)):
            kept.setdefault(text, None)
    if dropped:
        _LOGGER.info("words the Vosk model does not know, left out of its grammar: %s", ", ".join(sorted(dropped)))
    if not kept:
        raise RecognizerError(
            "the Vosk model knows none of the phrases' words; is it a model for the phrases' language?"
        )
    return list(kept) + ([_UNKNOWN] if known(_UNKNOWN) else [])
