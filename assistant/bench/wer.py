"""Word error rate of a transcript against the question that was spoken."""

from __future__ import annotations

from typing import Sequence

from ..text import spoken_words

# Transcripts spell these as the recognizers do; the question sets spell them as patients write.
_SOUND_ALIKE = {("car", "tea"): ("car", "t"), ("cart",): ("car", "t")}


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation, sound-alike spellings as the recognizers spell them."""
    words = spoken_words(text)
    out: list[str] = []
    i = 0
    while i < len(words):
        for pattern, spelled in _SOUND_ALIKE.items():
            if tuple(words[i : i + len(pattern)]) == pattern:
                out += spelled
                i += len(pattern)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions, deletions and insertions that turn the reference into the hypothesis."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        diagonal, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref != hyp))
    return row[-1]
