"""Matching a question to an intent, with a confidence, or to nothing when the guide has no answer.

Each intent is a bag of weighted word stems (its samples weigh most, its passage less). A question's
score against an intent blends how much of the question the intent explains (coverage, weighted by
how rare each word is among intents) with how well it fits the intent's closest sample. Words the
guide never uses count against every intent, so "how do I fix my car" finds nothing.
"""

from __future__ import annotations

import difflib
import heapq
import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

from . import phonetic
from .intents import IntentSet
from .text import english_words, find_phrases, plain_words

_LOGGER = logging.getLogger(__name__)

SAMPLE_WEIGHT = 1.0
NAME_WEIGHT = 0.8
PASSAGE_WEIGHT = 0.35
SECTION_PASSAGE_WEIGHT = 0.3
GUIDE_ONLY_PASSAGE_WEIGHT = 0.9
"""The passage weight of a topic with no written samples (`Intent.guide_only`). At 0.3 a question
matched only by a section's own sentences could never reach the threshold, so a guide without an
overlay declined nearly everything: "what shoes should I bring to hospital" of the hip guide's
"Bring loose clothes and flat shoes to the hospital". Chosen with GUIDE_ONLY_SURE on the CAR-T
guide without its overlay and on the hip guide, with their questions in tests/data: right answers
28.8% and 26.9% of the in-scope questions became 44.2% and 34.6%, and about a third are asked back."""
GUIDE_ONLY_SURE = 0.6
"""The score from which a guide-only topic is answered; between the threshold and it, the topic is
asked back. A passage speaks for its topic less precisely than written samples do. On the same
questions, answering from the threshold on gave 16 wrong answers of 108, 8 of them to 30
out-of-scope questions. From this score on it gave 5 wrong, 2 to out-of-scope questions. Before
the weight was raised it was 5 and 4."""
PARENT_WEIGHT = 0.5
FRAME_WEIGHT = 0.5
COVERAGE_SHARE = 0.8
FUZZY_CUTOFF = 0.82
FUZZY_MIN_LENGTH = 7
SOUND_ALIKE_CUTOFF = 0.9
SOUND_ALIKE_MIN_KEY = 5
SOUND_ALIKE_MAX_WORDS = 4
SOUND_ALIKE_MIN_TERM = 8
UNKNOWN_WEIGHT = 0.6
SURE_THRESHOLD = 0.45
"""From this score on a match is answered; between the threshold and this it is asked back."""
CLEAR_QUESTION = 0.95
"""A question with "it" or "that" that scores this well by itself (it is nearly one of the samples)
is answered for itself; below this, the previous topic is taken into account."""
OUT_OF_SCOPE = "<out-of-scope>"
_READ_CACHE_SIZE = 20_000

_stemmer = snowballstemmer.stemmer("english")
_SENTENCE_BREAK = re.compile(r"(?<=[.?!])\s+")
QUESTION_WORDS = frozenset("what whats how why when where which who is are can could does do will would should".split())
LONG_MESSAGE = 16
"""A message of this many words or more without sentence breaks is searched for the question inside it."""


@dataclass
class Match:
    """The result of matching one question."""

    intent: str | None
    """Best intent id, or None when the guide does not answer the question."""
    confidence: float
    """Score of the best intent, in [0, 1]."""
    alternative: str | None = None
    """A second intent nearly as good, when the question is a close call between two topics."""
    tokens: list[str] = field(default_factory=list)
    """The question's content stems, for debugging."""
    out_of_scope: bool = False
    """True when the question names a topic the guide does not cover or is closest to a known
    out-of-scope question ("how much does it cost"); not for words that name nothing ("my wife")."""
    sure: bool = True
    """False when the intent is only likely: it is asked back ("Did you ask about ...?") before it is answered."""
    evidence: float = 0.0
    """How much of the question speaks for the intent: the summed weight of its words the intent
    knows. Garbled speech made of frame words ("how does that how it") has little."""
    wording: float = 0.0
    """How much of the question is worded as the intent's closest sample: the words (frame words
    too) they share over the words of both. "what is car t therapy" is one of its topic's samples
    (1.0); "i have car t", which scores as well on the one word that tells, is 0.43 of "what is car t"."""
    support: float = 0.0
    """How much of the evidence lies beyond its strongest word. A topic resting on one word has
    none: in babble, "what of low for what will it the" (for "how well does car t work for most
    patients") rests on "low", of low blood counts; "what does car t cell therapy they need" (for
    "... mean") on "need", of conditioning chemotherapy, since "car t" is in every topic."""

    @property
    def content_words(self) -> int:
        """How many different content stems the question has: one may be all that is left of a
        longer question heard through noise."""
        return len(set(self.tokens))


class Matcher:
    """Scores questions against an IntentSet."""

    def __init__(
        self, intent_set: IntentSet, threshold: float = 0.45, margin: float = 0.025, sure_threshold: float = SURE_THRESHOLD
    ) -> None:
        self.intent_set = intent_set
        self.threshold = threshold
        self.margin = margin
        self.sure_threshold = max(sure_threshold, threshold)
        # The same samples and passages are stemmed for bags, samples and guide stems, and a question
        # is matched and then its wording compared: normalizing each text once is enough.
        self._read: dict[str, tuple[list[str], list[str]]] = {}
        self._language = intent_set.language
        # Keyed by their words as a question is split into them ("car t's" -> "car ts"), or never found.
        self._heard_as = {" ".join(plain_words(heard)): meant for heard, meant in intent_set.vocabulary.heard_as.items()}
        self._heard_phrases = _Phrases.of(self._heard_as)
        synonyms = {" ".join(plain_words(variant)): meant for variant, meant in intent_set.vocabulary.synonyms.items()}
        self._synonyms = {
            self._stem(variant): self._stem(meant.split()[-1])
            for variant, meant in synonyms.items()
            if len(variant.split()) == 1
        }
        self._phrase_synonyms = _Phrases.of({v: m for v, m in synonyms.items() if len(v.split()) > 1})
        self._known_words = self._collect_known_words()
        self._guide_words = {w for intent in intent_set for w in plain_words(intent.passage + " " + intent.name)}
        self._sound_alikes = self._collect_sound_alikes()
        self._uncovered = {tuple(self.stems(topic)) for topic in intent_set.not_covered} - {()}
        self._bags: dict[str, dict[str, float]] = {}
        self._samples: dict[str, list[set[str]]] = {}
        self._sample_words: dict[str, list[set[str]]] = {}
        for intent in intent_set:
            passage_weight = (
                GUIDE_ONLY_PASSAGE_WEIGHT if intent.guide_only else PASSAGE_WEIGHT if intent.parent else SECTION_PASSAGE_WEIGHT
            )
            # A finer topic is also an instance of its section ("is bleeding a side effect").
            inherited = intent_set[intent.parent].samples if intent.parent else []
            self._add_bag(
                intent.id,
                [(passage_weight, intent.passage), (NAME_WEIGHT, intent.name)]
                + [(PARENT_WEIGHT, sample) for sample in inherited]
                + [(SAMPLE_WEIGHT, sample) for sample in intent.samples],
            )
            self._samples[intent.id] = [set(stems) for s in intent.samples if (stems := self.stems(s))]
        # Known out-of-scope questions compete as one pseudo-intent: its words ("cost", "insurance")
        # become informative, and a question closest to it is answered with "not in my guide".
        self._add_bag(OUT_OF_SCOPE, [(SAMPLE_WEIGHT, q) for q in intent_set.out_of_scope])
        self._samples[OUT_OF_SCOPE] = [set(stems) for q in intent_set.out_of_scope if (stems := self.stems(q))]
        df: dict[str, int] = defaultdict(int)
        for bag in self._bags.values():
            for stem in bag:
                df[stem] += 1
        n = len(self._bags)
        # Words in nearly every intent ("car", "cell", "therapy") weigh close to nothing, and words
        # only the phrasings use ("normal", "feel") frame a question rather than name its topic.
        self._guide_stems = {s for intent in intent_set for s in self.stems(intent.passage) + self.stems(intent.source)}
        self._idf = {
            stem: math.log((n + 1) / count) * (1.0 if stem in self._guide_stems else FRAME_WEIGHT)
            for stem, count in df.items()
        }
        self._unknown_idf = UNKNOWN_WEIGHT * math.log(n + 1)

    def _add_bag(self, key: str, weighted_texts: list[tuple[float, str]]) -> None:
        bag: dict[str, float] = defaultdict(float)
        for weight, text in weighted_texts:
            for stem in self.stems(text):
                bag[stem] = max(bag[stem], weight)
        self._bags[key] = dict(bag)

    def _collect_known_words(self) -> frozenset[str]:
        texts = [i.passage for i in self.intent_set] + [s for i in self.intent_set for s in i.samples]
        texts += list(self.intent_set.out_of_scope)
        texts += [i.name for i in self.intent_set] + list(self._heard_as.values())
        texts += list(self.intent_set.vocabulary.synonyms) + list(self.intent_set.vocabulary.synonyms.values())
        return frozenset(w for text in texts for w in plain_words(text)) - self._language.stopwords

    def _collect_sound_alikes(self) -> dict[str, dict[str, str]]:
        """The guide's long words and the phrases recognizers mishear, by sound-alike key, grouped
        by the key's first sound."""
        terms = {w for w in self._guide_words if len(w) >= SOUND_ALIKE_MIN_TERM} | set(self._heard_as.values())
        table: dict[str, dict[str, str]] = defaultdict(dict)
        for term in sorted(terms):
            sound = phonetic.key(term.split())
            if len(sound) >= SOUND_ALIKE_MIN_KEY:
                table[sound[0]][sound] = term
        return table

    def normalize(self, text: str) -> list[str]:
        """Lower-case words of a question: misheard phrases replaced, split words rejoined, typos
        corrected, words that together sound like a guide word replaced by it, then multi-word
        synonyms replaced by the guide's words."""
        heard = self._heard_phrases.replace(plain_words(text))
        corrected = [self._correct(w) for w in self._join_split_words(heard)]
        return self._phrase_synonyms.replace(self._replace_sound_alikes(corrected))

    def _replace_sound_alikes(self, tokens: list[str]) -> list[str]:
        """Replace runs of two to four words that sound like one of the guide's words ("new row
        logical" -> "neurological"). A run made only of the guide's own words is left alone, and
        so is one that starts or ends with a small word ("if it comes" is not "outcomes")."""
        stopwords = self._language.stopwords
        out: list[str] = []
        i = 0
        while i < len(tokens):
            found = [
                (ratio, size, term)
                for size in range(2, min(SOUND_ALIKE_MAX_WORDS, len(tokens) - i) + 1)
                if not {tokens[i], tokens[i + size - 1]} & stopwords
                and not self._guide_words.issuperset(tokens[i : i + size])
                for ratio, term in [self._sounds_like(tuple(tokens[i : i + size]))]
                if term
            ]
            if found:
                _, size, term = max(found)
                _LOGGER.debug("%r sounds like %r", " ".join(tokens[i : i + size]), term)
                out.extend(term.split())
                i += size
            else:
                out.append(tokens[i])
                i += 1
        return out

    def _sounds_like(self, run: tuple[str, ...]) -> tuple[float, str | None]:
        """The guide word a run of words sounds most like, with how alike they sound."""
        sound = phonetic.key(run)
        candidates = self._sound_alikes.get(sound[:1], {})
        exact = candidates.get(sound)
        if exact and exact.split() != list(run):
            return 1.0, exact
        # Everyday words must sound exactly like a guide word; a run with a word no dictionary
        # knows ("luke a fear esis") may sound only nearly like it.
        if len(sound) < SOUND_ALIKE_MIN_KEY or not any(map(self._is_unknown, run)):
            return 0.0, None
        best, best_ratio = None, SOUND_ALIKE_CUTOFF
        for term_sound, term in candidates.items():
            if abs(len(term_sound) - len(sound)) <= 2:
                ratio = difflib.SequenceMatcher(None, sound, term_sound).ratio()
                if ratio >= best_ratio:
                    best, best_ratio = term, ratio
        return best_ratio, best

    def stems(self, text: str) -> list[str]:
        """Content stems of a text, in order, with synonyms mapped to the guide's words."""
        return list(self._reading(text)[1])

    def _reading(self, text: str) -> tuple[list[str], list[str]]:
        """A text's normalized words and its content stems."""
        cached = self._read.get(text)
        if cached is None:
            if len(self._read) > _READ_CACHE_SIZE:
                self._read.clear()
            words = self.normalize(text)
            stems = (self._stem(w) for w in words if w not in self._language.stopwords)
            cached = self._read[text] = (words, [self._synonyms.get(s, s) for s in stems])
        return cached

    def _stem(self, word: str) -> str:
        return self._language.stems.get(word) or _stem(word)

    def _is_unknown(self, word: str) -> bool:
        """A word neither the guide nor everyday English knows: likely a typo or a split word."""
        return (
            word not in self._known_words
            and word not in self._language.stopwords
            and not word.isdigit()
            and word not in english_words()
        )

    def _correct(self, word: str) -> str:
        if len(word) < FUZZY_MIN_LENGTH or not self._is_unknown(word):
            return word
        return _closest(word, self._known_words)

    def _join_split_words(self, tokens: list[str]) -> list[str]:
        """Rejoin a word a recognizer split in two ("leuka pheresis") when the join is close to a known word."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            pair = tokens[i : i + 2]
            if len(pair) == 2 and len(pair[0] + pair[1]) >= FUZZY_MIN_LENGTH and any(map(self._is_unknown, pair)):
                joined = _closest(pair[0] + pair[1], self._known_words)
                if joined in self._known_words:
                    out.append(joined)
                    i += 2
                    continue
            out.append(tokens[i])
            i += 1
        return out

    def scores(self, stems: list[str]) -> dict[str, float]:
        """Score in [0, 1] of every intent (and of the out-of-scope pseudo-intent) for a question's stems."""
        weights = self._weights(stems)
        total = sum(weights.values())
        if not total:
            return {}
        result: dict[str, float] = {}
        for key, bag in self._bags.items():
            coverage = sum(w * bag.get(s, 0.0) for s, w in weights.items()) / total
            # The two nearest samples, not one: a topic many phrasings lead to wins a tie.
            nearest = heapq.nlargest(2, (self._fit(weights, sample) for sample in self._samples[key]))
            fit = sum(nearest) / 2
            result[key] = COVERAGE_SHARE * coverage + (1 - COVERAGE_SHARE) * fit
        return result

    def _weights(self, stems: list[str]) -> dict[str, float]:
        """Weight of each distinct stem. Words no intent knows share a mass that grows with the square
        root of their number: one such word ("cost") outweighs a topic, but the many words of a
        rambling question ("my brother was told last week...") do not drown the topic they carry."""
        distinct = set(stems)
        unknown = [s for s in distinct if s not in self._idf]
        unknown_weight = self._unknown_idf / math.sqrt(len(unknown)) if unknown else 0.0
        return {s: self._idf.get(s, unknown_weight) for s in distinct}

    def _fit(self, weights: dict[str, float], sample: set[str]) -> float:
        """Weighted overlap of a question and a sample relative to their union (a weighted Jaccard)."""
        shared = sum(w for s, w in weights.items() if s in sample)
        union = sum(weights.values()) + sum(self._idf.get(s, 0.0) for s in sample if s not in weights)
        return shared / union if union else 0.0

    def nearest_sample(self, question: str) -> float:
        """How close a question comes to the nearest sample of any intent or known out-of-scope
        question, by the weighted overlap `_fit` uses: 1 for a question worded as a sample is,
        near 0 for one that shares no telling word with any."""
        weights = self._weights(self.stems(question))
        samples = (sample for key_samples in self._samples.values() for sample in key_samples)
        return max((self._fit(weights, sample) for sample in samples), default=0.0) if weights else 0.0

    def match(self, question: str, context: str | None = None) -> Match:
        """Best intent for a question; `context` is the previous intent, for follow-ups like "how long does that take".

        A message of several sentences ("My dad had chemo last year. It didn't work. What is CAR T?")
        is matched whole and sentence by sentence: the story around a question should not pull it
        to another topic, nor drown it.
        """
        parts = _parts(question)
        if len(parts) < 2:
            return self._match_one(question, context)
        candidates = [self._match_one(text, context) for text in [question, *parts]]
        answered = [m for m in candidates if m.intent]
        if not answered:
            return candidates[0]
        return max(answered, key=lambda m: (m.sure and not m.alternative, m.confidence))

    def _match_one(self, question: str, context: str | None) -> Match:
        stems = self.stems(question)
        # A question that shares no word with the guide ("tell me a joke", or a recognizer's
        # garbled "only read job") cannot be about it, however its frame words match.
        if self._not_covered(stems) or not self._guide_stems.intersection(stems):
            return _no_answer(self.scores(stems), stems, out_of_scope=self._not_covered(stems))
        result = self._best(stems)
        if context in self._bags and self._language.context_words & set(plain_words(question)) and not result.out_of_scope:
            # "what are the symptoms of it": the question is about the previous topic, unless it
            # is a clear question by itself ("how long does it take" after memory problems).
            clear = result.intent and result.sure and not result.alternative and result.confidence >= CLEAR_QUESTION
            if not clear:
                with_context = self._best(stems + self.stems(self.intent_set[context].name))
                if with_context.intent:
                    result = with_context
        if result.intent:
            result.wording = self._wording(question, result.intent)
        _LOGGER.debug("match %r -> %s", question, result)
        return result

    def _wording(self, question: str, intent: str) -> float:
        samples = self._sample_words.get(intent)
        if samples is None:
            # Worked out for a topic when first matched: most never are, and start-up is on the clock.
            worded = (set(self._reading(sample)[0]) for sample in self.intent_set[intent].samples)
            samples = self._sample_words[intent] = [words for words in worded if words]
        words = set(self._reading(question)[0])
        return max((len(words & sample) / len(words | sample) for sample in samples), default=0.0)

    def _not_covered(self, stems: list[str]) -> bool:
        """True when the question names a topic the guide says nothing about."""
        return bool(find_phrases(stems, self._uncovered))

    def _best(self, stems: list[str]) -> Match:
        ranked = sorted(self.scores(stems).items(), key=lambda kv: kv[1], reverse=True)
        if not ranked or ranked[0][0] == OUT_OF_SCOPE or ranked[0][1] < self.threshold:
            return _no_answer(dict(ranked), stems, out_of_scope=bool(ranked) and ranked[0][0] == OUT_OF_SCOPE)
        (best, score), (second, second_score) = ranked[0], ranked[1]
        alternative = None
        if second != OUT_OF_SCOPE and score - second_score < self.margin and not self._related(best, second):
            alternative = second
        weights, bag = self._weights(stems), self._bags[best]
        sure_from = max(GUIDE_ONLY_SURE, self.sure_threshold) if self.intent_set[best].guide_only else self.sure_threshold
        telling = [weight for stem, weight in weights.items() if bag.get(stem, 0.0) > 0]
        evidence = sum(telling)
        return Match(
            best,
            round(min(score, 1.0), 3),
            alternative,
            stems,
            sure=score >= sure_from,
            evidence=evidence,
            support=evidence - max(telling, default=0.0),
        )

    def _related(self, a: str, b: str) -> bool:
        parents = {self.intent_set[a].parent or a, self.intent_set[b].parent or b}
        return a in parents or b in parents


def _parts(message: str) -> list[str]:
    """The sentences of a message (typed messages often have no capitals after a full stop), and
    in a long run-on message the rest of it from each question word on ("... i'm scared of what
    this will do to her what kind of side effects are there")."""
    sentences = [s for s in _SENTENCE_BREAK.split(message.strip()) if plain_words(s)]
    words = message.split()
    if len(sentences) > 1:
        # The story around a question ("my dad had chemo last year.") is not a question.
        questions = [s for s in sentences if s.endswith("?") or plain_words(s)[0] in QUESTION_WORDS]
        return questions or sentences
    if len(words) < LONG_MESSAGE:
        return sentences
    starts = [i for i, w in enumerate(words) if i and plain_words(w)[:1] and plain_words(w)[0] in QUESTION_WORDS]
    return [" ".join(words[i:]) for i in starts]


def _no_answer(scores: dict[str, float], stems: list[str], out_of_scope: bool) -> Match:
    """No intent; the confidence is how far the best in-scope intent fell short."""
    best_in_scope = max((score for key, score in scores.items() if key != OUT_OF_SCOPE), default=0.0)
    return Match(None, round(1 - best_in_scope, 3), tokens=stems, out_of_scope=out_of_scope)


@dataclass(frozen=True)
class _Phrases:
    """Phrases to be replaced by what they mean, looked up by their first word: every sample of
    every intent passes through these tables when the matcher is built, so each try counts."""

    meanings: dict[str, str]
    """Phrase (words joined by spaces) -> what it means."""
    sizes: dict[str, tuple[int, ...]]
    """First word -> the lengths of the phrases it starts, longest first."""

    @classmethod
    def of(cls, meanings: dict[str, str]) -> _Phrases:
        sizes: dict[str, set[int]] = defaultdict(set)
        for phrase in meanings:
            if words := phrase.split():
                sizes[words[0]].add(len(words))
        return cls(meanings, {word: tuple(sorted(found, reverse=True)) for word, found in sizes.items()})

    def replace(self, tokens: list[str]) -> list[str]:
        """`tokens` with each phrase replaced by its meaning, the longest phrase first."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for size in self.sizes.get(tokens[i], ()):
                meant = self.meanings.get(" ".join(tokens[i : i + size])) if i + size <= len(tokens) else None
                if meant is not None:
                    out.extend(meant.split())
                    i += size
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


@lru_cache(maxsize=4096)
def _closest(word: str, vocabulary: frozenset[str]) -> str:
    found = difflib.get_close_matches(word, vocabulary, n=1, cutoff=FUZZY_CUTOFF)
    return found[0] if found else word
