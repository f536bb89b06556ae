"""Pronunciations from eSpeak NG, in the ARPAbet phones of CMUdict-style models, for words
the PocketSphinx dictionary lacks; and short words spelled out letter by letter.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from typing import Mapping, Sequence

_LOGGER = logging.getLogger(__name__)

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


def spelled_out(word: str, bundled: Mapping[str, list[str]]) -> list[str] | None:
    """The word read letter by letter ("crs" -> S IY AA R EH S), from the dictionary's letters."""
    phones: list[str] = []
    for letter in word:
        if letter not in bundled:
            return None
        phones += bundled[letter][0].split()[1:]
    return phones
