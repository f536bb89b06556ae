"""The commands and their options.

Options that hold a setting (voice, devices, listening, recognizer) default to None here: the
value in force is decided by `settings.load_settings`, from these, the remembered voice, the
config file and the defaults. Global options work before or after the command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..settings import ENGINES, RECOGNIZER_ENGINES, RATE_MAX, RATE_MIN, VOLUME_MAX, VOLUME_MIN, Settings
from . import commands as run
from .help import HelpFormatter, add_command, subcommands
from .models import add_models_command
from .service import add_service_command

_DEFAULTS = Settings()

ASK_NOTES = """\
Words given without quotes are one question: `assistant ask what is crs` asks "what is crs".
A question in quotes stands alone, so several questions are each put in quotes; each run of
unquoted words between them is one more question. '-' reads one question a line from stdin.
With --out and more than one question (or '-'), the answers go to numbered files: --out
answer.wav writes answer-1.wav for the first question, answer-2.wav for the second, and so on."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Offline voice assistant answering questions about CAR T-cell therapy from a patient guide.",
        epilog="example:\n  assistant ask what is crs\n\n'assistant COMMAND --help' tells more about a command.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, top=True)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    ask = add_command(
        commands, "ask", "answer questions given on the command line, or one a line from stdin with '-'",
        "assistant ask what is crs",
        'assistant ask "what is crs" "how long does it take"',
        "assistant ask --json --no-speak - < questions.txt",
        "assistant ask --audio question.wav --no-speak",
        notes=ASK_NOTES,
    )  # fmt: skip
    ask.add_argument("questions", nargs="*", metavar="QUESTION", help="a question; '-' reads one per line from stdin")
    ask.add_argument("--audio", nargs="+", type=Path, metavar="WAV", help="spoken questions in WAV files")
    _add_output_options(ask)
    _add_recognizer_options(ask)
    ask.set_defaults(run=run.ask)

    listen = add_command(
        commands, "listen", "hands-free: listen, answer aloud, listen again",
        "assistant listen",
        'assistant listen --wake "hello helper" --input-device USB',
    )  # fmt: skip
    listen.add_argument("--json", action="store_true", help="one JSON object per answer instead of captions")
    listen.add_argument("--no-speak", action="store_true", help="show answers without speaking them")
    _add_listening_options(listen)
    _add_recognizer_options(listen)
    add_voice_options(listen)
    listen.set_defaults(run=run.listen)

    chat = add_command(
        commands, "chat", "a conversation typed on the keyboard (or piped in, with --json)",
        "assistant chat",
        'printf "what is crs\\ntell me more\\n" | assistant chat --json --no-speak',
    )  # fmt: skip
    _add_output_options(chat)
    chat.set_defaults(run=run.chat)

    topics = add_command(
        commands, "topics", "list what can be asked, each finer topic under its section",
        "assistant topics", "assistant topics --json",
    )  # fmt: skip
    topics.add_argument("--json", action="store_true", help="one JSON object per topic, with its parent topic")
    topics.set_defaults(run=run.topics)

    bench = add_command(
        commands, "bench", "measure accuracy and speed, and print the numbers",
        "assistant bench",
        "assistant bench --guide tests/data/hip-guide.txt --questions tests/data/hip-guide_questions.tsv",
        "assistant bench --spoken --quick",
    )  # fmt: skip
    bench.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    bench.add_argument("--speech", action="store_true", help="time speech synthesis for each voice engine instead")
    bench.add_argument("--spoken", action="store_true",
                       help="ask questions aloud (Piper and eSpeak NG voices), in quiet, in babble, in a reverberant "
                            "room and over ward sounds, through the listening path instead, with progress on stderr "
                            "(needs scripts/setup --piper and pip install -e '.[bench]')")
    bench.add_argument("--quick", action="store_true",
                       help="--spoken on 12 questions in 8 conditions, to check that it runs (a minute or two)")
    bench.add_argument("--replies", action="store_true",
                       help="say yes and no replies to \"Did you ask about ...?\" (Piper and eSpeak NG voices) in quiet "
                            "and in babble, through the listening path, and count how they were taken instead "
                            "(needs scripts/setup --piper)")
    bench.add_argument("--soak", type=float, metavar="SECONDS",
                       help="run the hands-free loop for SECONDS on a virtual microphone (questions, commands, "
                            "silence, noise) and print its memory over time, its answers and any errors instead "
                            "(run it with scripts/soak.py, which starts a private PulseAudio server)")
    bench.add_argument("--engine", choices=RECOGNIZER_ENGINES, default="auto",
                       help="recognizer for --spoken (auto: every installed one), --replies and --soak (default: %(default)s)")
    bench.add_argument("--no-noise-suppression", dest="noise_suppression", action="store_false",
                       help="--spoken: recognize each stream as heard, without taking steady noise out first "
                            "(default: on when RNNoise is installed, as in listen)")
    bench.add_argument("--cache", type=Path, metavar="DIR",
                       help="folder for the spoken questions of --spoken, --replies and --soak (default: the user cache)")
    bench.add_argument("--questions", action="append", metavar="NAME_OR_TSV",
                       help="a question set to ask: dev, dev2, test, fresh, or a .tsv file of the same columns; "
                            "repeat for several (default: every shipped set; --spoken asks one, default dev)")
    bench.set_defaults(run=run.bench)

    say = add_command(
        commands, "say", "speak a text aloud, or write it to a WAV file with --out",
        'assistant say "hello"', 'assistant say "hello" --voice-engine piper --out hello.wav',
    )  # fmt: skip
    say.add_argument("text", metavar="TEXT", help="what to say; '-' reads it from stdin")
    say.add_argument("--out", type=Path, metavar="WAV", help="write the speech to this WAV file instead of playing it")
    add_voice_options(say)
    say.set_defaults(run=run.say)

    devices = add_command(
        commands, "devices", "list the microphones and speakers, with the defaults marked",
        "assistant devices", "assistant devices --json",
    )  # fmt: skip
    devices.add_argument("--json", action="store_true", help="one JSON object per device")
    devices.set_defaults(run=run.devices)

    config = add_command(
        commands, "config", "show the settings in force and where each came from (default, config file, "
        "remembered voice, command line)",
        "assistant config", "assistant config --json --rate 120",
        notes="Setting options given here are shown as they would apply to a command given them.",
    )  # fmt: skip
    config.add_argument("--json", action="store_true", help="one JSON object per setting")
    _add_listening_options(config)
    _add_recognizer_options(config)
    add_voice_options(config)
    config.set_defaults(run=run.config)

    add_models_command(commands)
    add_service_command(commands)
    for sub in subcommands(parser):
        _add_global_options(sub, top=False)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """The options of every command, before or after it. After the command they default to
    SUPPRESS, so that a value given before the command is kept when they are not repeated."""
    unset = {} if top else {"default": argparse.SUPPRESS}
    group = parser.add_argument_group("global options") if not top else parser
    group.add_argument("--debug", action="store_true", help="log what happens at each stage", **unset)
    group.add_argument("--guide", type=Path, metavar="FILE",
                       help="a patient guide to answer from instead of the bundled one", **unset)
    group.add_argument("--overlay", type=Path, metavar="FILE", help="the curated intent overlay for --guide", **unset)
    group.add_argument("--config", type=Path, metavar="FILE",
                       help="read settings from this config file (default: ~/.config/car-t-assistant/config.toml)",
                       **unset)  # fmt: skip


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per answer")
    parser.add_argument("--no-speak", action="store_true", help="print answers without speaking them")
    parser.add_argument("--out", type=Path, metavar="WAV",
                        help="write the spoken answer to this WAV file instead of playing it (several answers: "
                             "WAV-1, WAV-2, ... numbered by question)")
    add_voice_options(parser)


def _setting(text: str, default: object, key: str) -> str:
    """Help for an option that overrides a config file key: its default and that key."""
    table, name = key.split(".")
    return f"{text} (default: {default}; config file: [{table}] {name})"


def _add_listening_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("listening")
    group.add_argument("--input-device", metavar="NAME_OR_NUMBER",
                       help=_setting("microphone: part of its name, or its number ('assistant devices' lists them)",
                                     "the system's default", "listen.input_device"))
    group.add_argument("--wake", metavar="PHRASE",
                       help=_setting('answer only questions that start with PHRASE ("hello helper")', "none",
                                     "listen.wake"))
    group.add_argument("--push-to-talk", action=argparse.BooleanOptionalAction,
                       help=_setting("Enter starts and ends each question", "off", "listen.push_to_talk"))
    group.add_argument("--trailing-silence", type=float, metavar="SECONDS",
                       help=_setting("seconds of silence that end a question", _DEFAULTS.trailing_silence,
                                     "listen.trailing_silence"))
    group.add_argument("--no-tones", dest="tones", action="store_false", default=None,
                       help=_setting("no tone when listening starts and when a question was heard", "tones on",
                                     "listen.tones"))
    group.add_argument("--captions-page", type=int, metavar="PORT",
                       help=_setting("serve large-print captions at http://127.0.0.1:PORT/ (0: any free port)",
                                     "no page", "listen.captions_page"))


def _add_recognizer_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("speech recognition")
    group.add_argument("--engine", choices=RECOGNIZER_ENGINES,
                       help=_setting("recognizer; auto is Vosk when an English model is installed, else PocketSphinx",
                                     _DEFAULTS.recognizer, "recognizer.engine"))
    group.add_argument("--model", type=Path, metavar="DIR",
                       help=_setting("a Vosk model folder ('assistant models' installs one)",
                                     "the first found on the model search path", "recognizer.model"))
    group.add_argument("--no-noise-suppression", dest="noise_suppression", action="store_false", default=None,
                       help=_setting("recognize the sound as heard, without taking steady noise (a fan, hum) out first",
                                     "on when RNNoise is installed", "recognizer.noise_suppression"))


def add_voice_options(parser: argparse.ArgumentParser) -> None:
    voice = parser.add_argument_group("voice")
    defaults = _DEFAULTS.voice
    voice.add_argument("--rate", type=int, metavar="WPM",
                       help=_setting(f"speaking rate in words per minute, {RATE_MIN}-{RATE_MAX}", defaults.rate,
                                     "voice.rate"))
    voice.add_argument("--volume", type=float, metavar="LEVEL",
                       help=_setting(f"volume from {VOLUME_MIN} to {VOLUME_MAX}", defaults.volume, "voice.volume"))
    voice.add_argument("--voice", metavar="NAME",
                       help=_setting("voice name of the engine", "the engine's own", "voice.voice"))
    voice.add_argument("--voice-engine", choices=ENGINES,
                       help=_setting("text-to-speech engine", defaults.engine, "voice.engine"))
    voice.add_argument("--output-device", metavar="NAME_OR_NUMBER",
                       help=_setting("speaker: part of its name, or its number ('assistant devices' lists them)",
                                     "the system's default", "voice.output_device"))
    voice.add_argument("--no-remember", dest="remember", action="store_false", default=None,
                       help=_setting('neither use nor keep the rate and volume last asked for by voice ("slower", '
                                     '"louder")', "remembered", "voice.remember"))
