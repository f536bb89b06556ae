"""The pronunciation lexicon (intents/pronunciation.yaml): respellings that make answers sound right.

Speech output gives the engines the respelled text; speech input takes the one-word respellings
as pronunciations of words the recognizer's dictionary lacks.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import datafile, resources
from .errors import OverlayError, SpeechError
from .settings import ENGINES
from .text import spoken_words

LEXICON_FILE = resources.intents_file("pronunciation.yaml")


@dataclass(frozen=True)
class LexiconEntry:
    """One respelling: written forms (or a pattern) and what the engines are given instead."""

    say: str
    """The respelling; in pattern entries, \\1, \\2 ... insert the pattern's groups."""
    written: tuple[str, ...] = ()
    """Literal forms as written in answers, matched as whole words."""
    pattern: str | None = None
    """A regular expression instead of literal forms (numbers, units)."""
    engines: dict[str, str] = field(default_factory=dict)
    """Per-engine respellings that override `say`, keyed by engine name."""
    ignore_case: bool = False
    """Match the written forms in any capitalisation."""

    def spoken(self, engine: str) -> str:
        """The respelling for one engine."""
        return self.engines.get(engine, self.say)


_ENTRY_KEYS = {"written", "pattern", "say", "engines", "ignore_case", "note"}


class Lexicon:
    """Respellings applied to text before synthesis.

    File schema (YAML, documented with examples at the top of intents/pronunciation.yaml)::

        version: 1
        entries:
          - written: CAR T          # a literal form, or a list of forms, matched as whole words,
                                    # case-sensitively; the longest matching form wins
            say: car tee            # the respelling the engine is given
            engines: {piper: ...}   # optional per-engine respellings (pyttsx3, piper);
                                    # Piper also takes IPA phonemes between [[ and ]]
            ignore_case: false      # optional
            note: ...               # optional, free text
          - pattern: '(\\d) ?- ?(\\d)'  # instead of written: a regular expression, applied
            say: \\1 to \\2             # after all written forms; \\1 ... insert its groups

    Every entry needs `say` and exactly one of `written` / `pattern`; unknown keys, empty
    forms, forms written twice, invalid patterns and unknown engine names are errors.
    """

    def __init__(self, entries: list[LexiconEntry]):
        self.entries = entries
        self._forms: dict[str, LexiconEntry] = {}
        self._folded: dict[str, LexiconEntry] = {}
        alternatives = []
        for entry in entries:
            for form in entry.written:
                if entry.ignore_case:
                    self._folded[form.casefold()] = entry
                else:
                    self._forms[form] = entry
                alternatives.append((form, entry.ignore_case))
        # Longest first, so "CAR T" wins over "CAR" at the same position.
        alternatives.sort(key=lambda item: -len(item[0]))
        self._literal = (
            re.compile("|".join(_whole_word(form, ignore_case) for form, ignore_case in alternatives))
            if alternatives
            else None
        )
        self._patterns = [(re.compile(e.pattern), e) for e in entries if e.pattern is not None]

    @classmethod
    def from_dict(cls, data: object, source: str = "lexicon") -> Lexicon:
        """A lexicon from parsed YAML; `source` names the file in error messages."""

        def fail(where: str, problem: str) -> SpeechError:
            return SpeechError(f"{source}: {where}: {problem}; see the schema at the top of the file")

        if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("entries"), list):
            raise fail("top level", "expected 'version: 1' and a list of 'entries'")
        entries: list[LexiconEntry] = []
        seen: list[tuple[str, bool, int]] = []
        for number, raw in enumerate(data["entries"], start=1):
            line = getattr(raw, "line", None)
            where = f"entry {number}" + (f" (line {line})" if line else "")
            if not isinstance(raw, dict):
                raise fail(where, "each entry must be a mapping with 'say' and 'written' or 'pattern'")
            unknown = set(raw) - _ENTRY_KEYS
            if unknown:
                raise fail(where, f"unknown keys {sorted(unknown)}; known keys: {sorted(_ENTRY_KEYS)}")
            say = raw.get("say")
            if not isinstance(say, str) or not say.strip():
                raise fail(where, "'say' must be a non-empty text")
            if ("written" in raw) == ("pattern" in raw):
                raise fail(where, "give exactly one of 'written' and 'pattern'")
            written = raw.get("written", [])
            written = [written] if isinstance(written, str) else written
            if not isinstance(written, list) or not all(isinstance(w, str) and w.strip() for w in written):
                raise fail(where, "'written' must be a non-empty text or a list of them")
            if "written" in raw and not written:
                raise fail(where, "'written' lists no forms")
            # The data-file reader keeps YAML booleans as text, so both spellings are accepted.
            ignore_case = str(raw.get("ignore_case", False)).lower()
            if ignore_case not in ("true", "false"):
                raise fail(where, "'ignore_case' must be true or false")
            ignore_case = ignore_case == "true"
            for form in written:
                clash = next((n for f, i, n in seen if f == form or (i or ignore_case) and f.casefold() == form.casefold()), None)
                if clash is not None:
                    raise fail(where, f"{form!r} is already respelled by entry {clash}")
                seen.append((form, ignore_case, number))
            pattern = raw.get("pattern")
            if pattern is not None:
                try:
                    groups = re.compile(pattern).groups
                except (re.error, TypeError) as err:
                    raise fail(where, f"invalid pattern {pattern!r}: {err}") from None
                used = [int(ref) for ref in re.findall(r"\\(\d+)", say)]
                if any(ref > groups for ref in used):
                    raise fail(where, f"'say' refers to group \\{max(used)} but the pattern has {groups} groups")
            engines = raw.get("engines", {})
            if not isinstance(engines, dict) or not all(isinstance(v, str) and v.strip() for v in engines.values()):
                raise fail(where, "'engines' must map engine names to respellings")
            if set(engines) - set(ENGINES):
                raise fail(where, f"unknown engines {sorted(set(engines) - set(ENGINES))}; use {', '.join(ENGINES)}")
            entries.append(
                LexiconEntry(
                    say=say.strip(),
                    written=tuple(form.strip() for form in written),
                    pattern=pattern,
                    engines={k: v.strip() for k, v in engines.items()},
                    ignore_case=ignore_case,
                )
            )
        return cls(entries)

    @classmethod
    def from_file(cls, path: Path = LEXICON_FILE) -> Lexicon:
        """The lexicon in a YAML file (schema in the class docstring)."""
        try:
            data = datafile.load(Path(path))
        except OverlayError as err:
            raise SpeechError(str(err)) from err
        return cls.from_dict(data, source=str(path))

    def apply(self, text: str, engine: str) -> str:
        """`text` with every written form and pattern respelled for `engine`."""
        if self._literal is not None:
            text = self._literal.sub(lambda m: _padded(m, self._entry_for(m.group()).spoken(engine)), text)
        for pattern, entry in self._patterns:
            text = pattern.sub(lambda m, e=entry: _padded(m, m.expand(e.spoken(engine))), text)
        return " ".join(text.split())

    def _entry_for(self, form: str) -> LexiconEntry:
        return self._forms.get(form) or self._folded[form.casefold()]


def _whole_word(form: str, ignore_case: bool) -> str:
    # A form's ends that are letters or digits must not continue a longer word;
    # ends that are symbols ("°F", "e.g.") may touch anything.
    left = r"(?<!\w)" if form[0].isalnum() else ""
    right = r"(?!\w)" if form[-1].isalnum() else ""
    body = re.escape(form)
    return f"{left}(?i:{body}){right}" if ignore_case else f"{left}{body}{right}"


def _padded(match: re.Match[str], spoken: str) -> str:
    # "100.4°F" becomes "100.4 degrees Fahrenheit", not "100.4degrees".
    before = match.string[match.start() - 1 : match.start()]
    after = match.string[match.end() : match.end() + 1]
    prefix = " " if before.isalnum() and spoken[:1].isalnum() else ""
    suffix = " " if after.isalnum() and spoken[-1:].isalnum() else ""
    return f"{prefix}{spoken}{suffix}"


@functools.cache
def default_lexicon() -> Lexicon:
    """The project's lexicon, intents/pronunciation.yaml, loaded once."""
    return Lexicon.from_file(LEXICON_FILE)


def lexicon_respellings() -> dict[str, str]:
    """One-word forms of the pronunciation lexicon (intents/pronunciation.yaml) -> how they are said."""
    return {
        words[0]: entry.say
        for entry in default_lexicon().entries
        for form in entry.written
        if len(words := spoken_words(form)) == 1
    }
