import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant import __version__
from assistant.cli import build_parser
from assistant.cli.commands import NO_QUESTION

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


def test_ask_reads_questions_from_stdin_in_order_each_on_its_own():
    stdin = "what are the neurological effects\nwhat are the symptoms of it\ni can't breathe\n"
    result = run("ask", "--json", "--no-speak", "-", stdin=stdin)
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    # The second line is not about the first line's topic: in `ask` no line inherits another's.
    assert [r["intent"] for r in replies[:2]] == ["neurological-effects", "cytokine-release-syndrome"]
    assert replies[2]["urgent"] is True
    chat = run("chat", "--json", "--no-speak", stdin=stdin)
    assert json.loads(chat.stdout.splitlines()[2])["intent"] == "neurological-effects"


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
        (["ask", "--no-speak"], None, "no question given"),
        (["ask", "--no-speak", "-"], "\n", "no question given"),
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
    assert set(numbers["sets"]) == {"dev", "dev2", "test", "fresh"}
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


NOT_QUESTIONS = ["?", "\U0001F600", "что это такое", "ما هو العلاج"]
"""Lines with no words the assistant reads: punctuation, an emoji, Cyrillic, Arabic."""


def test_a_line_with_nothing_to_answer_gets_a_reason_and_the_chat_goes_on():
    lines = ["what is crs", *NOT_QUESTIONS, "what is leukapheresis", "goodbye"]
    text = run("chat", "--no-speak", stdin="\n".join(lines) + "\n")
    assert text.returncode == 0 and text.stderr == ""
    said = text.stdout.splitlines()[1:]
    assert said[1:5] == [NO_QUESTION] * 4
    assert "Cytokine release syndrome" in said[0] and "leukapheresis" in said[5] and "Goodbye" in said[6]

    driven = run("chat", "--json", "--no-speak", stdin="\n".join(lines) + "\n")
    assert driven.returncode == 0 and driven.stderr == ""
    replies = [json.loads(line) for line in driven.stdout.splitlines()[1:]]
    assert all(set(reply) == KEYS for reply in replies)
    assert [r["outcome"] for r in replies] == ["answer", *["unheard"] * 4, "answer", "command"]
    assert [r["question"] for r in replies[1:5]] == NOT_QUESTIONS


def test_the_keyboard_fallback_of_listen_goes_on_after_a_line_with_nothing_to_answer():
    result = run("listen", "--no-speak", "--input-device", "no-such-microphone", stdin="?\nwhat is crs\ngoodbye\n")
    assert result.returncode == 0, result.stderr
    assert NO_QUESTION in result.stdout and "Cytokine release syndrome" in result.stdout


def test_ask_gives_a_reason_for_a_question_with_nothing_to_answer_and_answers_the_rest():
    result = run("ask", "--json", "--no-speak", "", "what is leukapheresis", "-", stdin="\U0001F600\nwhat is crs\n")
    # Every question has its line; the exit status says that one could not be answered.
    assert result.returncode == 2 and result.stderr == ""
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["outcome"] for r in replies] == ["unheard", "answer", "unheard", "answer"]
    assert replies[0]["answer"] == NO_QUESTION


def test_ask_answers_each_line_of_stdin_as_it_comes():
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ask", "--json", "--no-speak", "-"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        for question, outcome in [("what is crs", "answer"), ("?", "unheard"), ("what is leukapheresis", "answer")]:
            process.stdin.write(question + "\n")
            process.stdin.flush()
            # The reply comes while stdin is still open: nothing waits for the end of input.
            reply = json.loads(lines.get(timeout=30))
            assert reply["question"] == question and reply["outcome"] == outcome
        process.stdin.close()
        assert process.wait(timeout=30) == 2
    finally:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def strict_utf8_locale(tmp_path_factory) -> dict[str, str]:
    """en_US.UTF-8, built with localedef: under it Python decodes stdin strictly, as under most
    desktop locales (C.UTF-8, C and POSIX get Python's lenient UTF-8 handling)."""
    folder = tmp_path_factory.mktemp("locale")
    try:
        built = subprocess.run(["localedef", "-i", "en_US", "-f", "UTF-8", str(folder / "en_US.UTF-8")],
                               capture_output=True, timeout=60)
    except FileNotFoundError:
        pytest.skip("localedef is not installed")
    if built.returncode != 0 or not (folder / "en_US.UTF-8").is_dir():
        pytest.skip(f"cannot build the en_US.UTF-8 locale: {built.stderr.decode(errors='replace')}")
    return {"LOCPATH": str(folder), "LC_ALL": "en_US.UTF-8"}


@pytest.mark.parametrize("locale", ["C.UTF-8", "C", "POSIX", "en_US.UTF-8"])
def test_bytes_that_are_not_utf8_cost_a_character_not_the_answers(locale, request, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUTF8", "PYTHONIOENCODING", "LANG", "LANGUAGE")}
    env.update(request.getfixturevalue("strict_utf8_locale") if locale == "en_US.UTF-8" else {"LC_ALL": locale})

    def run_bytes(*args: bytes, stdin: bytes = b"") -> subprocess.CompletedProcess:
        command = [sys.executable.encode(), b"-m", b"assistant", *args]
        return subprocess.run(command, input=stdin, capture_output=True, timeout=60, cwd=ROOT, env=env)

    piped = run_bytes(b"ask", b"--json", b"--no-speak", b"-", stdin=b"what is \xff crs\nwhat is leukapheresis\n")
    assert piped.returncode == 0, piped.stderr.decode(errors="replace")
    replies = [json.loads(line) for line in piped.stdout.decode().splitlines()]
    assert [r["intent"] for r in replies] == ["cytokine-release-syndrome", "collecting-cells"]
    assert replies[0]["question"] == "what is \ufffd crs"

    argument = run_bytes(b"ask", b"--json", b"--no-speak", b"what is \xff crs")
    assert argument.returncode == 0, argument.stderr.decode(errors="replace")
    assert json.loads(argument.stdout)["question"] == "what is \ufffd crs"

    for args, stdin in [((b"-",), b"hello \xff there"), ((b"hello \xff there",), b"")]:
        out = tmp_path / "said.wav"
        said = run_bytes(b"say", *args, b"--out", str(out).encode(), stdin=stdin)
        assert said.returncode == 0 and out.stat().st_size > 10_000, said.stderr.decode(errors="replace")
        out.unlink()


@pytest.mark.parametrize("reader", ["head -1", "true"])
@pytest.mark.parametrize("command", ["topics", "topics --json", "ask --no-speak 'what is crs' 'what is leukapheresis'"])
def test_output_into_a_pipe_that_closes_early_ends_quietly(command, reader):
    # `true` exits before the assistant has started, so every write meets a closed pipe.
    script = f"{sys.executable} -m assistant {command} | {reader}; echo \"status=${{PIPESTATUS[0]}}\" >&2"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    errors, status = result.stderr.rsplit("status=", 1)
    assert errors == ""
    assert int(status) in ((141,) if reader == "true" else (0, 141))
    if reader == "head -1":
        assert len(result.stdout.splitlines()) == 1
