"""The guide as knowledge: a plain-text patient guide parsed into sections and FAQ entries.

Expected shape of a guide (UTF-8 text, one paragraph or heading per line):

* the first non-empty line is the title;
* a heading is a short line (at most 12 words) that does not end a sentence with "." or "!";
* every other line is a paragraph of the section above it (text before the first heading belongs
  to an introduction section headed by the title); a paragraph that repeats its heading at the
  start has that repetition removed;
* a heading reading "Frequently Asked Questions" (or "FAQ") starts the FAQ part: there, each line
  ending in "?" is a question and the lines after it, up to the next question, are its answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GuideError

_LOGGER = logging.getLogger(__name__)

_MAX_HEADING_WORDS = 12
_FAQ_HEADINGS = {"frequently asked questions", "faq", "faqs"}
# Abbreviations after which a period never ends a sentence (lowercase, final period removed).
_NEVER_FINAL = {"dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "vs", "e.g", "i.e", "approx", "no", "cf", "fig"}
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` in order, punctuation kept; line breaks always end a sentence.

    A ".", "!" or "?" followed by space ends a sentence unless the next word starts with a
    lowercase letter, the word before is an abbreviation such as "Dr." or "e.g.", or it is
    an initial ("J. Smith").
    """
    sentences: list[str] = []
    for line in text.splitlines():
        start = 0
        for match in _SENTENCE_END.finditer(line):
            following = line[match.end() : match.end() + 1]
            word = line[:match.start() + 1].rsplit(None, 1)[-1].lstrip("(\"'\u201c\u2018")
            is_initial = len(word) == 2 and word[0].isupper() and word[1] == "."
            if following.islower() or word.lower().rstrip(".") in _NEVER_FINAL or is_initial:
                continue
            sentences.append(line[start : match.end()].strip())
            start = match.end()
        sentences.append(line[start:].strip())
    return [s for s in sentences if any(c.isalnum() for c in s)]


@dataclass
class Section:
    """A titled part of the guide."""

    heading: str
    """The heading line as written in the guide."""
    paragraphs: list[str] = field(default_factory=list)
    """The section's paragraphs, in order."""

    @property
    def text(self) -> str:
        return " ".join(self.paragraphs)

    @property
    def sentences(self) -> list[str]:
        return [s for p in self.paragraphs for s in split_sentences(p)]


@dataclass
class FaqEntry:
    """One question of the guide's FAQ with its answer."""

    question: str
    """The question as written in the guide."""
    answer: str
    """The answer paragraphs joined by spaces."""


@dataclass
class Guide:
    """A parsed patient guide."""

    title: str
    """The guide's first line."""
    sections: list[Section]
    """Sections in order; the FAQ is not among them."""
    faq: list[FaqEntry]
    """FAQ entries in order (empty when the guide has no FAQ part)."""
    path: Path | None = None
    """Where the guide was read from, for messages."""

    def section(self, heading: str) -> Section | None:
        wanted = heading.casefold()
        return next((s for s in self.sections if s.heading.casefold() == wanted), None)

    @classmethod
    def from_text(cls, text: str, path: Path | None = None) -> Guide:
        lines = [_tidy(line) for line in text.splitlines()]
        lines = [line for line in lines if line]
        name = f"'{path}'" if path else "the guide"
        if not lines:
            raise GuideError(f"{name} is empty; give a guide with a title, headings and paragraphs")
        title, body = lines[0], lines[1:]
        sections = [Section(title)]
        faq: list[FaqEntry] = []
        in_faq = False
        for line in body:
            if in_faq:
                if line.endswith("?"):
                    faq.append(FaqEntry(line, ""))
                elif faq:
                    faq[-1].answer = f"{faq[-1].answer} {line}".strip()
                elif _is_heading(line):
                    in_faq = False
                    sections.append(Section(line))
                else:
                    raise GuideError(f"{name}: FAQ text before the first question: {line[:60]!r}")
            elif _is_heading(line):
                if line.casefold().rstrip(":") in _FAQ_HEADINGS:
                    in_faq = True
                else:
                    sections.append(Section(line))
            else:
                section = sections[-1]
                section.paragraphs.append(_strip_repeated_heading(line, section.heading))
        sections = [s for s in sections if s.paragraphs]
        if not sections:
            raise GuideError(f"{name} has headings but no paragraphs; nothing to answer from")
        unanswered = [e.question for e in faq if not e.answer]
        if unanswered:
            raise GuideError(f"{name}: FAQ question without an answer: {unanswered[0]!r}")
        _LOGGER.debug("guide %s: %d sections, %d FAQ entries", name, len(sections), len(faq))
        return cls(title=title, sections=sections, faq=faq, path=path)

    @classmethod
    def from_file(cls, path: Path) -> Guide:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError as err:
            raise GuideError(f"guide '{path}' not found; check the path (--guide)") from err
        except UnicodeDecodeError as err:
            raise GuideError(
                f"guide '{path}' is not UTF-8 text (byte {err.start}); save it as UTF-8"
            ) from err
        except OSError as err:
            raise GuideError(f"cannot read guide '{path}': {err.strerror}") from err
        return cls.from_text(text, Path(path))


def _tidy(line: str) -> str:
    # Typographic apostrophes are normalised so that sentences compare equal to overlay quotes.
    return " ".join(line.replace("\u2019", "'").replace("\u2018", "'").split())


def _is_heading(line: str) -> bool:
    return len(line.split()) <= _MAX_HEADING_WORDS and not line.endswith((".", "!"))


def _strip_repeated_heading(paragraph: str, heading: str) -> str:
    if paragraph.startswith(heading + " ") and paragraph[len(heading) + 1 :][:1].isupper():
        return paragraph[len(heading) + 1 :]
    return paragraph
