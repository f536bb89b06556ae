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


def pronouncing_dictionary() -> dict[str, list[str]]:
    """The US English pronouncing dictionary inside the pocketsphinx package: word -> its lines
    ("word PH ONES", and "word(2) PH ONES" for alternates); empty when pocketsphinx is not
    installed. Raises OSError when the file cannot be read.

    Not cached: the table takes about 30 MB, and only building a PocketSphinx model needs it.
    """
    spec = importlib.util.find_spec("pocketsphinx")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(spec.submodule_search_locations[0]) / "model" / "en-us" / "cmudict-en-us.dict"
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
    try:
        return frozenset(pronouncing_dictionary())
    except OSError as exc:
        _LOGGER.warning("no English word list (%s); typo correction may change ordinary words", exc)
        return frozenset()
