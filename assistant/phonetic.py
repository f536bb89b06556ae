"""Sound-alike keys for words, so that a medical word a recognizer heard as everyday words
("lucky pheresis", "new row logical", "limb foma") still finds the word meant.

A key keeps the consonants a listener hears, merges the ones recognizers swap (b/p, d/t, g/k, v/f,
z/s), and writes every vowel sound as one "a": "leukapheresis" and "luke a fear esis" both become
"lakafarasas".
"""

from __future__ import annotations

import re
from functools import lru_cache

# Said as letters, a single consonant is its name: "car t" sounds like "car tee".
_LETTER_NAMES = {
    "b": "bee", "c": "see", "d": "dee", "f": "eff", "g": "jee", "h": "aitch", "j": "jay", "k": "kay",
    "l": "el", "m": "em", "n": "en", "p": "pee", "q": "cue", "r": "ar", "s": "ess", "t": "tee",
    "v": "vee", "w": "doubleyou", "x": "ex", "z": "zee",
}  # fmt: skip

# Spellings of one sound, in the order they must be tried ("sch" before "ch", "ch" before "c").
_SPELLINGS = [
    (r"ph", "f"), (r"gh", ""), (r"ck", "k"), (r"sch", "sk"), (r"ch", "k"), (r"sh", "s"), (r"th", "t"),
    (r"qu", "kw"), (r"wh", "w"), (r"x", "ks"), (r"mb$", "m"), (r"c(?=[eiy])", "s"), (r"c", "k"),
    (r"g(?=[eiy])", "j"), (r"g", "k"), (r"d", "t"), (r"b", "p"), (r"v", "f"), (r"z", "s"),
    (r"(?<=[aeiouy])[wy]", ""), (r"h", ""), (r"[aeiouy]+", "a"),
]  # fmt: skip
_COMPILED = [(re.compile(pattern), sound) for pattern, sound in _SPELLINGS]
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=8192)
def word_key(word: str) -> str:
    """Sound-alike key of one lower-case word."""
    word = _LETTER_NAMES.get(word, word)
    if len(word) > 3 and word.endswith("e") and word[-2] not in "aeiouy":
        word = word[:-1]  # a silent final e: "luke", "kine"
    for pattern, sound in _COMPILED:
        word = pattern.sub(sound, word)
    return word


def key(words: list[str] | tuple[str, ...]) -> str:
    """Sound-alike key of words said one after another."""
    return _REPEATS.sub(r"\1", "".join(word_key(w) for w in words))
