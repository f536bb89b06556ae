from pathlib import Path

import pytest

from assistant.bench.questions import load_dev_set
from assistant.errors import OverlayError
from assistant.intents import FAQ_SOURCE, GUIDE_FILE, MAX_ANSWER_WORDS, OVERLAY_FILE, load_intents, slug
from assistant.matching import Matcher

DATA = Path(__file__).parent / "data"
INTENTS = load_intents()
MATCHER = Matcher(INTENTS)

FINER_TOPICS = {
    "cytokine-release-syndrome", "neurological-effects", "low-blood-counts", "fatigue-and-muscle-pain",
    "collecting-cells", "chimeric-antigen-receptor", "multiplying-cells", "conditioning-chemotherapy",
    "iv-infusion", "targets-cancer-cells", "long-lasting-effect", "when-other-treatments-failed",
    "who-is-it-for", "how-new-is-it", "ongoing-research",
}
# Words of phrasing that the short answers use and the guide does not; none of them states a fact.
PHRASING_WORDS = {"given", "fewer", "itself", "happen", "caus", "rest", "add"}


def test_one_intent_per_section_faq_and_finer_topic():
    ids = {intent.id for intent in INTENTS}
    assert {slug(s.heading) for s in INTENTS.guide.sections} <= ids
    assert {slug(e.question) for e in INTENTS.guide.faq} <= ids
    assert FINER_TOPICS <= ids


@pytest.mark.parametrize("intent", list(INTENTS), ids=lambda i: i.id)
def test_every_intent_has_a_short_answer_a_source_and_samples(intent):
    assert intent.answer and len(intent.answer.split()) <= MAX_ANSWER_WORDS
    assert intent.passage
    assert intent.samples
    headings = {s.heading for s in INTENTS.guide.sections} | {FAQ_SOURCE}
    assert intent.source in headings
    if intent.parent:
        assert INTENTS[intent.parent].source == intent.source
        sentences = INTENTS.guide.section(intent.source).sentences
        assert any(intent.passage.startswith(sentence) for sentence in sentences)


@pytest.mark.parametrize("intent", list(INTENTS), ids=lambda i: i.id)
def test_answers_only_use_the_guides_words(intent):
    matcher = MATCHER
    guide = INTENTS.guide
    text = " ".join([s.heading + " " + s.text for s in guide.sections] + [e.question + " " + e.answer for e in guide.faq])
    guide_words = set(matcher.stems(text))
    foreign = [w for w in matcher.stems(intent.answer) if w not in guide_words and w not in PHRASING_WORDS]
    assert not foreign, f"{intent.id} says words the guide does not: {foreign}"


def test_guide_without_overlay_still_gives_intents():
    intents = load_intents(DATA / "hip-guide.txt")
    assert {i.id for i in intents} == {
        "recovering-from-hip-replacement-surgery", "before-the-operation", "after-the-operation",
        "when-can-i-drive-again", "can-i-sleep-on-my-side",
    }
    assert intents["when-can-i-drive-again"].answer == "Most people drive again after about six weeks. Ask your surgeon first."
    assert all(intent.guide_only for intent in intents)
    # Every topic of the bundled guide has samples written for it.
    assert not any(intent.guide_only for intent in INTENTS)


@pytest.mark.parametrize("guide", ["car-t-guide-only", "hip-guide", "stem-cell-guide", "picc-line-guide"])
def test_the_question_sets_of_other_guides_name_their_guides_topics(guide):
    # The bundled guide given by its path is read without its overlay.
    intents = load_intents(GUIDE_FILE if guide == "car-t-guide-only" else DATA / f"{guide}.txt")
    rows = load_dev_set(DATA / f"{guide}_questions.tsv")
    named = {intent for row in rows if not row.urgent for intent in row.intents}
    assert named and named <= {intent.id for intent in intents}
    assert {row.in_scope for row in rows if not row.urgent} == {True, False}


def test_words_the_phrases_go_on_from_lead_on():
    assert {"car", "side", "antigen", "kind"} <= INTENTS.leading_words
    # Words that end phrases, or go on in many ways.
    assert not {"t", "effects", "receptor", "what", "cells", "therapy"} & INTENTS.leading_words
    # From a guide's own phrases, without an overlay: "stem cell transplant".
    assert "cell" in load_intents(DATA / "stem-cell-guide.txt").leading_words


def _overlay(tmp_path, text):
    path = tmp_path / "overlay.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("intents:\n  storms:\n    section: Weather\n    passage: [x]\n    answer: y\n", r"overlay.yaml:3: no section 'Weather'"),
        (
            "intents:\n  fevers:\n    section: Potential Side Effects\n    passage: [Fevers are]\n    answer: y\n",
            r"overlay.yaml:4: no sentence .* starts with 'Fevers are'",
        ),
        ("intents:\n  made-up:\n    answer: y\n", r"overlay.yaml:2: intent 'made-up' is neither a section nor an FAQ"),
        ("intents:\n  potential-side-effects:\n    colour: red\n", r"overlay.yaml:3: unknown key 'colour'"),
        ("intents:\n  potential-side-effects:\n    answer: " + "word " * 61 + "\n", r"overlay.yaml:3: .* 61 words"),
        ("intents: [\n", r"overlay.yaml:2: not valid YAML"),
    ],
)
def test_overlay_mistakes_name_file_and_line(tmp_path, text, message):
    from assistant.intents import GUIDE_FILE

    with pytest.raises(OverlayError, match=message):
        load_intents(GUIDE_FILE, _overlay(tmp_path, text))


def test_bundled_overlay_loads():
    assert OVERLAY_FILE.is_file()
    assert len(INTENTS) >= 25
    assert len(INTENTS.phrases()) > 300
