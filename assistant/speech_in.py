"""Speech-in stage: 16 kHz mono speech in, partial and final text out.

Two recognizer engines share one small streaming interface (`Recognizer`):

* Vosk (Kaldi) with an English model the user installs; small models accept a runtime
  grammar built from the domain phrases, which steers them toward the guide's vocabulary.
* PocketSphinx, whose wheel carries a US English acoustic model and dictionary, so it works on
  a fresh machine. It gets a trigram model of the domain phrases, built here, that backs off to
  general English words; words missing from its dictionary get pronunciations from eSpeak NG.

A domain-constrained recognizer tends to hear everything as domain words. Each transcript
therefore carries the engine's confidence and the share of its content words that belong to
the domain vocabulary (`Transcript.in_domain`), and Vosk, whose grammar cannot back off to
general English, can add what a second pass without the grammar heard (`Transcript.open_text`),
for the caller to judge what was really asked.

When the user has stopped talking is decided in `endpoint.py`.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import shutil
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .audio import SPEECH_RATE, Audio, resample, to_pcm16
from .errors import InputError, ModelError, RecognizerError
from .matching import english_words

_LOGGER = logging.getLogger(__name__)

ENGINES = ("auto", "vosk", "pocketsphinx")
_TRANSCRIBE_BLOCK = SPEECH_RATE // 10
# Measured on the development questions (scripts/bench_speech_in.py): backing the domain
# trigrams off to this many general words, with most of the unigram floor given to them,
# halved the word error rate of a domain-only model and stopped most out-of-scope questions
# from coming out as domain words.
GENERAL_WORDS = 20000
GENERAL_WEIGHT = 0.95

# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


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

    def _transcript(self, words: list[Word], unknown: int = 0) -> Transcript:
        """A transcript of recognized words; `unknown` counts words heard but not recognized."""
        content = [w.text for w in words if w.text not in FUNCTION_WORDS]
        judged = len(content) + unknown
        in_domain = sum(w in self.vocabulary for w in content) / judged if self.vocabulary and judged else None
        return Transcript(" ".join(w.text for w in words), _mean(w.confidence for w in words), words, in_domain)


# Words that frame any question, in or out of the domain; they say nothing about its topic.
FUNCTION_WORDS = frozenset(
    "a an the is are was were be been being am do does did done i i'm i've me my you your he he's "
    "his him she she's her it it's its they they're them their we our us what what's how why when "
    "where who which that this these those and or but if so of in on at to for from with about "
    "after before by can could will would should may might must there any some um uh just "
    "really like get got have has had not no yes please tell know"
    .split()
)  # fmt: skip


def words_of(text: str) -> list[str]:
    """Lower-case words of a text as recognizers spell them: "CAR T-cells?" -> ["car", "t", "cells"]."""
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower().replace("\u2019", "'"))


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


# ---------------------------------------------------------------------------
# Pronunciations from eSpeak NG, in the ARPAbet phones of CMUdict-style models
# ---------------------------------------------------------------------------

# eSpeak NG's en-us IPA, matched longest first. Diphthongs and affricates are single phones
# in ARPAbet; eSpeak's r-coloured and syllabic units are split into two.
_IPA_TO_ARPABET = {
    "aɪə": "AY AH", "aɪɚ": "AY ER", "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY",
    "iə": "IY AH", "tʃ": "CH", "dʒ": "JH", "n̩": "AH N", "l̩": "AH L", "m̩": "AH M",
    "iː": "IY", "i": "IY", "ɪ": "IH", "ᵻ": "IH", "ɨ": "IH", "ɛ": "EH", "e": "EH", "æ": "AE", "a": "AE",
    "ɑː": "AA", "ɑ": "AA", "ɒ": "AA", "ɔː": "AO", "ɔ": "AO", "oː": "AO", "o": "OW", "ʊ": "UH",
    "uː": "UW", "u": "UW", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɚ": "ER", "ɝ": "ER", "ɜː": "ER", "ɜ": "ER",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M", "n": "N",
    "ŋ": "NG", "l": "L", "ɫ": "L", "ɹ": "R", "r": "R", "j": "Y", "w": "W",
    # American flaps and glottal stops stand for /t/ in the spellings that produce them.
    "ɾ": "T", "ʔ": "T", "x": "K", "ç": "HH",
}  # fmt: skip
_IPA_UNITS = sorted(_IPA_TO_ARPABET, key=len, reverse=True)
_IPA_IGNORED = set("ˈˌː\u200d\u0361 ")


def ipa_to_arpabet(ipa: str) -> list[str]:
    """ARPAbet phones for an eSpeak NG en-us IPA string; symbols outside the table are skipped."""
    phones: list[str] = []
    pos = 0
    while pos < len(ipa):
        if ipa[pos] in _IPA_IGNORED:
            pos += 1
            continue
        unit = next((u for u in _IPA_UNITS if ipa.startswith(u, pos)), None)
        if unit is None:
            _LOGGER.debug("no ARPAbet phone for %r in %r", ipa[pos], ipa)
            pos += 1
            continue
        for phone in _IPA_TO_ARPABET[unit].split():
            # eSpeak writes the R of "ɑːɹ" or "ɚ" again before a following vowel; one is spoken.
            if not (phones and (phone == phones[-1] or (phone == "R" and phones[-1] == "ER"))):
                phones.append(phone)
        pos += len(unit)
    return phones


def espeak_pronunciations(words: Sequence[str]) -> dict[str, list[str]]:
    """ARPAbet pronunciations by eSpeak NG's en-us rules of words, or of short texts read as one
    word ("I V"); empty when eSpeak NG is missing."""
    words = [w for w in dict.fromkeys(words) if w.strip()]
    executable = shutil.which("espeak-ng")
    if not words:
        return {}
    if executable is None:
        _LOGGER.warning("eSpeak NG is not installed; %d words without a pronunciation are left out", len(words))
        return {}
    try:
        # One word per line comes back as one line of space-separated phonemes per word.
        result = subprocess.run(
            [executable, "-q", "-v", "en-us", "--ipa", "--sep= "],
            input="\n".join(words) + "\n",
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        _LOGGER.warning("eSpeak NG failed (%s); %d words without a pronunciation are left out", exc, len(words))
        return {}
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if len(lines) != len(words):
        _LOGGER.warning("eSpeak NG returned %d lines for %d words; pronunciations skipped", len(lines), len(words))
        return {}
    return {word: phones for word, line in zip(words, lines) if (phones := ipa_to_arpabet(line))}


def _spelled(word: str, bundled: Mapping[str, list[str]]) -> list[str] | None:
    """The word read letter by letter ("crs" -> S IY AA R EH S), from the dictionary's letters."""
    phones: list[str] = []
    for letter in word:
        if letter not in bundled:
            return None
        phones += bundled[letter][0].split()[1:]
    return phones


# ---------------------------------------------------------------------------
# A domain language model in ARPA format
# ---------------------------------------------------------------------------

_ARPA_FLOOR = -99.0


def build_arpa(
    sentences: Iterable[Sequence[str]],
    order: int = 3,
    background: Mapping[str, float] | None = None,
    background_weight: float = 0.0,
) -> str:
    """An ARPA back-off n-gram model of word sequences, with interpolated absolute discounting.

    Each order subtracts a discount D (from its counts of counts) from every seen n-gram and
    gives the freed mass to the next lower order. Unigrams give theirs to a mix of a uniform
    distribution over the sentences' words and, with `background_weight` of it, the `background`
    word probabilities (general English), so that words no sentence contains stay possible.
    With interpolation the ARPA back-off weight of a context is exactly its freed mass.
    """
    if order < 1:
        raise ValueError("order must be at least 1")
    counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order + 1)]
    for sentence in sentences:
        tokens = ["<s>", *sentence, "</s>"]
        for n in range(1, order + 1):
            for i in range(len(tokens) - n + 1):
                gram = tuple(tokens[i : i + n])
                if gram != ("<s>",):
                    counts[n][gram] += 1
    if not counts[1]:
        raise ValueError("no sentences to build a language model from")
    domain = {g[0] for g in counts[1]}
    background = {w: p for w, p in (background or {}).items() if p > 0 and w != "<s>"}
    background_total = sum(background.values())
    if not background:
        background_weight = 0.0

    def discount(n: int) -> float:
        cc = Counter(counts[n].values())
        n1, n2 = cc.get(1, 0), cc.get(2, 0)
        return min(max(n1 / (n1 + 2 * n2), 0.1), 0.9) if n1 else 0.5

    # Context totals and distinct followers per order.
    totals: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order + 1)]
    followers: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order + 1)]
    for n in range(1, order + 1):
        for gram, c in counts[n].items():
            totals[n][gram[:-1]] += c
            followers[n][gram[:-1]] += 1

    probs: list[dict[tuple[str, ...], float]] = [{} for _ in range(order + 1)]
    backoffs: list[dict[tuple[str, ...], float]] = [{} for _ in range(order + 1)]

    d1 = discount(1)
    total1, types1 = totals[1][()], followers[1][()]
    freed = d1 * types1 / total1
    for word in domain | set(background):
        floor = (1.0 - background_weight) / len(domain) if word in domain else 0.0
        floor += background_weight * background.get(word, 0.0) / background_total if background else 0.0
        probs[1][(word,)] = max(counts[1].get((word,), 0) - d1, 0.0) / total1 + freed * floor

    def lower(gram: tuple[str, ...]) -> float:
        """Full (backed-off) probability of a gram's last word given its shortened context."""
        sub = gram[1:]
        weight = 1.0
        while sub not in probs[len(sub)]:
            weight *= backoffs[len(sub) - 1].get(sub[:-1], 1.0)
            sub = sub[1:]
        return weight * probs[len(sub)][sub]

    for n in range(2, order + 1):
        d = discount(n)
        for gram, c in counts[n].items():
            context = gram[:-1]
            gamma = d * followers[n][context] / totals[n][context]
            probs[n][gram] = (c - d) / totals[n][context] + gamma * lower(gram)
        for context, total in totals[n].items():
            backoffs[n - 1][context] = d * followers[n][context] / total

    lines = ["\\data\\"]
    lines += [f"ngram {n}={len(probs[n]) + (1 if n == 1 else 0)}" for n in range(1, order + 1)]
    for n in range(1, order + 1):
        lines += ["", f"\\{n}-grams:"]
        if n == 1:
            lines.append(f"{_ARPA_FLOOR:.4f}\t<s>\t{math.log10(backoffs[1].get(('<s>',), 1.0)):.4f}")
        for gram in sorted(probs[n]):
            entry = f"{math.log10(probs[n][gram]):.4f}\t{' '.join(gram)}"
            if n < order and gram in backoffs[n]:
                entry += f"\t{math.log10(backoffs[n][gram]):.4f}"
            lines.append(entry)
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# PocketSphinx
# ---------------------------------------------------------------------------

_SPHINX_FILLERS = re.compile(r"^(<.*>|\[.*\])$")


def _import_pocketsphinx():
    try:
        import pocketsphinx
    except ImportError:
        raise RecognizerError("PocketSphinx is not installed; run: pip install pocketsphinx") from None
    return pocketsphinx


_DICT_ENTRY = re.compile(r"^([^ (]+)(?:\(\d+\))? .*$", re.M)
_PLAIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _bundled_pronunciations(ps) -> dict[str, list[str]]:
    """The bundled dictionary: word -> its lines ("word(2) PH ONES" for alternates)."""
    entries: dict[str, list[str]] = defaultdict(list)
    text = Path(ps.get_model_path("en-us/cmudict-en-us.dict")).read_text(encoding="utf-8")
    for match in _DICT_ENTRY.finditer(text):
        entries[match[1]].append(match[0])
    return entries


@functools.cache
def _general_english(ps, count: int) -> dict[str, float]:
    """The `count` most probable plain words of the bundled general English model, with
    probabilities. Scoring every dictionary word takes about half a second: once per process is
    enough for the recognizer of questions and the one that listens for "stop"."""
    decoder = ps.Decoder(lm=None, dict=None, loglevel="FATAL")
    model = ps.NGramModel(decoder.config, decoder.logmath, ps.get_model_path("en-us/en-us.lm.bin"))
    prob = model.prob
    scored = sorted(((prob([w]), w) for w in english_words() if _PLAIN_WORD.fullmatch(w)), reverse=True)
    return {w: decoder.logmath.exp(score) for score, w in scored[:count]}


# Unknown words this short are usually abbreviations said letter by letter ("CRS", "IV").
_MAX_SPELLED = 3


def _write_domain_model(
    ps,
    phrases: Sequence[str],
    order: int,
    general_words: int,
    general_weight: float,
    respellings: Mapping[str, str],
    folder: Path,
) -> tuple[Path, Path, frozenset[str]]:
    """Write a language model of the phrases and a dictionary of just its words into a folder.

    Words the bundled dictionary lacks are pronounced by eSpeak NG, both as written and as
    respelled in `respellings` ("chimeric" -> "kai-merric"), and letter by letter when short.
    A dictionary limited to the model's words keeps start-up fast: with the full bundled
    dictionary PocketSphinx takes about a second to load even a small language model.
    """
    sentences = [words for words in map(words_of, phrases) if words]
    vocabulary = {w for words in sentences for w in words}
    bundled = _bundled_pronunciations(ps)
    background = _general_english(ps, general_words) if general_words else {}
    missing = sorted(vocabulary - set(bundled))
    spoken = espeak_pronunciations(missing + [respellings[w] for w in missing if w in respellings])
    added: dict[str, list[list[str]]] = {}
    for word in missing:
        variants = [spoken.get(word), spoken.get(respellings.get(word, "")), _spelled(word, bundled) if len(word) <= _MAX_SPELLED else None]
        if variants := [v for i, v in enumerate(variants) if v and v not in variants[:i]]:
            added[word] = variants
    _LOGGER.debug("pronunciations of words missing from the dictionary: %s", added)
    unknown = vocabulary - set(bundled) - set(added)
    if unknown:
        _LOGGER.info("left out of the language model, no pronunciation: %s", ", ".join(sorted(unknown)))
        sentences = [kept for words in sentences if (kept := [w for w in words if w not in unknown])]
        vocabulary -= unknown
    if not sentences:
        raise RecognizerError("no phrase has a pronounceable English word; give the recognizer English phrases")
    entries = [line for w in sorted((vocabulary | set(background)) - set(added)) for line in bundled[w]]
    for word, variants in added.items():
        entries += [f"{word}{f'({i})' if i > 1 else ''} {' '.join(phones)}" for i, phones in enumerate(variants, 1)]
    lm = folder / "domain.arpa"
    lm.write_text(build_arpa(sentences, order, background, general_weight), encoding="utf-8")
    dictionary = folder / "domain.dict"
    dictionary.write_text("\n".join(entries) + "\n", encoding="utf-8")
    return lm, dictionary, frozenset(vocabulary)


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
    ):
        ps = _import_pocketsphinx()
        quiet = not _LOGGER.isEnabledFor(logging.DEBUG)
        # Live mean normalisation adapts as audio streams in; the model's default, batch,
        # needs the whole utterance before it can decode.
        options = {"loglevel": "FATAL" if quiet else "INFO", "cmn": "live"}
        try:
            if open_vocabulary or not phrases:
                self._decoder = ps.Decoder(**options)
                self.vocabulary = frozenset(w for p in phrases for w in words_of(p))
            else:
                with tempfile.TemporaryDirectory() as folder:
                    lm, dictionary, self.vocabulary = _write_domain_model(
                        ps, phrases, order, general_words, general_weight, respellings or {}, Path(folder)
                    )
                    self._decoder = ps.Decoder(lm=str(lm), dict=str(dictionary), **options)
        except (RuntimeError, ValueError) as exc:
            raise RecognizerError(
                f"PocketSphinx could not start ({exc}); reinstall it: pip install --force-reinstall pocketsphinx"
            ) from None
        self._frame_seconds = 1.0 / self._decoder.config["frate"]
        self._started = False

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
        return self._transcript(words)

    def reset(self) -> None:
        if self._started:
            self._decoder.end_utt()
            self._started = False

    @staticmethod
    def _clean(hypstr: str) -> list[str]:
        """Words without fillers and alternate-pronunciation markers ("read(2)")."""
        return [re.sub(r"\(\d+\)$", "", w) for w in hypstr.split() if not _SPHINX_FILLERS.match(w)]


# ---------------------------------------------------------------------------
# Vosk
# ---------------------------------------------------------------------------

_UNKNOWN = "[unk]"


def _import_vosk():
    try:
        import vosk
    except ImportError:
        raise RecognizerError("Vosk is not installed; run: pip install vosk") from None
    # Kaldi's warnings (-1) and progress (0) would go straight to the user's terminal.
    vosk.SetLogLevel(0 if _LOGGER.isEnabledFor(logging.DEBUG) else -2)
    return vosk


@functools.lru_cache(maxsize=2)
def _load_vosk_model(path: Path):
    """A loaded Vosk model, shared by the recognizers made from the same folder."""
    from .models import install_hint, usable_layout

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
        self.vocabulary = frozenset(w for p in phrases for w in words_of(p) if known(w))
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
        words = words_of(phrase)
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


# ---------------------------------------------------------------------------
# Choosing an engine
# ---------------------------------------------------------------------------


def make_recognizer(
    engine: str = "auto",
    phrases: Sequence[str] = (),
    model_path: str | Path | None = None,
    open_vocabulary: bool = False,
) -> Recognizer:
    """The recognizer for an engine name: "vosk", "pocketsphinx", or "auto".

    "auto" takes Vosk when an English Vosk model is installed (or `model_path` names one) and
    PocketSphinx otherwise, saying once how to install the better model. A Vosk recognizer with
    a grammar also runs the open pass (`Transcript.open_text`); PocketSphinx needs none, as its
    domain model already backs off to general English.
    """
    from .models import find_model, install_hint

    if engine not in ENGINES:
        raise InputError(f"unknown speech recognizer {engine!r}; use one of: {', '.join(ENGINES)}")
    if engine != "pocketsphinx":
        path = find_model(model_path)
        if path is not None:
            return VoskRecognizer(path, phrases, open_vocabulary=open_vocabulary, open_pass=True)
        if engine == "vosk":
            raise ModelError(f"no English Vosk model is installed; {install_hint()}")
        _LOGGER.info("recognizing speech with PocketSphinx; for better recognition %s", install_hint())
    return PocketSphinxRecognizer(phrases, open_vocabulary=open_vocabulary, respellings=lexicon_respellings())


def lexicon_respellings() -> dict[str, str]:
    """One-word forms of the pronunciation lexicon (intents/pronunciation.yaml) -> how they are said."""
    from .speech_out import default_lexicon

    return {
        words[0]: entry.say
        for entry in default_lexicon().entries
        for form in entry.written
        if len(words := words_of(form)) == 1
    }
