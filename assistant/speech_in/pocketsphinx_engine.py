"""PocketSphinx, whose wheel carries a US English acoustic model and dictionary, so it works on
a fresh machine. It decodes with the domain model of `language_model.py`.
"""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path
from typing import Mapping, Sequence

from ..datafile import read_toml
from ..errors import RecognizerError
from ..resources import cache_dir, models_file
from ..text import spoken_words
from .language_model import GENERAL_WEIGHT, GENERAL_WORDS, cached_domain_model
from .transcript import Recognizer, Transcript, Word

_LOGGER = logging.getLogger(__name__)

_SPHINX_FILLERS = re.compile(r"^(<.*>|\[.*\])$")
ALTERNATIVES = 9
"""Alternatives kept beside the best transcript: the dialogue answers a topic from the first two
(dialogue.TOPIC_ALTERNATIVES) and checks back on a red-flag report in any of them."""
_NBEST_PATHS = 30
ANSWER_WEIGHT = 20
"""How many times each yes and no phrase counts in the language model used after a question back
(`expect_answer`). With the questions' model, short replies came out as the start of a question
("correct" as "can it", "no" as "what are"). On 12 yes and no replies in four voices (Piper at
150 and 200 words a minute, eSpeak NG US and RP) heard through RNNoise, replies taken as meant went
from 39 to 45 of 48 in quiet, 19 to 33 in babble at 20 dB and 7 to 13 at 10 dB; on 11 other replies,
not used to choose the weight, 24 to 31, 13 to 14 and 5 to 7. None was taken as its opposite,
as some were with 50 and 100."""
_ANSWER_SEARCH = "answers"
_KEYS = {"decoder": {"cmninit": str, "lw": float, "wip": float}, "hearing": {"sure": float, "heard": float, "certain": float}}


def decoder_settings(path: Path | None = None, table: str = "decoder") -> dict[str, object]:
    """A table of models/pocketsphinx.toml (schema in that file): "decoder" options or "hearing" levels."""
    path = path or models_file("pocketsphinx.toml")
    values = read_toml(path, RecognizerError, "PocketSphinx settings", "restore it from the package").get(table, {})
    known = _KEYS[table]
    settings: dict[str, object] = {}
    for key, value in values.items():
        kind = known.get(key)
        if kind is None:
            raise RecognizerError(f"'{path}': unknown [{table}] key {key!r}; known: {', '.join(known)}")
        if not isinstance(value, (int, float) if kind is float else kind) or isinstance(value, bool):
            raise RecognizerError(f"'{path}': [{table}] {key} = {value!r} must be a {kind.__name__}")
        settings[key] = kind(value)
    return settings


def _import_pocketsphinx():
    try:
        import pocketsphinx
    except ImportError:
        raise RecognizerError("PocketSphinx is not installed; run: pip install pocketsphinx") from None
    return pocketsphinx


class PocketSphinxRecognizer(Recognizer):
    """PocketSphinx with its bundled US English acoustic model and dictionary.

    By default it decodes with a trigram model of the phrases that backs off to the
    `general_words` most frequent words of general English: the domain's questions are
    favoured, other speech still comes out as the ordinary words it is rather than as forced
    domain words. `respellings` say how words are pronounced that the bundled dictionary lacks
    ("chimeric" -> "kai-merric"). With `open_vocabulary`, or without phrases, it uses the
    bundled general English model, which has never heard of most of the guide's medical words.
    """

    name = "pocketsphinx"

    def __init__(
        self,
        phrases: Sequence[str] = (),
        open_vocabulary: bool = False,
        general_words: int = GENERAL_WORDS,
        general_weight: float = GENERAL_WEIGHT,
        respellings: Mapping[str, str] | None = None,
        order: int = 3,
        cache: Path | None = None,
        alternatives: int = ALTERNATIVES,
        answers: Sequence[str] = (),
    ):
        """`cache`: where the domain models are kept between starts (default: in the user's cache
        folder); `alternatives`: how many a transcript carries (0: no N-best search); `answers`:
        the yes and no phrases among `phrases`, weighed up in a second model for `expect_answer`."""
        self._alternatives_wanted = alternatives
        ps = _import_pocketsphinx()
        quiet = not _LOGGER.isEnabledFor(logging.DEBUG)
        # Live mean normalisation adapts as audio streams in; the model's default, batch,
        # needs the whole utterance before it can decode.
        options = {"loglevel": "FATAL" if quiet else "INFO", "cmn": "live", **decoder_settings()}
        try:
            if open_vocabulary or not phrases:
                self._decoder = ps.Decoder(**options)
                self.vocabulary = frozenset(w for p in phrases for w in spoken_words(p))
            else:
                self._made = lambda said: cached_domain_model(
                    ps, said, order, general_words, general_weight, respellings or {}, (cache or cache_dir()) / "pocketsphinx"
                )
                lm, dictionary, self.vocabulary = self._made(phrases)
                self._decoder = ps.Decoder(lm=str(lm), dict=str(dictionary), **options)
        except (RuntimeError, ValueError) as exc:
            raise RecognizerError(
                f"PocketSphinx could not start ({exc}); reinstall it: pip install --force-reinstall pocketsphinx"
            ) from None
        hearing = decoder_settings(table="hearing")
        self.sure_confidence = hearing.get("sure", 0.0)
        self.heard_confidence = hearing.get("heard", 0.0)
        self.certain_confidence = hearing.get("certain")
        self._frame_seconds = 1.0 / self._decoder.config["frate"]
        # The model for answers is made at the first question back: made at start-up, it took a first
        # start from about 1.5 to 1.9 s before listening.
        self._answers_said = [*phrases, *list(answers) * ANSWER_WEIGHT] if answers and phrases and not open_vocabulary else None
        self._answers_ready = False
        self._expecting = False
        self._started = False
        self._start_mean = self._decoder.get_cmn(False)

    def pronunciations(self, word: str) -> list[str]:
        """The phone strings the recognizer listens for when `word` is said; empty if it cannot produce it."""
        found = []
        while phones := self._decoder.lookup_word(word if not found else f"{word}({len(found) + 1})"):
            found.append(phones)
        return found

    def accept(self, pcm16: bytes) -> None:
        if not self._started:
            self._decoder.start_utt()
            self._started = True
        self._decoder.process_raw(pcm16)

    def partial(self) -> str:
        hyp = self._decoder.hyp() if self._started else None
        return " ".join(self._clean(hyp.hypstr)) if hyp else ""

    def final(self) -> Transcript:
        if not self._started:
            return Transcript("")
        self._decoder.end_utt()
        self._started = False
        hyp = self._decoder.hyp()
        if hyp is None:
            return Transcript("")
        words = [
            Word(
                self._clean(seg.word)[0],
                min(max(seg.prob, 0.0), 1.0),
                seg.start_frame * self._frame_seconds,
                (seg.end_frame + 1) * self._frame_seconds,
            )
            for seg in self._decoder.seg()
            if self._clean(seg.word)
        ]
        transcript = self._transcript(words)
        transcript.alternatives = self._alternatives(transcript.text)
        return transcript

    def _alternatives(self, best: str) -> list[str]:
        """Up to `alternatives` other transcripts from the N-best list of the utterance just ended.
        Most of its paths differ from the best only in fillers or in which pronunciation of a word
        was heard, so up to _NBEST_PATHS are read to find them."""
        found: list[str] = []
        if not self._alternatives_wanted:
            return found
        for hypothesis in itertools.islice(self._decoder.nbest(), _NBEST_PATHS):
            if hypothesis is None:
                # The N-best iterator can give None instead of a path (seen in a soak of the
                # hands-free loop, where it ended the listener); the other paths still count.
                continue
            words = " ".join(self._clean(hypothesis.hypstr))
            if words and words != best and words not in found:
                found.append(words)
                if len(found) == self._alternatives_wanted:
                    break
        return found

    def reset(self) -> None:
        if self._started:
            self._decoder.end_utt()
            self._started = False

    def expect_answer(self, expected: bool) -> None:
        if self._answers_said is None or expected == self._expecting:
            return
        self.reset()
        if expected and not self._answers_ready:
            try:
                # The same words, so the same dictionary: only their likelihoods differ.
                self._decoder.add_lm_file(_ANSWER_SEARCH, str(self._made(self._answers_said)[0]))
            except (RecognizerError, RuntimeError, ValueError, OSError) as err:
                _LOGGER.warning("listening for yes or no with the questions' model: %s", err)
                self._answers_said = None
                return
            self._answers_ready = True
        self._decoder.activate_search(_ANSWER_SEARCH if expected else None)
        self._expecting = expected

    def forget(self) -> None:
        # Live mean normalisation learns the voice and the room over the utterances heard.
        self.reset()
        self._decoder.set_cmn(self._start_mean)

    @staticmethod
    def _clean(hypstr: str) -> list[str]:
        """Words without fillers and alternate-pronunciation markers ("read(2)")."""
        return [re.sub(r"\(\d+\)$", "", w) for w in hypstr.split() if not _SPHINX_FILLERS.match(w)]
