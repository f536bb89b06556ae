"""Command line: `assistant ask|chat|topics|bench|...`. The only place errors become messages and exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .dialogue import Reply, Session
from .safety import RedFlags
from .errors import AssistantError, AudioError, InputError, SpeechError
from .intents import IntentSet, load_intents
from .settings import ENGINES, load_voice_settings

_LOGGER = logging.getLogger(__name__)


@dataclass
class Output:
    """Where replies go: printed as text or JSON lines, and spoken unless told not to."""

    json: bool
    speak: bool
    output_device: str | None = None
    out: Path | None = None
    _speaker: object | None = None
    _stack: ExitStack | None = None

    def __enter__(self) -> Output:
        self._stack = ExitStack()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._stack:
            self._stack.close()

    def show(self, reply: Reply, session: Session, transcript: str | None = None) -> None:
        if self.json:
            print(reply.to_json(transcript), flush=True)
        elif reply.answer:
            print(reply.answer, flush=True)
        if self.out and reply.answer:
            self._write(reply, session)
        elif self.speak and reply.answer:
            self.say(reply.answer, session)

    def say(self, text: str, session: Session) -> None:
        """Speak text; when speech is impossible, say why once and go on with text only."""
        try:
            self._open_speaker().speak(text, session.voice)
        except KeyboardInterrupt:
            # Ctrl-C silences the answer; the conversation goes on.
            if self._speaker:
                self._speaker.stop()
        except (SpeechError, AudioError) as err:
            print(f"assistant: cannot speak: {err}. Showing answers as text only.", file=sys.stderr)
            self.speak = False

    def _open_speaker(self):
        if self._speaker is None:
            from .speech_out import Speaker  # speech engines load only when something is spoken

            self._speaker = self._stack.enter_context(Speaker(self.output_device))
        return self._speaker

    def _write(self, reply: Reply, session: Session) -> None:
        from .audio import write_wav
        from .speech_out import Speaker

        sound = Speaker(self.output_device).synthesize(reply.answer, session.voice)
        write_wav(self.out, sound.samples, sound.rate)
        _LOGGER.info("answer written to %s (%.1f s)", self.out, sound.duration)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug also works after the command ("assistant listen --debug").
    debug = "--debug" in argv
    argv = [arg for arg in argv if arg != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except AssistantError as err:
        print(f"assistant: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


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
    ask.set_defaults(run=_run_ask)

    listen = commands.add_parser("listen", help="hands-free: listen, answer aloud, listen again")
    listen.add_argument("--json", action="store_true", help="one JSON object per answer instead of captions")
    listen.add_argument("--no-speak", action="store_true", help="show answers without speaking them")
    listen.add_argument("--wake", metavar="PHRASE", help='answer only questions that start with PHRASE ("hello helper")')
    listen.add_argument("--push-to-talk", action="store_true", help="Enter starts and ends each question")
    listen.add_argument("--input-device", help="microphone name or index ('assistant devices' lists them)")
    listen.add_argument("--trailing-silence", type=float, default=0.6, help="seconds of silence that end a question")
    _add_recognizer_options(listen)
    add_voice_options(listen)
    listen.set_defaults(run=_run_listen)

    chat = commands.add_parser("chat", help="a conversation typed on the keyboard (or piped in, with --json)")
    _add_output_options(chat)
    chat.set_defaults(run=_run_chat)

    topics = commands.add_parser("topics", help="list what can be asked")
    topics.add_argument("--json", action="store_true", help="one JSON object per topic")
    topics.set_defaults(run=_run_topics)

    bench = commands.add_parser("bench", help="measure accuracy and speed, and print the numbers")
    bench.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    bench.add_argument("--speech", action="store_true", help="time speech synthesis for each voice engine instead")
    bench.add_argument("--spoken", action="store_true",
                       help="ask the development questions aloud (Piper voice), in quiet and in babble, through "
                            "the listening path instead (needs scripts/setup --piper)")
    bench.add_argument("--engine", choices=("auto", "vosk", "pocketsphinx"), default="auto",
                       help="recognizer for --spoken (default: auto, every installed one)")
    bench.add_argument("--cache", type=Path, help="folder for the spoken questions of --spoken (default: the user cache)")
    bench.set_defaults(run=_run_bench)

    say = commands.add_parser("say", help="speak a text aloud, or write it to a WAV file with --out")
    say.add_argument("text", metavar="TEXT", help="what to say; '-' reads it from stdin")
    say.add_argument("--out", type=Path, help="write the speech to this WAV file instead of playing it")
    add_voice_options(say)
    say.set_defaults(run=_run_say)

    devices = commands.add_parser("devices", help="list the microphones and speakers, with the defaults marked")
    devices.add_argument("--json", action="store_true", help="one JSON object per device")
    devices.set_defaults(run=_run_devices)

    _add_models_command(commands)
    return parser


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per answer")
    parser.add_argument("--no-speak", action="store_true", help="print answers without speaking them")
    parser.add_argument("--out", type=Path, help="write the spoken answer to this WAV file instead of playing it")
    add_voice_options(parser)


def _add_recognizer_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("speech recognition")
    group.add_argument("--engine", choices=("auto", "vosk", "pocketsphinx"), default="auto",
                       help="recognizer: Vosk when an English model is installed, else PocketSphinx (default: auto)")
    group.add_argument("--model", type=Path, help="a Vosk model folder ('assistant models' installs one)")


def add_voice_options(parser: argparse.ArgumentParser) -> None:
    voice = parser.add_argument_group("voice")
    voice.add_argument("--rate", type=int, help="speaking rate in words per minute (100-240)")
    voice.add_argument("--volume", type=float, help="volume from 0.3 to 1.0")
    voice.add_argument("--voice", help="voice name of the engine")
    voice.add_argument("--voice-engine", choices=ENGINES, help="text-to-speech engine (default: pyttsx3)")
    voice.add_argument("--output-device", help="output device name or index ('assistant devices' lists them)")


def _intents(args: argparse.Namespace) -> IntentSet:
    """The bundled intents, or those of --guide (with --overlay)."""
    if args.overlay and not args.guide:
        raise InputError("--overlay belongs to a guide; give --guide too")
    return load_intents(args.guide, args.overlay)


def _session(args: argparse.Namespace) -> Session:
    intents = _intents(args)
    voice = load_voice_settings(
        rate=args.rate, volume=args.volume, voice=args.voice, engine=getattr(args, "voice_engine", None)
    )
    # The red flags' notes and topics are facts of the bundled guide, not of one given with --guide.
    return Session.create(intents, voice, RedFlags.from_file(intents, own_guide=args.guide is None))


def _output(args: argparse.Namespace) -> Output:
    return Output(json=args.json, speak=not args.no_speak, output_device=args.output_device, out=args.out)


def _run_ask(args: argparse.Namespace) -> int:
    questions = list(_questions(args.questions))
    if not questions and not args.audio:
        raise InputError("no question given; try: assistant ask \"what are the side effects\"")
    session = _session(args)
    status = 0
    with _output(args) as output:
        for question in questions:
            try:
                output.show(session.respond(question), session)
            except InputError as err:
                # One empty line of many should not stop the others from being answered.
                print(f"assistant: {err}", file=sys.stderr)
                status = err.exit_code
        if args.audio:
            status = _ask_audio(args, session, output) or status
    return status


def _ask_audio(args: argparse.Namespace, session: Session, output: Output) -> int:
    from .audio import read_wav
    from .listen import question_text
    from .speech_in import make_recognizer

    recognizer = make_recognizer(args.engine, session.phrases(), args.model)
    status = 0
    for path in args.audio:
        try:
            transcript = question_text(recognizer.transcribe(read_wav(path)))
            if not transcript:
                raise InputError(f"no speech recognized in '{path}'; check it holds a spoken question")
            output.show(session.respond(transcript), session, transcript)
        except (AudioError, InputError) as err:
            # A bad file is reported and skipped: the other files are still answered.
            print(f"assistant: {err}", file=sys.stderr)
            status = err.exit_code
    return status


def _run_listen(args: argparse.Namespace) -> int:
    from .audio import Microphone
    from .listen import Captions, HandsFree, ListenOptions
    from .models import install_hint
    from .speech_in import PocketSphinxRecognizer, make_recognizer

    session = _session(args)
    options = ListenOptions(
        wake=args.wake, push_to_talk=args.push_to_talk, speak=not args.no_speak, json=args.json,
        trailing_silence=args.trailing_silence,
    )
    with ExitStack() as stack:
        try:
            microphone = stack.enter_context(Microphone(args.input_device))
        except AudioError as err:
            print(f"assistant: {err}\nassistant: no microphone, so type your questions instead.", file=sys.stderr)
            stack.close()
            args.out = None
            return _run_chat(args, session)
        recognizer = make_recognizer(args.engine, session.phrases() + ([args.wake] if args.wake else []), args.model)
        if args.engine == "auto" and isinstance(recognizer, PocketSphinxRecognizer):
            print(f"assistant: listening with the bundled PocketSphinx recognizer; for better recognition, "
                  f"{install_hint()}", file=sys.stderr)
        speaker = None
        if options.speak:
            from .speech_out import Speaker

            try:
                speaker = stack.enter_context(Speaker(args.output_device))
            except (SpeechError, AudioError) as err:
                print(f"assistant: cannot speak: {err}. Answers are shown as text only.", file=sys.stderr)
        HandsFree(session, recognizer, speaker, Captions(as_json=options.json), options).run(microphone)
    return 0


def _questions(items: Iterable[str]) -> Iterator[str]:
    for item in items:
        if item == "-":
            yield from (line.rstrip("\n") for line in sys.stdin if line.strip())
        else:
            yield item


def _run_chat(args: argparse.Namespace, session: Session | None = None) -> int:
    session = session or _session(args)
    interactive = sys.stdin.isatty() and not args.json
    with _output(args) as output:
        opening = session.opening()
        if args.json:
            print(json.dumps({"opening": opening}, ensure_ascii=False), flush=True)
        else:
            print(opening, flush=True)
        if output.speak and not output.out:
            output.say(opening, session)
        while True:
            try:
                line = input("> " if interactive else "")
            except EOFError:
                break
            if not line.strip():
                continue
            reply = session.respond(line)
            output.show(reply, session)
            if reply.action == "goodbye":
                break
    return 0


def _run_topics(args: argparse.Namespace) -> int:
    for intent in _intents(args):
        if args.json:
            record = {"intent": intent.id, "name": intent.name, "source": intent.source, "parent": intent.parent}
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"{'    ' if intent.parent else ''}{intent.name}")
    return 0


def _run_bench(args: argparse.Namespace) -> int:
    if args.speech and args.spoken:
        raise InputError("--speech and --spoken are separate benchmarks; give one of them")
    if args.spoken:
        from .bench_listen import run_spoken_bench

        run_spoken_bench(as_json=args.json, engine=args.engine, cache=args.cache)
        return 0
    if args.speech:
        from .bench_speech import run_speech_bench

        run_speech_bench(as_json=args.json)
        return 0
    from .bench import run_text_bench

    run_text_bench(as_json=args.json)
    return 0


def _run_say(args: argparse.Namespace) -> int:
    from .audio import write_wav
    from .speech_out import Speaker

    text = sys.stdin.read() if args.text == "-" else args.text
    voice = load_voice_settings(rate=args.rate, volume=args.volume, voice=args.voice, engine=args.voice_engine)
    if args.out:
        sound = Speaker().synthesize(text, voice)
        write_wav(args.out, sound.samples, sound.rate)
        print(f"{args.out}: {sound.duration:.1f} s of speech")
        return 0
    with Speaker(args.output_device) as speaker:
        speaker.speak(text, voice)
    return 0


def _run_devices(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .audio import list_devices

    found = list_devices()
    if not found:
        raise AudioError(
            "no sound devices found; check a microphone and speakers are plugged in and switched on, "
            "and that the sound server (PulseAudio or PipeWire) is running"
        )
    for device in found:
        print(json.dumps(asdict(device), ensure_ascii=False) if args.json else device.describe())
    return 0


def _add_models_command(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="list, install and check speech models")
    models.set_defaults(run=lambda _args: models.print_help() or 2)
    actions = models.add_subparsers(title="actions", metavar="ACTION")

    listing = actions.add_parser("list", help="known models and where they are installed")
    listing.add_argument("--json", action="store_true", help="one JSON object per model")
    listing.set_defaults(run=_run_models_list)

    install = actions.add_parser(
        "install", help="download a known model (the only command that uses the network), or copy one --from a file"
    )
    install.add_argument("name", nargs="?", metavar="NAME", help="a model from `assistant models list`")
    install.add_argument(
        "--from", dest="source", type=Path, metavar="ZIP_OR_DIR", help="install from a local .zip or model folder"
    )
    install.add_argument("--name", dest="new_name", help="directory name for a model installed --from")
    install.add_argument("--dir", type=Path, help="install into this directory (default: models/ or the user data dir)")
    install.add_argument("--force", action="store_true", help="replace a model already installed under that name")
    install.set_defaults(run=_run_models_install)

    verify = actions.add_parser("verify", help="check that installed models are complete")
    verify.add_argument("name", nargs="?", metavar="NAME_OR_PATH", help="one model (default: every installed one)")
    verify.add_argument("--json", action="store_true", help="one JSON object per model")
    verify.set_defaults(run=_run_models_verify)


def _run_models_list(args: argparse.Namespace) -> int:
    from .models import list_models

    for status in list_models():
        if args.json:
            print(json.dumps(status.to_dict(), ensure_ascii=False))
            continue
        entry = status.entry
        facts = []
        if entry:
            facts = [entry.language, f"{entry.size / 1e6:.1f} MB download" if entry.size else "size unknown"]
        if entry and entry.runtime_grammar:
            facts.append("runtime grammar")
        where = f"installed in {status.path}" if status.path else "not installed"
        label = f"{status.name} (default)" if status.default else status.name
        print(f"{label}: {', '.join(facts + [where])}")
    return 0


def _run_models_install(args: argparse.Namespace) -> int:
    from .models import TextProgress, install_from, install_model

    if bool(args.name) == bool(args.source):
        raise InputError("give either a model NAME or --from ZIP_OR_DIR; `assistant models list` shows the names")
    if args.source:
        path = install_from(args.source, args.dir, name=args.new_name, force=args.force)
    else:
        if args.new_name:
            raise InputError("--name is for --from; a downloaded model keeps its registry name")
        progress = TextProgress(args.name)
        try:
            path = install_model(args.name, args.dir, force=args.force, progress=progress)
        finally:
            progress.close()
    print(f"installed {path.name} in {path}")
    return 0


def _run_models_verify(args: argparse.Namespace) -> int:
    from .models import verify_models

    layouts = verify_models(args.name)
    for layout in layouts:
        if args.json:
            print(json.dumps(layout.to_dict(), ensure_ascii=False))
        elif layout.ok:
            grammar = "accepts a runtime grammar" if layout.runtime_grammar else "no runtime grammar (static graph)"
            print(f"ok: {layout.path} ({grammar})")
        else:
            print(f"incomplete: {layout.path}: {'; '.join(layout.problems)}")
    return 0 if all(layout.ok for layout in layouts) else 1
