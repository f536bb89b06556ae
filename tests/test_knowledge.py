from pathlib import Path

import pytest

from assistant.errors import GuideError
from assistant.intents import GUIDE_FILE
from assistant.knowledge import Guide, split_sentences

DATA = Path(__file__).parent / "data"


def test_car_t_guide_sections_and_faq():
    guide = Guide.from_file(GUIDE_FILE)
    assert guide.title == "CAR T-Cell Therapy Meaning"
    assert [s.heading for s in guide.sections] == [
        "CAR T-Cell Therapy Meaning",
        "What is CAR T-Cell Therapy?",
        "How CAR T-Cell Therapy Works",
        "Benefits of CAR T-Cell Therapy",
        "Potential Side Effects",
    ]
    assert [len(s.paragraphs) for s in guide.sections] == [3, 4, 4, 3, 3]
    assert [e.question for e in guide.faq] == [
        "What types of cancer can CAR T-cell therapy treat?",
        "How long does the treatment process take?",
        "Are there any long-term side effects?",
    ]
    assert guide.faq[1].answer.endswith("Actual infusion into the patient is done in one day.")


def test_heading_repeated_at_start_of_paragraph_is_removed():
    guide = Guide.from_file(GUIDE_FILE)
    assert guide.sections[0].paragraphs[0].startswith("CAR T-cell therapy is a new and exciting way")


def test_second_guide_on_another_topic():
    guide = Guide.from_file(DATA / "hip-guide.txt")
    assert guide.title == "Recovering From Hip Replacement Surgery"
    assert [s.heading for s in guide.sections] == [
        "Recovering From Hip Replacement Surgery",
        "Before the Operation",
        "After the Operation",
    ]
    assert guide.sections[2].paragraphs[1] == "Pain is controlled with tablets. Tell the nurse if the pain is getting worse."
    assert [e.question for e in guide.faq] == ["When can I drive again?", "Can I sleep on my side?"]
    assert guide.faq[1].answer.startswith("Sleep on your back")


def test_sentences_split_at_sentence_ends_only():
    assert split_sentences("It works. It's new! Is it? Yes 2 weeks.") == ["It works.", "It's new!", "Is it?", "Yes 2 weeks."]


def test_non_utf8_guide_is_a_clear_error(tmp_path):
    path = tmp_path / "guide.txt"
    path.write_bytes("Title\nSection\nCaf\xe9 au lait is a drink.\n".encode("latin-1"))
    with pytest.raises(GuideError, match=r"not UTF-8.*save it as UTF-8"):
        Guide.from_file(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "is empty"),
        ("Title\nA heading\nAnother heading\n", "no paragraphs"),
        ("Title\nIntro text here.\nFrequently Asked Questions\nWhy?\n", "without an answer"),
    ],
)
def test_malformed_guides_are_rejected(tmp_path, text, message):
    path = tmp_path / "guide.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GuideError, match=message):
        Guide.from_file(path)


def test_missing_guide_names_the_path(tmp_path):
    with pytest.raises(GuideError, match="nowhere.txt"):
        Guide.from_file(tmp_path / "nowhere.txt")
