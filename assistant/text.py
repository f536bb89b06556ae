"""Words of a text: splitting text into words, finding phrases among them, and the everyday
English words of the pronouncing dictionary inside the pocketsphinx package.

Text is split into words two ways, on purpose:

* `plain_words`, for matching questions to the guide, commands and red flags: apostrophes are
  dropped and hyphens split, so "can't", "cant" and "can t" typed or heard all meet as "cant".
* `spoken_words`, for the speech recognizers: words spelled as their dictionaries and grammars
  spell them, apostrophes kept ("i'm", "what's"), letters of any script kept ("병원에").
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPOKEN_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def plain_words(text: str) -> list[str]:
    """Lower-case words of a text, apostrophes dropped ("can't" -> "cant"), hyphens split."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    return [w.replace("'", "") for w in _NON_WORD.sub(" ", text).split() if w.replace("'", "")]


def spoken_words(text: str) -> list[str]:
    """Lower-case words of a text as recognizers spell them: "CAR T-cells?" -> ["car", "t", "cells"]."""
    return _SPOKEN_WORD.findall(text.lower().replace("\u2019", "'"))


def find_phrases(tokens: list[str], phrases) -> list[tuple[int, tuple[str, ...]]]:
    """Where each of the phrases (word tuples) stands in tokens: (start, phrase) pairs in order."""
    return sorted(
        (i, phrase)
        for phrase in phrases
        for i in range(len(tokens) - len(phrase) + 1)
        if tuple(tokens[i : i + len(phrase)]) == phrase
    )


def _dictionary_path() -> Path | None:
    """The US English pronouncing dictionary inside the pocketsphinx package; None without it."""
    spec = importlib.util.find_spec("pocketsphinx")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "model" / "en-us" / "cmudict-en-us.dict"


def pronouncing_dictionary() -> dict[str, list[str]]:
    """The US English pronouncing dictionary inside the pocketsphinx package: word -> its lines
    ("word PH ONES", and "word(2) PH ONES" for alternates); empty when pocketsphinx is not
    installed. Raises OSError when the file cannot be read.

    Not cached: the table takes about 30 MB, and only building a PocketSphinx model needs it.
    """
    path = _dictionary_path()
    if path is None:
        return {}
    entries: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            line = line.rstrip("\n")
            entries[line.split(" ", 1)[0].split("(")[0]].append(line)
    return dict(entries)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Everyday English words, from the pronouncing dictionary inside the pocketsphinx package.

    Read when a text holds a word the guide lacks (the overlay's uncovered topics do, so in practice
    at start-up); a word found here is never "corrected"."""
    path = _dictionary_path()
    if path is None:
        return frozenset()
    try:
        # Only the words, not the whole table: 0.08 s instead of 0.34 s, at every start.
        with path.open(encoding="utf-8") as lines:
            return frozenset(line.split(" ", 1)[0].split("(")[0] for line in lines)
    except OSError as exc:
        _LOGGER.warning("no English word list (%s); typo correction may change ordinary words", exc)
        return frozenset()


_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+")
_UNITS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine".split())} | {"oh": 0, "o": 0}
_TEENS = {w: n + 10 for n, w in enumerate("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (n + 2) for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}


def numbers(text: str) -> list[tuple[int, float]]:
    """Numbers written in digits or said in words, each with the index of its first token among
    the text's words and numbers: "a hundred and one point five" -> 101.5, "one oh two" -> 102,
    "thirty nine point four" -> 39.4, "39,4" -> 39.4. Recognizers write numbers in words."""
    tokens = _NUMBER_TOKEN.findall(text.lower())
    found: list[tuple[int, float]] = []
    i = 0
    while i < len(tokens):
        value, used = _number_at(tokens, i)
        if used:
            found.append((i, value))
            i += used
        else:
            i += 1
    return found


def _number_at(tokens: list[str], i: int) -> tuple[float, int]:
    """The number starting at tokens[i] and how many tokens it takes (0 when none starts there)."""
    if tokens[i][0].isdigit():
        return float(tokens[i].replace(",", ".")), 1
    j, value = i, 0
    if tokens[j] in ("a", "one") and j + 1 < len(tokens) and tokens[j + 1] == "hundred":
        j += 1
    if tokens[j] == "hundred":
        value, j = 100, j + 1
        if j < len(tokens) and tokens[j] == "and":
            j += 1
    elif tokens[j] in _UNITS and tokens[j] not in ("oh", "o") and j + 2 < len(tokens) and tokens[j + 1] in ("oh", "o"):
        # "one oh two": a hundred and two, as temperatures are often said.
        if tokens[j + 2] in _UNITS:
            return float(100 * _UNITS[tokens[j]] + _UNITS[tokens[j + 2]]), 3
    rest, used = _below_hundred(tokens, j)
    if not used and value == 0:
        return 0.0, 0
    if not used and j > i + 1 and tokens[j - 1] == "and":
        j -= 1  # "a hundred and ..." followed by no number: the "and" is not part of it
    value, j = value + rest, j + used
    if j + 1 < len(tokens) and tokens[j] == "point" and tokens[j + 1] in _UNITS:
        value, j = value + _UNITS[tokens[j + 1]] / 10, j + 2
    return float(value), j - i


def _below_hundred(tokens: list[str], j: int) -> tuple[int, int]:
    if j >= len(tokens):
        return 0, 0
    word = tokens[j]
    if word in _TENS:
        if j + 1 < len(tokens) and tokens[j + 1] in _UNITS and tokens[j + 1] not in ("zero", "oh", "o"):
            return _TENS[word] + _UNITS[tokens[j + 1]], 2
        return _TENS[word], 1
    if word in _TEENS:
        return _TEENS[word], 1
    if word in _UNITS and word not in ("oh", "o"):
        return _UNITS[word], 1
    return 0, 0
