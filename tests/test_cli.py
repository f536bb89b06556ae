import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import __version__
from assistant.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent

KEYS = {"question", "intent", "confidence", "answer", "source", "urgent", "action", "outcome"}


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_version():
    result = run("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_ask_json_has_the_contract_keys():
    result = run("ask", "--json", "--no-speak", "what is leukapheresis", "how much does it cost")
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert set(first) == KEYS
    assert first["intent"] == "collecting-cells" and first["source"] == "How CAR T-Cell Therapy Works"
    assert second["intent"] is None and second["source"] is None and "care team" in second["answer"]


def test_ask_reads_questions_from_stdin_in_order():
    result = run("ask", "--json", "--no-speak", "-", stdin="what is crs\nsay that again\ni can't breathe\n")
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["action"] for r in replies] == [None, "repeat", None]
    assert replies[1]["answer"] == replies[0]["answer"]
    assert replies[2]["urgent"] is True


def test_chat_json_session_is_scriptable():
    script = "what are the side effects\ntell me more\nslower\ngoodbye\nwhat is crs\n"
    result = run("chat", "--json", "--no-speak", stdin=script)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert "not medical advice" in lines[0]["opening"]
    assert [line["action"] for line in lines[1:]] == [None, "more", "slower", "goodbye"]


def test_topics_lists_sections_and_finer_topics():
    result = run("topics", "--json")
    topics = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"potential-side-effects", "cytokine-release-syndrome"} <= {t["intent"] for t in topics}


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["ask", "--no-speak", ""], None, "the question is empty"),
        (["ask", "--no-speak"], None, "no question given"),
    ],
)
def test_bad_questions_give_one_message_and_nonzero_exit(args, stdin, message):
    result = run(*args, stdin=stdin)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr


def test_non_utf8_guide_and_malformed_overlay(tmp_path):
    guide = tmp_path / "guide.txt"
    guide.write_bytes(b"Title\n\xff\xfe broken\n")
    result = run("--guide", str(guide), "ask", "--no-speak", "hello")
    assert result.returncode == 1 and "not UTF-8" in result.stderr and "Traceback" not in result.stderr

    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("intents:\n  nowhere:\n    section: Nowhere\n", encoding="utf-8")
    result = run("--guide", "intents/car-t-guide.txt", "--overlay", str(overlay), "ask", "--no-speak", "hi")
    assert result.returncode == 1 and "overlay.yaml:3" in result.stderr and "Traceback" not in result.stderr


def test_every_command_has_help_text():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for choice in subparsers._choices_actions:
        assert choice.help, f"{choice.dest} has no help"


def test_listen_without_a_microphone_falls_back_to_typed_questions():
    result = run("listen", "--no-speak", "--input-device", "no-such-microphone", stdin="what is crs\ngoodbye\n")
    assert result.returncode == 0, result.stderr
    assert "microphone" in result.stderr and "type your questions instead" in result.stderr
    assert "Cytokine release syndrome" in result.stdout and "Goodbye" in result.stdout


def test_ask_audio_answers_each_file_and_reports_a_bad_one(tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt ")
    audio = "tests/data/audio"
    result = run(
        "ask", "--json", "--no-speak", "--engine", "pocketsphinx", "--audio",
        f"{audio}/what_are_the_side_effects.wav", str(corrupt), f"{audio}/oov_tell_me_a_joke.wav",
    )
    assert result.returncode != 0 and "corrupt.wav" in result.stderr and "Traceback" not in result.stderr
    first, last = (json.loads(line) for line in result.stdout.splitlines())
    assert first["intent"] == "potential-side-effects" and first["transcript"]
    assert last["intent"] is None


def test_no_speaker_shows_the_answer_as_text_and_goes_on():
    result = run("ask", "--output-device", "no-such-speaker", "what is crs", "what is leukapheresis")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("cannot speak") == 1 and "Traceback" not in result.stderr
    assert "Cytokine release syndrome" in result.stdout and "leukapheresis" in result.stdout


def test_debug_works_before_or_after_the_command():
    for args in (["--debug", "ask", "--no-speak", "what is crs"], ["ask", "--no-speak", "what is crs", "--debug"]):
        result = run(*args)
        assert result.returncode == 0 and "DEBUG assistant.matching" in result.stderr


def test_bench_prints_accuracy_for_each_question_set():
    result = run("bench", "--json")
    assert result.returncode == 0, result.stderr
    numbers = json.loads(result.stdout)
    assert set(numbers["sets"]) == {"dev", "dev2", "test"}
    for scores in numbers["sets"].values():
        assert scores["questions"] >= 150
        assert 0.5 <= scores["in_scope_accuracy"] <= 1.0
    assert 0 < numbers["latency_p50_ms"] <= numbers["latency_p95_ms"] <= numbers["latency_max_ms"]


def test_another_guide_answers_and_still_flags_red_flags_without_this_guides_notes():
    result = run("--guide", "tests/data/hip-guide.txt", "ask", "--json", "--no-speak",
                 "when can i drive again", "i have a high fever right now")
    assert result.returncode == 0, result.stderr
    faq, urgent = (json.loads(line) for line in result.stdout.splitlines())
    assert faq["intent"] is not None and "six weeks" in faq["answer"]
    assert urgent["urgent"] and urgent["intent"] is None and "care team" in urgent["answer"]
    assert "cytokine" not in urgent["answer"]
