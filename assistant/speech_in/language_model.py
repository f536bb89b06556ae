"""The domain language model for PocketSphinx: an ARPA back-off trigram model of the domain
phrases that backs off to general English words, and a dictionary of just its words.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import RecognizerError
from ..text import english_words, pronouncing_dictionary, spoken_words
from .pronounce import espeak_pronunciations, spelled_out

_LOGGER = logging.getLogger(__name__)

# Measured on the development questions (scripts/bench_speech_in.py): backing the domain
# trigrams off to this many general words, with most of the unigram floor given to them,
# halved the word error rate of a domain-only model and stopped most out-of-scope questions
# from coming out as domain words.
GENERAL_WORDS = 20000
GENERAL_WEIGHT = 0.95

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


_PLAIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


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


def write_domain_model(
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
    sentences = [words for words in map(spoken_words, phrases) if words]
    vocabulary = {w for words in sentences for w in words}
    bundled = pronouncing_dictionary()
    background = _general_english(ps, general_words) if general_words else {}
    missing = sorted(vocabulary - set(bundled))
    spoken = espeak_pronunciations(missing + [respellings[w] for w in missing if w in respellings])
    added: dict[str, list[list[str]]] = {}
    for word in missing:
        variants = [spoken.get(word), spoken.get(respellings.get(word, "")), spelled_out(word, bundled) if len(word) <= _MAX_SPELLED else None]
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


# Kept in the cache: models of the guides and settings used lately, not of every past version.
_CACHED_MODELS = 4
# What a cached model is made from besides its arguments: the code that writes it.
_MADE_BY = ("language_model.py", "pronounce.py", "../text.py")


def cached_domain_model(
    ps,
    phrases: Sequence[str],
    order: int,
    general_words: int,
    general_weight: float,
    respellings: Mapping[str, str],
    cache: Path,
) -> tuple[Path, Path, frozenset[str]]:
    """`write_domain_model`, kept in the `cache` folder under a key of all it is made from.

    Making the model takes about two seconds; the next start with the same guide reads it instead,
    so that listening can begin sooner. A cache that cannot be written is done without.
    """
    here = Path(__file__).parent
    made_by = hashlib.sha256(b"".join((here / name).read_bytes() for name in _MADE_BY)).hexdigest()
    inputs = [made_by, getattr(ps, "__version__", ""), list(phrases), order, general_words, general_weight, sorted(respellings.items())]
    target = cache / hashlib.sha256(json.dumps(inputs).encode("utf-8")).hexdigest()[:32]
    lm, dictionary, words = target / "domain.arpa", target / "domain.dict", target / "vocabulary.json"
    try:
        vocabulary = frozenset(json.loads(words.read_text(encoding="utf-8")))
        if lm.is_file() and dictionary.is_file():
            os.utime(target)  # the most recently used are the ones kept
            return lm, dictionary, vocabulary
    except (OSError, ValueError):
        pass
    try:
        cache.mkdir(parents=True, exist_ok=True)
        making = Path(tempfile.mkdtemp(prefix=".making-", dir=cache))
    except OSError as err:
        _LOGGER.info("language model not cached (%s)", err)
        making = Path(tempfile.mkdtemp(prefix="assistant-lm-"))
    made = write_domain_model(ps, phrases, order, general_words, general_weight, respellings, making)
    (making / "vocabulary.json").write_text(json.dumps(sorted(made[2])), encoding="utf-8")
    try:
        # Renamed whole, so that a model is never read half written.
        os.rename(making, target)
    except OSError:
        if not (lm.is_file() and dictionary.is_file() and words.is_file()):
            return made
        # Another start made the same model meanwhile: its copy is complete, this one goes.
        shutil.rmtree(making, ignore_errors=True)
    _prune(cache)
    return lm, dictionary, made[2]


_ABANDONED_S = 3600.0
"""A model still being made after this long was left by a start that ended halfway."""


def _prune(cache: Path) -> None:
    try:
        entries = [(p, p.stat().st_mtime) for p in cache.iterdir()]
    except OSError:
        return
    kept = sorted((e for e in entries if not e[0].name.startswith(".")), key=lambda e: e[1])
    abandoned = [e for e in entries if e[0].name.startswith(".making-") and time.time() - e[1] > _ABANDONED_S]
    for old, _ in kept[:-_CACHED_MODELS] + abandoned:
        shutil.rmtree(old, ignore_errors=True)
