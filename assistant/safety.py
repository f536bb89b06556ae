"""Red flags: a person reporting a symptom the guide names hears "contact your care team now" first."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import datafile
from .intents import IntentSet
from .resources import intents_file
from .text import find_phrases, numbers, plain_words

_LOGGER = logging.getLogger(__name__)

SAFETY_FILE = intents_file("safety.yaml")
_BEFORE, _AFTER, _MARKER_REACH = 6, 3, 2


@dataclass
class Symptom:
    """A red-flag symptom of the guide."""

    name: str
    """The guide's name for it, e.g. "high fever"."""
    intent: str | None
    """The intent whose topic it belongs to; None for a guide the red flags were not written for."""
    phrases: list[tuple[str, ...]]
    """Ways of saying it, as word tuples."""
    note: str
    """One sentence of the guide's facts, said after the urgent advice ("" for another guide)."""
    reports: list[tuple[str, ...]] = field(default_factory=list)
    """Phrases that are reports by themselves ("struggling to breathe"), even when a recognizer
    lost the "I" before them."""


@dataclass
class Temperature:
    """A temperature given as a number that is a report of a symptom when it is high enough."""

    symptom: Symptom
    """The symptom such a reading reports (a high fever)."""
    words: list[tuple[str, ...]]
    """One of them must be said with the number ("temp", "degrees"), so that other numbers are not read."""
    celsius: float
    """From this reading on, a number from 35 to 45 reports the symptom."""
    fahrenheit: float
    """From this reading on, a number from 95 to 115 reports the symptom."""
    normal_below: tuple[float, float] | None = None
    """Readings under these (Celsius, Fahrenheit) are normal; None when no reading is taken for normal.
    Between them and the fever's a reading says neither: "a hundred and four" is often heard as
    "a hundred and for"."""

    def reported(self, text: str, set_aside) -> bool:
        """Whether the text gives a reading this high that `set_aside(text, index of the number)`
        does not set aside (in a hypothetical, "if it goes above 38"; or over, "... but she's fine now")."""
        return any(self._high(value) and not set_aside(text, start) for start, value in self._readings(text))

    def normal(self, text: str) -> bool:
        """Whether the text gives readings and every one is normal ("my temperature is 37.2"): then
        the word "temperature" in it does not report a fever."""
        if self.normal_below is None:
            return False
        values = [value for _, value in self._readings(text)]
        return bool(values) and all(value < _on_its_scale(value, *self.normal_below) for value in values)

    def _readings(self, text: str) -> list[tuple[int, float]]:
        """The numbers that could be a body temperature, with where they stand, when a word for one is said."""
        if not find_phrases(plain_words(text), self.words):
            return []
        return [(start, value) for start, value in numbers(text) if 35 <= value <= 45 or 95 <= value <= 115]

    def _high(self, value: float) -> bool:
        return value >= _on_its_scale(value, self.celsius, self.fahrenheit)


def _on_its_scale(value: float, celsius: float, fahrenheit: float) -> float:
    """Of two limits, the one on the reading's scale: readings up to 45 are Celsius, above it Fahrenheit."""
    return celsius if value <= 45 else fahrenheit


@dataclass
class BloodPressure:
    """A blood pressure reading ("80 over 50", "80/50") that is a report of a symptom when it is low."""

    symptom: Symptom
    """The symptom such a reading reports (low blood pressure)."""
    below: float
    """A first (systolic) number below this reports the symptom."""

    def reported(self, text: str, set_aside) -> bool:
        """Whether the text gives a reading this low that `set_aside` does not set aside, as
        `Temperature.reported` ("what if it drops to 80 over 50")."""
        for reading in _READING.finditer(text.lower()):
            systolic, diastolic = int(reading[1]), int(reading[2])
            # Two numbers that could not be a pressure ("10 over 2") are something else.
            plausible = 40 <= systolic <= 250 and 20 <= diastolic < systolic
            words_before = len(_words_and_numbers(text[: reading.start()]))
            if plausible and systolic < self.below and not set_aside(text, words_before):
                return True
        return False


_READING = re.compile(r"\b(\d{2,3})\s*(?:over|/)\s*(\d{2,3})\b")


@dataclass
class Alert:
    """A red-flag report found in an utterance."""

    symptoms: list[Symptom]
    """The symptoms reported, in the order they were said."""
    answer: str
    """The urgent advice followed by the symptoms' notes."""


@dataclass
class RedFlags:
    """Finds first-person or bystander reports of red-flag symptoms (schema in intents/safety.yaml)."""

    urgent_answer: str
    symptoms: list[Symptom]
    reporters: frozenset[str]
    hypothetical: list[tuple[str, ...]] = field(default_factory=list)
    past: list[tuple[str, ...]] = field(default_factory=list)
    ignore: list[tuple[str, ...]] = field(default_factory=list)
    present: list[tuple[str, ...]] = field(default_factory=list)
    temperature: Temperature | None = None
    blood_pressure: BloodPressure | None = None
    check_back_answer: str = ""
    """The check-back for a symptom heard without certainty; "{symptom}" stands for its name."""
    spoken: list[str] = field(default_factory=list)
    """How a report is said aloud, with "{symptom}" standing for a symptom's phrase."""

    @classmethod
    def from_file(cls, intent_set: IntentSet, path: Path = SAFETY_FILE, own_guide: bool = True) -> RedFlags:
        """The red flags of a file. Its notes and topics come from the guide it was written for;
        with another guide (`own_guide` False) a report gets the urgent advice alone."""
        data = datafile.load(path)
        datafile.check_keys(
            data,
            {"urgent_answer", "check_back", "symptoms", "reporters", "hypothetical", "past", "ignore", "present", "temperature",
             "blood_pressure", "spoken"},
            path,
        )
        for key in ("urgent_answer", "check_back", "symptoms", "reporters"):
            if key not in data:
                raise datafile.fail(path, data.line, f"missing {key!r}")
        symptoms = []
        for name, entry in data["symptoms"].items():
            line = data["symptoms"].key_lines[name]
            if not isinstance(entry, dict) or not {"intent", "phrases", "note"} <= set(entry):
                raise datafile.fail(path, line, f"symptom {name!r} needs 'intent', 'phrases' and 'note'")
            datafile.check_keys(entry, {"intent", "phrases", "note", "reports"}, path)
            if own_guide and entry["intent"] not in intent_set.intents:
                raise datafile.fail(path, entry.key_lines["intent"], f"unknown intent {entry['intent']!r}")
            intent, note = (entry["intent"], entry["note"]) if own_guide else (None, "")
            reports = _phrases(entry.get("reports", []))
            symptoms.append(Symptom(name, intent, _phrases(entry["phrases"]) + reports, note, reports))
        return cls(
            urgent_answer=" ".join(data["urgent_answer"].split()),
            symptoms=symptoms,
            check_back_answer=" ".join(data["check_back"].split()),
            reporters=frozenset(plain_words(" ".join(data["reporters"]))),
            hypothetical=_phrases(data.get("hypothetical", [])),
            past=_phrases(data.get("past", [])),
            ignore=_phrases(data.get("ignore", [])),
            present=_phrases(data.get("present", [])),
            temperature=_temperature(data.get("temperature"), symptoms, path),
            blood_pressure=_blood_pressure(data.get("blood_pressure"), symptoms, path),
            spoken=_frames(data.get("spoken", []), path, data.key_lines.get("spoken", data.line)),
        )

    def phrases(self) -> list[str]:
        """Reports of every symptom as they are said aloud: the language of a person reporting one,
        for a speech recognizer. The guide's questions only ask about symptoms ("can it cause a
        fever"); without these, "i've had a high fever" was heard as "i ahead hi t percent"."""
        said = (" ".join(phrase) for symptom in self.symptoms for phrase in symptom.phrases)
        return [frame.format(symptom=phrase) for phrase in dict.fromkeys(said) for frame in self.spoken]

    def check(self, utterance: str) -> Alert | None:
        """The alert for an utterance that reports a red-flag symptom, else None."""
        tokens = plain_words(utterance)
        over = self._over(tokens)
        kept = list(range(len(tokens)))  # where each token left after `ignore` was in the utterance
        for start, phrase in reversed(find_phrases(tokens, self.ignore)):
            del tokens[start : start + len(phrase)]
            del kept[start : start + len(phrase)]
        markers = {i for i, _ in find_phrases(tokens, self.hypothetical)}
        happening = bool(find_phrases(tokens, self.present))
        found: list[tuple[int, Symptom]] = []
        for reading in (self.temperature, self.blood_pressure):
            if reading and reading.reported(utterance, self._set_aside):
                found.append((0, reading.symptom))
        for symptom in self._named(utterance):
            reports = {i for i, _ in find_phrases(tokens, symptom.reports)}
            for start, phrase in find_phrases(tokens, symptom.phrases):
                if any(at > kept[start] for at in over):
                    continue
                by_itself = (happening or start in reports) and not any(m < start for m in markers)
                if by_itself or self._reported(tokens, start, len(phrase), markers):
                    found.append((start, symptom))
                    break
        if not found:
            return None
        found.sort(key=lambda item: item[0])
        reported = list(dict.fromkeys(symptom.name for _, symptom in found))
        symptoms = [next(s for _, s in found if s.name == name) for name in reported]
        _LOGGER.info("red flag reported: %s", ", ".join(reported))
        return self.alert(symptoms)

    def alert(self, symptoms: list[Symptom]) -> Alert:
        """The alert for these symptoms: the urgent advice, then their notes."""
        notes = [self.urgent_answer] + list(dict.fromkeys(s.note for s in symptoms if s.note))
        return Alert(symptoms, " ".join(notes))

    def asks(self, utterance: str) -> bool:
        """Whether the words ask about a symptom rather than report one ("what if", "can it cause")."""
        return bool(find_phrases(plain_words(utterance), self.hypothetical))

    def check_back(self, symptom: Symptom) -> str:
        """The question back, with the urgent advice in it, for a symptom named in words that may
        not be what was said."""
        return self.check_back_answer.format(symptom=symptom.name)

    def mentioned(self, utterance: str) -> Symptom | None:
        """The first red-flag symptom the words name at all, report or not, and do not say is over."""
        tokens = plain_words(utterance)
        over = self._over(tokens)
        for reading in (self.temperature, self.blood_pressure):
            if reading and reading.reported(utterance, self._over_after):
                return reading.symptom
        named = []
        for symptom in self._named(utterance):
            starts = [start for start, _ in find_phrases(tokens, symptom.phrases) if not any(at > start for at in over)]
            if starts:
                named.append((starts[0], symptom))
        return min(named, key=lambda item: item[0])[1] if named else None

    def _named(self, utterance: str) -> list[Symptom]:
        """The symptoms whose words may name them here: not a fever when the temperature given is normal."""
        normal = self.temperature is not None and self.temperature.normal(utterance)
        return [s for s in self.symptoms if not (normal and s is self.temperature.symptom)]

    def _over(self, tokens: list[str]) -> list[int]:
        """Where the words say something is over ("she's fine now"): a symptom told before that is
        past, one told after it ("my daughter is fine but my husband can't breathe") is not."""
        return [start for start, _ in find_phrases(tokens, self.past)]

    def _set_aside(self, text: str, number_index: int) -> bool:
        """Whether a reading, the `number_index`-th word or number of text, is in a hypothetical or over."""
        return self._hypothetical_before(text, number_index) or self._over_after(text, number_index)

    def _hypothetical_before(self, text: str, number_index: int) -> bool:
        """Whether a hypothetical marker comes before the `number_index`-th word or number of text."""
        return bool(find_phrases(plain_words(" ".join(_words_and_numbers(text)[:number_index])), self.hypothetical))

    def _over_after(self, text: str, number_index: int) -> bool:
        """Whether words saying it is over come after the `number_index`-th word or number of text."""
        return bool(find_phrases(plain_words(" ".join(_words_and_numbers(text)[number_index:])), self.past))

    def _reported(self, tokens: list[str], start: int, length: int, markers: set[int]) -> bool:
        for i in range(max(0, start - _BEFORE), start):
            if self._is_reporter(tokens[i]):
                between = range(max(0, i - _MARKER_REACH), start)
                if not markers.intersection(between):
                    return True
        after = range(start + 1, min(len(tokens), start + length + _AFTER))
        return any(self._is_reporter(tokens[i]) for i in after) and not any(m < start for m in markers)

    def _is_reporter(self, token: str) -> bool:
        # "my wife's" arrives as "wifes".
        return token in self.reporters or (len(token) >= 4 and token.endswith("s") and token[:-1] in self.reporters)


def _words_and_numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:[.,]\d+)?|[a-z]+", text.lower())


def _temperature(entry: object, symptoms: list[Symptom], path: Path) -> Temperature | None:
    if entry is None:
        return None
    if not isinstance(entry, datafile.Mapping):
        raise datafile.fail(path, 1, "'temperature' must be a mapping with symptom, words, celsius and fahrenheit")
    datafile.check_keys(entry, {"symptom", "words", "celsius", "fahrenheit", "normal_celsius", "normal_fahrenheit"}, path)
    missing = {"symptom", "words", "celsius", "fahrenheit"} - set(entry)
    if missing:
        raise datafile.fail(path, entry.line, f"'temperature' needs {', '.join(sorted(missing))}")
    symptom = _reading_symptom(entry, symptoms, path)
    normal_keys = {"normal_celsius", "normal_fahrenheit"}
    if len(given := normal_keys & set(entry)) == 1:
        (key,) = given
        raise datafile.fail(path, entry.key_lines[key], f"{key} needs its partner: give normal_celsius and normal_fahrenheit together, or neither")
    for key in ("celsius", "fahrenheit", *sorted(normal_keys)):
        if key in entry:
            _check_number(entry, key, "a number of degrees", path)
    normal = (float(entry["normal_celsius"]), float(entry["normal_fahrenheit"])) if "normal_celsius" in entry else None
    return Temperature(symptom, _phrases(entry["words"]), float(entry["celsius"]), float(entry["fahrenheit"]), normal)


def _blood_pressure(entry: object, symptoms: list[Symptom], path: Path) -> BloodPressure | None:
    if entry is None:
        return None
    if not isinstance(entry, datafile.Mapping) or not {"symptom", "below"} <= set(entry):
        raise datafile.fail(path, getattr(entry, "line", 1), "'blood_pressure' must be a mapping with symptom and below")
    datafile.check_keys(entry, {"symptom", "below"}, path)
    _check_number(entry, "below", "a systolic pressure (90)", path)
    return BloodPressure(_reading_symptom(entry, symptoms, path), float(entry["below"]))


def _reading_symptom(entry: datafile.Mapping, symptoms: list[Symptom], path: Path) -> Symptom:
    symptom = next((s for s in symptoms if s.name == entry["symptom"]), None)
    if symptom is None:
        raise datafile.fail(path, entry.key_lines["symptom"], f"unknown symptom {entry['symptom']!r}; name one of symptoms")
    return symptom


def _check_number(entry: datafile.Mapping, key: str, what: str, path: Path) -> None:
    if not isinstance(entry[key], (int, float)) or isinstance(entry[key], bool):
        raise datafile.fail(path, entry.key_lines[key], f"{key} must be {what}, not {entry[key]!r}")


def _frames(frames: list, path: Path, line: int) -> list[str]:
    for frame in frames:
        if not isinstance(frame, str) or "{symptom}" not in frame or frame.count("{") != 1:
            raise datafile.fail(path, line, f"'spoken' frame {frame!r} must hold {{symptom}} once and nothing else in braces")
    return frames


def _phrases(texts: list[str]) -> list[tuple[str, ...]]:
    return [tuple(plain_words(text)) for text in texts if plain_words(text)]

