import argparse
import json
import os
import pty
import queue
import re
import select
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import __version__
from assistant.cli import build_parser
from assistant.cli.help import subcommands
from assistant.cli.commands import NO_QUESTION, group_questions

ROOT = Path(__file__).resolve().parent.parent

KEYS = {"question", "intent", "confidence", "answer", "source", "urgent", "action", "outcome"}


@pytest.fixture(autouse=True)
def own_state(tmp_path, monkeypatch):
    """Voice changes said in a test ("slower") are kept in the test's own folder, not the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def run(*args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=env,
    )  # fmt: skip


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


def test_topics_shows_each_finer_topic_indented_under_its_parent():
    topics = [json.loads(line) for line in run("topics", "--json").stdout.splitlines()]
    lines = run("topics").stdout.splitlines()
    assert [line.strip() for line in lines] == [topic["name"] for topic in topics]
    names = {topic["intent"]: topic["name"] for topic in topics}
    parent_line = None
    for line, topic in zip(lines, topics):
        if topic["parent"] is None:
            assert not line.startswith(" ")
            parent_line = line
        else:
            assert line == f"    {topic['name']}" and parent_line == names[topic["parent"]]
    assert topics[topics.index(next(t for t in topics if t["intent"] == "potential-side-effects")) + 1]["intent"] == (
        "cytokine-release-syndrome"
    )
    assert sum(topic["parent"] is not None for topic in topics) >= 10


def test_topics_tree_keeps_an_orphan_and_a_loop_of_parents():
    from assistant.cli.commands import topic_tree
    from assistant.intents import Intent

    def intent(id, parent=None):
        return Intent(id, id, "source", "answer", "passage", parent=parent)

    intents = [intent("a"), intent("b", "c"), intent("a1", "a"), intent("c", "b"), intent("x", "gone"), intent("a2", "a")]
    assert [(i.id, depth) for i, depth in topic_tree(intents)] == [
        ("a", 0), ("a1", 1), ("a2", 1), ("x", 0), ("b", 0), ("c", 1),
    ]  # fmt: skip


def test_ask_takes_words_without_quotes_as_one_question():
    result = run("ask", "--json", "--no-speak", "what", "is", "crs")
    assert result.returncode == 0, result.stderr
    (reply,) = (json.loads(line) for line in result.stdout.splitlines())
    assert reply["question"] == "what is crs" and reply["intent"] == "cytokine-release-syndrome"
    mixed = run("ask", "--json", "--no-speak", "what is leukapheresis", "what", "is", "crs", "how long does it take")
    replies = [json.loads(line) for line in mixed.stdout.splitlines()]
    assert [r["question"] for r in replies] == ["what is leukapheresis", "what is crs", "how long does it take"]


@pytest.mark.parametrize(
    "arguments, questions",
    [
        (["what", "is", "crs"], ["what is crs"]),
        (["what is crs", "how long does it take"], ["what is crs", "how long does it take"]),
        (["what is crs", "is", "it", "bad", "-", "fever"], ["what is crs", "is it bad", "-", "fever"]),
        (["", "crs"], ["", "crs"]),
        (["crs"], ["crs"]),
    ],
)
def test_quoted_questions_stand_alone_and_runs_of_words_are_one_question(arguments, questions):
    assert group_questions(arguments) == questions


@pytest.mark.parametrize("before", [True, False], ids=["before-the-command", "after-the-command"])
def test_global_options_work_before_or_after_the_command(before, tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("intents: {}\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text("[voice]\nrate = 120\n", encoding="utf-8")

    def run_with(options, *command):
        return run(*options, *command) if before else run(*command, *options)

    guide = ["--guide", "tests/data/hip-guide.txt", "--overlay", str(overlay), "--debug"]
    asked = run_with(guide, "ask", "--json", "--no-speak", "when can i drive again")
    assert asked.returncode == 0, asked.stderr
    assert "six weeks" in json.loads(asked.stdout)["answer"] and "DEBUG assistant" in asked.stderr
    topics = run_with(["--guide", "tests/data/hip-guide.txt"], "topics")
    assert topics.stdout.startswith("Recovering From Hip Replacement Surgery")
    shown = run_with(["--config", str(config)], "config", "--json")
    rate = next(json.loads(line) for line in shown.stdout.splitlines() if '"voice.rate"' in line)
    assert rate == {"key": "voice.rate", "value": 120, "source": "config file", "where": str(config)}


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


COMMANDS = [sub.prog.removeprefix("assistant ") for sub in subcommands(build_parser())]


def test_the_commands_are_all_there():
    expected = {"ask", "listen", "chat", "topics", "bench", "say", "devices", "config", "models", "models list",
                "models install", "models verify", "service", "service install", "service remove"}  # fmt: skip
    assert set(COMMANDS) == expected


def command_parser(command: str, root: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    return next(sub for sub in subcommands(root or build_parser()) if sub.prog == f"assistant {command}")


@pytest.mark.parametrize("command", COMMANDS)
def test_the_help_of_every_command_has_a_description_an_example_and_named_values(command):
    root = build_parser()
    parser = command_parser(command, root)
    # What this command, or one of its actions (`models install`), runs.
    runs = [sub.get_default("run") for sub in subcommands(root) if f"{sub.prog} ".startswith(f"{parser.prog} ")]
    assert parser.description and len(parser.description.splitlines()) == 1
    examples = (parser.epilog or "").partition("example")[2].splitlines()[1:]
    assert examples, f"'{command}' has no example"
    for example in examples:
        # Each example is a command line of this very command, and the parser takes it.
        line = example.rpartition("| ")[2].partition(" <")[0]
        words = shlex.split(line)
        assert words[0] == "assistant", example
        args = root.parse_args(words[1:])
        assert any(args.run is run for run in runs), example
    for action in parser._actions:
        if action.option_strings and action.nargs != 0:
            # A placeholder argparse makes of the option's own name ("--out OUT") says nothing.
            assert action.metavar or action.choices, f"{command} {action.option_strings[0]} has no placeholder name"
        if not isinstance(action, argparse._HelpAction):
            assert action.help, f"{command} {action.option_strings or action.dest} has no help"


def test_help_shows_the_defaults_and_the_config_key_of_each_setting():
    text = " ".join(command_parser("listen").format_help().split())
    assert "--trailing-silence SECONDS" in text and "(default: 0.6; config file: [listen] trailing_silence)" in text
    assert "--rate WPM" in text and "(default: 150; config file: [voice] rate)" in text
    assert "--input-device NAME_OR_NUMBER" in text and "--captions-page PORT" in text
    assert "--config FILE" in text and "--guide FILE" in text
    assert "(default: auto; config file: [recognizer] engine)" in text
    bench = " ".join(command_parser("bench").format_help().split())
    assert "(default: auto)" in bench


def test_listen_without_a_microphone_falls_back_to_typed_questions():
    result = run("listen", "--no-speak", "--input-device", "no-such-microphone", stdin="what is crs\ngoodbye\n")
    assert result.returncode == 0, result.stderr
    assert "microphone" in result.stderr and "type your questions instead" in result.stderr
    assert "Cytokine release syndrome" in result.stdout and "Goodbye" in result.stdout


def test_listen_as_a_service_without_a_microphone_fails_so_that_it_is_started_again():
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "listen", "--no-speak", "--input-device", "no-such-microphone"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode != 0
    assert "microphone" in result.stderr and "nothing can be typed instead" in result.stderr
    assert "Traceback" not in result.stderr


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
    # The questions far from every sample are a part of each set, scored apart.
    assert set(numbers["far_from_samples"]) == set(numbers["sets"])
    for name, far in numbers["far_from_samples"].items():
        assert 0 < far["questions"] < numbers["sets"][name]["questions"]


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


def test_out_with_several_answers_writes_numbered_files(tmp_path):
    from assistant.audio import read_wav

    out = tmp_path / "answer.wav"
    result = run("ask", "--no-speak", "--out", str(out), "what is crs", "what is leukapheresis", "what", "is", "crs")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["answer-1.wav", "answer-2.wav", "answer-3.wav"]
    first, second, third = (read_wav(tmp_path / f"answer-{n}.wav") for n in (1, 2, 3))
    for answer in (first, second, third):
        assert answer.duration > 2 and (np.abs(answer.samples) > 0.05).mean() > 0.05
    # The first and the third question are the same: so are their answers, give or take eSpeak NG's
    # few milliseconds of difference from one synthesis to the next.
    assert abs(first.duration - third.duration) < 0.05 < abs(first.duration - second.duration)

    single = tmp_path / "single"
    single.mkdir()
    assert run("ask", "--no-speak", "--out", str(single / "answer.wav"), "what is crs").returncode == 0
    assert [p.name for p in single.iterdir()] == ["answer.wav"]

    chat = tmp_path / "chat"
    chat.mkdir()
    talked = run("chat", "--no-speak", "--out", str(chat / "reply.wav"), stdin="what is crs\ntell me more\n")
    assert talked.returncode == 0, talked.stderr
    assert sorted(p.name for p in chat.iterdir()) == ["reply-1.wav", "reply-2.wav"]


def config_env(home: Path) -> dict[str, str]:
    """The environment of a user whose config, state and data live in `home`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "ASSISTANT_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"))
    return env


def shown_settings(env: dict[str, str], *options: str) -> dict[str, dict]:
    result = run("config", "--json", *options, env=env)
    assert result.returncode == 0, result.stderr
    return {record["key"]: record for record in map(json.loads, result.stdout.splitlines())}


def test_config_shows_every_setting_in_force_and_where_it_came_from(tmp_path):
    from assistant.settings import KEYS

    env = config_env(tmp_path)
    config = tmp_path / "config" / "car-t-assistant" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[listen]\nwake = "hello helper"\n[recognizer]\nmodel = "~/vosk-model"\n', encoding="utf-8")
    shown = shown_settings(env, "--trailing-silence", "0.9", "--no-tones")
    assert list(shown) == [key.path for key in KEYS]
    assert shown["voice.rate"] == {"key": "voice.rate", "value": 150, "source": "default", "where": None}
    assert shown["listen.wake"] == {
        "key": "listen.wake", "value": "hello helper", "source": "config file", "where": str(config),
    }  # fmt: skip
    assert shown["recognizer.model"]["value"] == str(tmp_path / "vosk-model")
    assert shown["listen.trailing_silence"] == {
        "key": "listen.trailing_silence", "value": 0.9, "source": "command line", "where": "--trailing-silence",
    }  # fmt: skip
    assert shown["listen.tones"]["value"] is False and shown["listen.captions_page"]["value"] is None

    text = run("config", "--captions-page", "8080", env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"config file: {config}"
    assert len(lines) == 1 + len(KEYS)
    assert any(re.fullmatch(r'listen\.wake = "hello helper" +# config file \(.*config\.toml\)', line) for line in lines)
    assert any(re.fullmatch(r"listen\.captions_page = 8080 +# command line \(--captions-page\)", line) for line in lines)


def test_a_wrong_type_in_the_config_names_the_key_and_the_fix_on_every_command(tmp_path):
    env = config_env(tmp_path)
    config = tmp_path / "config" / "car-t-assistant" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[listen]\ntones = \"off\"\n", encoding="utf-8")
    for command in (["config"], ["ask", "--no-speak", "what is crs"], ["say", "--out", str(tmp_path / "x.wav"), "hi"]):
        result = run(*command, env=env)
        assert result.returncode == 2 and result.stderr.splitlines() == [
            f"assistant: config file '{config}': [listen] tones = \"off\" is not true or false, e.g. tones = false"
        ]


def test_rate_and_volume_changed_by_voice_are_kept_for_the_next_start(tmp_path):
    env = config_env(tmp_path)
    state = tmp_path / "state" / "car-t-assistant" / "voice.json"
    assert shown_settings(env)["voice.rate"]["value"] == 150
    said = run("chat", "--json", "--no-speak", stdin="slower\nlouder\ngoodbye\n", env=env)
    assert said.returncode == 0, said.stderr
    shown = shown_settings(env)
    assert shown["voice.rate"] == {"key": "voice.rate", "value": 130, "source": "remembered", "where": str(state)}
    assert shown["voice.volume"]["value"] == 1.0 and shown["voice.volume"]["source"] == "remembered"
    # The next conversation starts from there: one more "slower" goes on from 130.
    run("chat", "--json", "--no-speak", stdin="slower\n", env=env)
    assert shown_settings(env)["voice.rate"]["value"] == 110
    # --no-remember neither uses the kept rate nor keeps a new one.
    assert shown_settings(env, "--no-remember")["voice.rate"]["value"] == 150
    run("chat", "--json", "--no-speak", "--no-remember", stdin="faster\n", env=env)
    assert shown_settings(env)["voice.rate"]["value"] == 110
    # A flag wins over the kept rate for that run.
    assert shown_settings(env, "--rate", "200")["voice.rate"]["source"] == "command line"

    config = tmp_path / "config" / "car-t-assistant" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[voice]\nremember = false\n", encoding="utf-8")
    assert shown_settings(env)["voice.rate"]["value"] == 150
    # A rate written in the config file after the change is what the user wants now.
    config.write_text("[voice]\nrate = 170\n", encoding="utf-8")
    assert shown_settings(env)["voice.rate"] == {
        "key": "voice.rate", "value": 170, "source": "config file", "where": str(config),
    }  # fmt: skip


class Terminal:
    """A command run on a pseudo-terminal, as a person at a keyboard runs it."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", *args], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
        )  # fmt: skip
        os.close(slave)
        self.output = ""

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_for(self, text: str, timeout: float = 60.0) -> float:
        """Read until `text` appears after what was read before; the seconds it took."""
        began, start = time.monotonic(), len(self.output)
        while text not in self.output[start:]:
            left = began + timeout - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(left, 0))
            if not ready:
                self.process.kill()
                pytest.fail(f"no {text!r} on the terminal; it shows: {self.output[-2000:]!r}")
            try:
                self.output += os.read(self.master, 4096).decode(errors="replace")
            except OSError:  # the command ended and closed the terminal
                pytest.fail(f"no {text!r} on the terminal before the command ended: {self.output[-2000:]!r}")
        return time.monotonic() - began


@pytest.mark.heavy
def test_any_key_stops_a_spoken_answer_in_chat_and_does_not_leak_into_the_next_question(pulse_server, tmp_path):
    env = {**pulse_server.client_env(), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    terminal = Terminal(["chat"], env)
    try:
        terminal.wait_for("> ")  # the greeting was spoken
        terminal.type("what is crs\r")
        terminal.wait_for("Cytokine release syndrome")
        time.sleep(1.5)  # well into the answer, which takes about 15 s to say
        terminal.type("xy")  # "x" stops it; "y" must not begin the next question
        stopped_after = terminal.wait_for("> ", timeout=10)
        terminal.type("goodbye\r")
        terminal.wait_for("Goodbye")
        assert terminal.process.wait(timeout=20) == 0, terminal.output
    finally:
        terminal.process.kill()
        os.close(terminal.master)
    assert stopped_after < 3.0, f"the answer went on for {stopped_after:.1f} s after the key"
