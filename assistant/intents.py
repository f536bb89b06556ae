"""Intents built from the guide: one per section, one per FAQ question, plus the overlay's finer topics.

The guide alone gives usable intents (heading or question as the sample, the first sentences as the
answer); the curated overlay (schema in intents/overlay.yaml) adds names, phrasings, short spoken
answers and finer topics anchored to sentences of a section.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import datafile
from .errors import OverlayError
from .knowledge import Guide, Section, split_sentences
from .resources import intents_file
from .text import plain_words

_LOGGER = logging.getLogger(__name__)

GUIDE_FILE = intents_file("car-t-guide.txt")
OVERLAY_FILE = intents_file("overlay.yaml")
LANGUAGE_FILE = intents_file("language.yaml")

MAX_ANSWER_WORDS = 60
FAQ_SOURCE = "Frequently Asked Questions"
LEADING_SEEN = 3
"""Times a word must appear in the phrases before the word after it is taken as a habit (`leading_words`)."""
LEADING_SHARE = 0.9
"""Share of a word's appearances followed by one same word that makes it lead on (`leading_words`)."""


@dataclass
class Intent:
    """Something a patient can ask about, with its answers."""

    id: str
    """Stable kebab-case id (the heading or question for intents derived from the guide)."""
    name: str
    """How the topic is named aloud, e.g. in "Do you mean X or Y?"."""
    source: str
    """Heading of the guide section the answer comes from."""
    answer: str
    """Short spoken answer (at most MAX_ANSWER_WORDS words)."""
    passage: str
    """Longer text from the guide, read on "tell me more"."""
    samples: list[str] = field(default_factory=list)
    """Ways of asking for it."""
    parent: str | None = None
    """Id of the section intent a finer topic belongs to."""

    @property
    def guide_only(self) -> bool:
        """Whether the guide's own heading or question is its only way of asking: no overlay wrote
        any, so its passage is all there is to match a question with."""
        return len(self.samples) <= 1


@dataclass
class Vocabulary:
    """Word mappings applied to questions before matching."""

    heard_as: dict[str, str] = field(default_factory=dict)
    """Misheard phrase -> the phrase meant."""
    synonyms: dict[str, str] = field(default_factory=dict)
    """Patient's word or phrase -> the guide's word."""


@dataclass
class Language:
    """Everyday English for matching (schema in intents/language.yaml)."""

    stopwords: frozenset[str] = frozenset()
    """Words that never tell topics apart."""
    context_words: frozenset[str] = frozenset()
    """Words that refer back to the previous topic."""
    stems: dict[str, str] = field(default_factory=dict)
    """Word -> stem, where the stemmer's own stem would merge words that differ here."""

    @classmethod
    def from_file(cls, path: Path = LANGUAGE_FILE) -> Language:
        data = datafile.load(path)
        datafile.check_keys(data, {"stopwords", "context_words", "stems"}, path)
        stems = data.get("stems", {})
        if not isinstance(stems, dict) or not all(isinstance(v, str) for v in stems.values()):
            raise datafile.fail(path, data.key_lines.get("stems", 1), "'stems' must map words to stems")
        return cls(
            stopwords=frozenset(w.lower() for w in _texts(data, "stopwords", path)),
            context_words=frozenset(w.lower() for w in _texts(data, "context_words", path)),
            stems=dict(stems),
        )


@dataclass
class IntentSet:
    """All intents of a guide, with the vocabulary and the known out-of-scope questions."""

    guide: Guide
    intents: dict[str, Intent]
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    out_of_scope: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    language: Language = field(default_factory=Language)

    def __getitem__(self, intent_id: str) -> Intent:
        return self.intents[intent_id]

    def __iter__(self):
        return iter(self.intents.values())

    def __len__(self) -> int:
        return len(self.intents)

    def phrases(self) -> list[str]:
        """Every sample phrasing and question: the domain language for a speech recognizer."""
        seen: dict[str, None] = {}
        for intent in self:
            for sample in intent.samples:
                seen.setdefault(sample.lower(), None)
        return list(seen)

    @functools.cached_property
    def leading_words(self) -> frozenset[str]:
        """Words that the phrases nearly always go on from with one same word: "car" (t), "side"
        (effects), "kind" (of), "antigen" (receptor). Words heard so far that end in one are
        not a whole question yet, whatever the guide is about."""
        seen: Counter[str] = Counter()
        followers: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for phrase in self.phrases():
            words = plain_words(phrase)
            seen.update(words)
            for word, after in zip(words, words[1:]):
                followers[word][after] += 1
        return frozenset(
            word
            for word, after in followers.items()
            if seen[word] >= LEADING_SEEN and after.most_common(1)[0][1] >= LEADING_SHARE * seen[word]
        )


def slug(text: str) -> str:
    """Kebab-case id of a heading or question."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def load_intents(guide_path: Path | None = None, overlay_path: Path | None = None) -> IntentSet:
    """Intents of the guide, refined by the overlay (the bundled ones by default).

    Passing a guide without an overlay path uses no overlay: an overlay belongs to its guide.
    """
    if guide_path is None:
        guide_path = GUIDE_FILE
        overlay_path = overlay_path or OVERLAY_FILE
    guide = Guide.from_file(guide_path)
    intent_set = from_guide(guide)
    intent_set.language = Language.from_file()
    if overlay_path is not None:
        apply_overlay(intent_set, datafile.load(overlay_path), Path(overlay_path))
    return intent_set


def from_guide(guide: Guide) -> IntentSet:
    """Intents derived from the guide alone."""
    intents: dict[str, Intent] = {}
    for section in guide.sections:
        intent = Intent(
            id=slug(section.heading),
            name=section.heading,
            source=section.heading,
            answer=_first_words(section.sentences),
            passage=section.text,
            samples=[section.heading],
        )
        intents[intent.id] = intent
    for entry in guide.faq:
        intent = Intent(
            id=slug(entry.question),
            name=entry.question.rstrip("?"),
            source=FAQ_SOURCE,
            answer=_first_words(split_sentences(entry.answer)),
            passage=entry.answer,
            samples=[entry.question],
        )
        intents[intent.id] = intent
    return IntentSet(guide=guide, intents=intents)


def apply_overlay(intent_set: IntentSet, overlay: datafile.Mapping, path: Path) -> None:
    """Refine intent_set in place with a loaded overlay; every mistake names path:line."""
    datafile.check_keys(overlay, {"intents", "vocabulary", "out_of_scope", "not_covered"}, path)
    entries = overlay.get("intents", datafile.Mapping())
    if not isinstance(entries, dict):
        raise datafile.fail(path, overlay.key_lines["intents"], "'intents' must be a mapping of ids")
    for intent_id, entry in entries.items():
        line = entries.key_lines[intent_id]
        if not isinstance(entry, dict):
            raise datafile.fail(path, line, f"intent {intent_id!r} must be a mapping")
        datafile.check_keys(entry, {"name", "section", "passage", "answer", "samples"}, path)
        if intent_id in intent_set.intents:
            intent = intent_set.intents[intent_id]
            if "section" in entry or "passage" in entry:
                raise datafile.fail(
                    path, line, f"{intent_id!r} comes from the guide; 'section' and 'passage' are only for new topics"
                )
        else:
            intent = _new_topic(intent_set.guide, intent_id, entry, path, line)
            intent_set.intents[intent_id] = intent
        if "name" in entry:
            intent.name = _text(entry, "name", path)
        if "answer" in entry:
            intent.answer = " ".join(_text(entry, "answer", path).split())
            words = len(intent.answer.split())
            if words > MAX_ANSWER_WORDS:
                raise datafile.fail(
                    path, entry.key_lines["answer"],
                    f"answer of {intent_id!r} has {words} words; keep spoken answers to {MAX_ANSWER_WORDS}",
                )
        intent.samples.extend(_texts(entry, "samples", path))
    intent_set.vocabulary = _vocabulary(overlay.get("vocabulary"), path, overlay)
    intent_set.out_of_scope = _texts(overlay, "out_of_scope", path)
    intent_set.not_covered = _texts(overlay, "not_covered", path)
    _LOGGER.debug("overlay %s: %d intents in all", path, len(intent_set))


def _new_topic(guide: Guide, intent_id: str, entry: datafile.Mapping, path: Path, line: int) -> Intent:
    if "section" not in entry:
        raise datafile.fail(
            path, line,
            f"intent {intent_id!r} is neither a section nor an FAQ question of '{guide.path}'; "
            "give it a 'section' and a 'passage', or fix the id",
        )
    heading = _text(entry, "section", path)
    section = guide.section(heading)
    if section is None:
        known = "; ".join(s.heading for s in guide.sections)
        raise datafile.fail(path, entry.key_lines["section"], f"no section {heading!r} in the guide; sections: {known}")
    passage = [_find_sentence(section, start, path, entry) for start in _texts(entry, "passage", path)]
    if not passage:
        raise datafile.fail(path, line, f"intent {intent_id!r} needs a 'passage' from section {heading!r}")
    if "answer" not in entry:
        raise datafile.fail(path, line, f"intent {intent_id!r} needs a short spoken 'answer'")
    return Intent(
        id=intent_id,
        name=intent_id.replace("-", " "),
        source=section.heading,
        answer="",
        passage=" ".join(dict.fromkeys(passage)),
        parent=slug(section.heading),
    )


def _find_sentence(section: Section, start: str, path: Path, entry: datafile.Mapping) -> str:
    for sentence in section.sentences:
        if sentence.startswith(start):
            return sentence
    raise datafile.fail(
        path, entry.key_lines["passage"],
        f"no sentence of section {section.heading!r} starts with {start!r}; quote the guide exactly",
    )


def _vocabulary(node: object, path: Path, parent: datafile.Mapping) -> Vocabulary:
    vocabulary = Vocabulary()
    if node is None:
        return vocabulary
    if not isinstance(node, dict):
        raise datafile.fail(path, parent.key_lines["vocabulary"], "'vocabulary' must be a mapping")
    datafile.check_keys(node, {"heard_as", "synonyms"}, path)
    for key, target in (("heard_as", vocabulary.heard_as), ("synonyms", vocabulary.synonyms)):
        table = node.get(key, {})
        if not isinstance(table, dict):
            raise datafile.fail(path, node.key_lines[key], f"'{key}' must map a word to a list of words")
        for meant, variants in table.items():
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                raise datafile.fail(path, table.key_lines[meant], f"{key} of {meant!r} must be a list of text")
            for variant in variants:
                target[variant.lower()] = meant.lower()
    return vocabulary


def _text(mapping: datafile.Mapping, key: str, path: Path) -> str:
    value = mapping[key]
    if not isinstance(value, str) or not value.strip():
        raise datafile.fail(path, mapping.key_lines[key], f"{key!r} must be non-empty text")
    return value.strip()


def _texts(mapping: datafile.Mapping, key: str, path: Path) -> list[str]:
    value = mapping.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise datafile.fail(path, mapping.key_lines[key], f"{key!r} must be a list of non-empty text")
    return [v.strip() for v in value]


def _first_words(sentences: list[str]) -> str:
    """The first sentences that fit in a short spoken answer (at least one sentence)."""
    answer: list[str] = []
    for sentence in sentences:
        if answer and len(" ".join(answer + [sentence]).split()) > MAX_ANSWER_WORDS:
            break
        answer.append(sentence)
    if not answer:
        raise OverlayError("cannot derive an answer from an empty passage")
    return " ".join(answer)
