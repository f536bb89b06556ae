"""The commands and their options."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..settings import ENGINES, RECOGNIZER_ENGINES, TRAILING_SILENCE
from . import commands as run
from .models import add_models_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Offline voice assistant answering questions about CAR T-cell therapy from a patient guide.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="log what happens at each stage")
    parser.add_argument("--guide", type=Path, help="a patient guide to answer from instead of the bundled one")
    parser.add_argument("--overlay", type=Path, help="the curated intent overlay for --guide")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer questions given on the command line (or '-' for stdin)")
    ask.add_argument("questions", nargs="*", metavar="QUESTION", help="a question; '-' reads one per line from stdin")
    ask.add_argument("--audio", nargs="+", type=Path, metavar="WAV", help="spoken questions in WAV files")
    _add_output_options(ask)
    _add_recognizer_options(ask)
    ask.set_defaults(run=run.ask)

    listen = commands.add_parser("listen", help="hands-free: listen, answer aloud, listen again")
    listen.add_argument("--json", action="store_true", help="one JSON object per answer instead of captions")
    listen.add_argument("--no-speak", action="store_true", help="show answers without speaking them")
    listen.add_argument("--wake", metavar="PHRASE", help='answer only questions that start with PHRASE ("hello helper")')
    listen.add_argument("--push-to-talk", action="store_true", help="Enter starts and ends each question")
    listen.add_argument("--input-device", help="microphone name or index ('assistant devices' lists them)")
    listen.add_argument("--trailing-silence", type=float, default=TRAILING_SILENCE, metavar="SECONDS",
                        help="seconds of silence that end a question (default: %(default)s)")
    _add_recognizer_options(listen)
    add_voice_options(listen)
    listen.set_defaults(run=run.listen)

    chat = commands.add_parser("chat", help="a conversation typed on the keyboard (or piped in, with --json)")
    _add_output_options(chat)
    chat.set_defaults(run=run.chat)

    topics = commands.add_parser("topics", help="list what can be asked")
    topics.add_argument("--json", action="store_true", help="one JSON object per topic")
    topics.set_defaults(run=run.topics)

    bench = commands.add_parser("bench", help="measure accuracy and speed, and print the numbers")
    bench.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    bench.add_argument("--speech", action="store_true", help="time speech synthesis for each voice engine instead")
    bench.add_argument("--spoken", action="store_true",
                       help="ask questions aloud (Piper and eSpeak NG voices), in quiet, in babble, in a reverberant "
                            "room and over ward sounds, through the listening path instead (needs scripts/setup "
                            "--piper and pip install -e '.[bench]')")
    bench.add_argument("--quick", action="store_true",
                       help="--spoken on 12 questions in 8 conditions, to check that it runs (a minute or two)")
    bench.add_argument("--soak", type=float, metavar="SECONDS",
                       help="run the hands-free loop for SECONDS on a virtual microphone (questions, commands, "
                            "silence, noise) and print its memory over time, its answers and any errors instead "
                            "(run it with scripts/soak.py, which starts a private PulseAudio server)")
    bench.add_argument("--engine", choices=RECOGNIZER_ENGINES, default="auto",
                       help="recognizer for --spoken (default: auto, every installed one) and --soak")
    bench.add_argument("--cache", type=Path,
                       help="folder for the spoken questions of --spoken and --soak (default: the user cache)")
    bench.add_argument("--questions", action="append", metavar="NAME_OR_TSV",
                       help="a question set to ask: dev, dev2, test, fresh, or a .tsv file of the same columns; "
                            "repeat for several (default: every shipped set; --spoken asks one, default dev)")
    # Also after the command, where a benchmark of another guide reads naturally; SUPPRESS keeps
    # the value given before the command when these are not repeated here.
    bench.add_argument("--guide", type=Path, default=argparse.SUPPRESS, help="answer from this guide (no overlay)")
    bench.add_argument("--overlay", type=Path, default=argparse.SUPPRESS, help="the curated intent overlay for --guide")
    bench.set_defaults(run=run.bench)

    say = commands.add_parser("say", help="speak a text aloud, or write it to a WAV file with --out")
    say.add_argument("text", metavar="TEXT", help="what to say; '-' reads it from stdin")
    say.add_argument("--out", type=Path, help="write the speech to this WAV file instead of playing it")
    add_voice_options(say)
    say.set_defaults(run=run.say)

    devices = commands.add_parser("devices", help="list the microphones and speakers, with the defaults marked")
    devices.add_argument("--json", action="store_true", help="one JSON object per device")
    devices.set_defaults(run=run.devices)

    add_models_command(commands)
    return parser


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per answer")
    parser.add_argument("--no-speak", action="store_true", help="print answers without speaking them")
    parser.add_argument("--out", type=Path, help="write the spoken answer to this WAV file instead of playing it")
    add_voice_options(parser)


def _add_recognizer_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("speech recognition")
    group.add_argument("--engine", choices=RECOGNIZER_ENGINES, default="auto",
                       help="recognizer: Vosk when an English model is installed, else PocketSphinx (default: auto)")
    group.add_argument("--model", type=Path, help="a Vosk model folder ('assistant models' installs one)")


def add_voice_options(parser: argparse.ArgumentParser) -> None:
    voice = parser.add_argument_group("voice")
    voice.add_argument("--rate", type=int, help="speaking rate in words per minute (100-240)")
    voice.add_argument("--volume", type=float, help="volume from 0.3 to 1.0")
    voice.add_argument("--voice", help="voice name of the engine")
    voice.add_argument("--voice-engine", choices=ENGINES, help="text-to-speech engine (default: pyttsx3)")
    voice.add_argument("--output-device", help="output device name or index ('assistant devices' lists them)")
