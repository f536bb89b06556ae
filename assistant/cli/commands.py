"""What each command does (the `models` commands are in `models`, the `service` commands in
`service`). Each turns its options into one `Settings` at its start (`load`) and passes that on."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

from ..dialogue import Reply, Session
from ..errors import AudioError, InputError, SpeechError
from ..intents import Intent, IntentSet, load_intents
from ..resources import config_file
from ..safety import RedFlags
from ..settings import KEYS, Settings, load_settings, toml_value
from ..state import remember_voice
from .output import Output
from .streams import readable

_LOGGER = logging.getLogger(__name__)

NO_QUESTION = "Sorry, I didn't catch a question in that. Please ask in words."
"""The reply to a typed line with no words to answer: only punctuation, emoji, or letters of another script."""


def load(args: argparse.Namespace) -> Settings:
    """The settings in force for this command: its options over the remembered voice, the config
    file (--config, or the user's) and the defaults. Options a command does not have count as not given."""
    return load_settings({key.dest: getattr(args, key.dest, None) for key in KEYS}, path=args.config)


def _intents(args: argparse.Namespace) -> IntentSet:
    """The bundled intents, or those of --guide (with --overlay)."""
    if args.overlay and not args.guide:
        raise InputError("--overlay belongs to a guide; give --guide too")
    return load_intents(args.guide, args.overlay)


def _session(args: argparse.Namespace, settings: Settings) -> Session:
    intents = _intents(args)
    # The red flags' notes and topics are facts of the bundled guide, not of one given with --guide.
    session = Session.create(intents, settings.voice, RedFlags.from_file(intents, own_guide=args.guide is None))
    if settings.remember:
        session.voice_changed = lambda voice: remember_voice(voice, settings.configured_voice)
    return session


def _output(args: argparse.Namespace, settings: Settings, numbered: bool = False) -> Output:
    # `listen` has no --out: its keyboard fallback speaks.
    out = getattr(args, "out", None)
    speak = not args.no_speak
    return Output(json=args.json, speak=speak, output_device=settings.output_device, out=out, numbered=numbered)


def ask(args: argparse.Namespace) -> int:
    none_given = "no question given; try: assistant ask what are the side effects"
    questions = group_questions(args.questions)
    if not questions and not args.audio:
        raise InputError(none_given)
    settings = load(args)
    session = _session(args, settings)
    # The number of questions read from stdin is not known in advance: with '-' they are numbered too.
    numbered = len(questions) + len(args.audio or ()) > 1 or "-" in questions
    status = asked = 0
    with _output(args, settings, numbered) as output:
        # Each question is answered as soon as it is read, so that a program can drive `ask -` line by line.
        for asked, question in enumerate(_questions(questions), 1):
            # `ask` answers each question on its own: the conversation lives in chat and listen.
            session.reset()
            try:
                reply = session.respond(question)
            except InputError as err:
                reply = _no_question(question, err)
                status = err.exit_code
            output.show(reply, session, number=asked)
        if not asked and not args.audio:
            raise InputError(none_given)
        if args.audio:
            status = _ask_audio(args.audio, settings, session, output, first=asked + 1) or status
    return status


def group_questions(arguments: Iterable[str]) -> list[str]:
    """The questions of `ask`'s arguments: a shell passes `ask what is crs` as three words and
    `ask "what is crs"` as one argument with spaces, so a run of single words is one question, and
    an argument that was quoted (it has spaces, or nothing) is a question of its own, as is '-' (stdin)."""
    questions: list[str] = []
    words: list[str] = []
    for argument in arguments:
        if argument == "-" or len(argument.split()) != 1:
            if words:
                questions.append(" ".join(words))
                words = []
            questions.append(argument)
        else:
            words.append(argument.strip())
    if words:
        questions.append(" ".join(words))
    return questions


def _ask_audio(paths: list, settings: Settings, session: Session, output: Output, first: int) -> int:
    from ..audio import SPEECH_RATE, read_wav, resample
    from ..audio.denoise import noise_suppressor
    from ..listen import alternatives_of, question_text
    from ..speech_in import make_recognizer

    recognizer = make_recognizer(settings.recognizer, session.phrases(), settings.model)
    status = 0
    for number, path in enumerate(paths, first):
        try:
            audio = read_wav(path)
            samples = resample(audio.samples, audio.rate, SPEECH_RATE)
            suppressor = noise_suppressor(settings.noise_suppression)  # each file is a room of its own
            heard = recognizer.transcribe(suppressor.process(samples) if suppressor else samples)
            transcript = question_text(heard)
            if not transcript:
                raise InputError(f"no speech recognized in '{path}'; check it holds a spoken question")
            session.reset()
            reply = session.respond(transcript, heard.hearing, alternatives_of(heard, transcript))
            output.show(reply, session, transcript, number=number)
        except (AudioError, InputError) as err:
            # A bad file is reported and skipped: the other files are still answered.
            print(f"assistant: {err}", file=sys.stderr)
            status = err.exit_code
    return status


def listen(args: argparse.Namespace) -> int:
    from ..audio import Microphone
    from ..listen import Captions, HandsFree, ListenOptions, Loading

    captions = Captions(as_json=args.json)
    # Shown before anything slow, so that a screen is never blank while the assistant starts.
    captions.status("Loading…")
    settings = load(args)
    session = _session(args, settings)
    options = ListenOptions(
        wake=settings.wake, push_to_talk=settings.push_to_talk, speak=not args.no_speak, json=args.json,
        trailing_silence=settings.trailing_silence, tones=settings.tones,
        noise_suppression=settings.noise_suppression,
    )
    with ExitStack() as stack:
        try:
            microphone = stack.enter_context(Microphone(settings.input_device))
        except AudioError as err:
            if _stdin_is_null():
                # As a service: nothing can be typed, and a failure lets systemd try again, in case
                # the microphone is plugged in or the sound server starts later.
                raise AudioError(f"{err}; and nothing can be typed instead (standard input is /dev/null)") from None
            print(f"assistant: {err}\nassistant: no microphone, so type your questions instead.", file=sys.stderr)
            stack.close()
            return chat(args, session, settings)
        if settings.captions_page is not None:
            from ..captions import CaptionsPage

            captions.page = stack.enter_context(CaptionsPage(settings.captions_page))
            print(f"Captions page: {captions.page.url}", file=sys.stderr, flush=True)
        # The recognizer loads while the greeting plays.
        recognizer = Loading(lambda: _recognizer(settings, session), name="recognizer-loading")
        speaker = None
        if options.speak:
            from ..speech_out import Speaker

            try:
                speaker = stack.enter_context(Speaker(settings.output_device))
            except (SpeechError, AudioError) as err:
                print(f"assistant: cannot speak: {err}. Answers are shown as text only.", file=sys.stderr)
        HandsFree(session, recognizer, speaker, captions, options).run(microphone)
    return 0


def _stdin_is_null() -> bool:
    try:
        return os.path.samestat(os.fstat(sys.stdin.fileno()), os.stat(os.devnull))
    except (OSError, ValueError, AttributeError):
        return True  # no standard input at all


def _recognizer(settings: Settings, session: Session):
    from ..models import install_hint
    from ..speech_in import PocketSphinxRecognizer, make_recognizer

    wake = [settings.wake] if settings.wake else []
    recognizer = make_recognizer(settings.recognizer, session.phrases() + wake, settings.model, answers=session.answers())
    if settings.recognizer == "auto" and isinstance(recognizer, PocketSphinxRecognizer):
        print(f"assistant: listening with the bundled PocketSphinx recognizer; for better recognition, "
              f"{install_hint()}", file=sys.stderr)
    return recognizer


def _questions(items: Iterable[str]) -> Iterator[str]:
    for item in items:
        if item == "-":
            yield from (line.rstrip("\n") for line in sys.stdin if line.strip())
        else:
            yield readable(item)


def _no_question(line: str, err: InputError) -> Reply:
    """The short reason a line with nothing to answer gets, in the place of an answer: the session goes on."""
    _LOGGER.debug("%s: %r", err, line)
    return Reply(line, None, 0.0, NO_QUESTION, None, outcome="unheard")


def chat(args: argparse.Namespace, session: Session | None = None, settings: Settings | None = None) -> int:
    settings = settings or load(args)
    session = session or _session(args, settings)
    interactive = sys.stdin.isatty() and not args.json
    # A conversation has many answers: with --out each goes to its own numbered file.
    with _output(args, settings, numbered=True) as output:
        opening = session.opening()
        if args.json:
            print(json.dumps({"opening": opening}, ensure_ascii=False), flush=True)
        else:
            print(opening, flush=True)
        if output.speak and not output.out:
            output.say(opening, session)
        answered = 0
        while True:
            try:
                line = input("> " if interactive else "")
            except EOFError:
                break
            if not line.strip():
                continue
            try:
                reply = session.respond(line)
            except InputError as err:
                reply = _no_question(line, err)
            answered += 1
            output.show(reply, session, number=answered)
            if reply.action == "goodbye":
                break
    return 0


def topics(args: argparse.Namespace) -> int:
    for intent, depth in topic_tree(_intents(args)):
        if args.json:
            record = {"intent": intent.id, "name": intent.name, "source": intent.source, "parent": intent.parent}
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"{'    ' * depth}{intent.name}")
    return 0


def topic_tree(intents: Iterable[Intent]) -> Iterator[tuple[Intent, int]]:
    """Each intent with its depth, every finer topic right after its parent, in the guide's order;
    a topic whose parent is not an intent stands at the top."""
    intents = list(intents)
    ids = {intent.id for intent in intents}
    children: dict[str, list[Intent]] = {}
    for intent in intents:
        if intent.parent in ids and intent.parent != intent.id:
            children.setdefault(intent.parent, []).append(intent)
    shown: set[str] = set()

    def walk(intent: Intent, depth: int) -> Iterator[tuple[Intent, int]]:
        shown.add(intent.id)
        yield intent, depth
        for child in children.get(intent.id, ()):
            if child.id not in shown:
                yield from walk(child, depth + 1)

    for intent in intents:
        if intent.parent not in ids or intent.parent == intent.id:
            yield from walk(intent, 0)
    # Topics in a loop of parents (a malformed overlay) have no top: they are listed all the same.
    for intent in intents:
        if intent.id not in shown:
            yield from walk(intent, 0)


def bench(args: argparse.Namespace) -> int:
    if sum((args.speech, args.spoken, args.replies, args.soak is not None)) > 1:
        raise InputError("--speech, --spoken, --replies and --soak are separate benchmarks; give one of them")
    if args.replies:
        from ..bench.replies import run_replies_bench

        run_replies_bench(args.json, args.engine, cache=args.cache)
        return 0
    if args.soak is not None:
        from ..bench.soak import run_soak

        if not args.soak > 0:
            raise InputError(f"--soak {args.soak:g}: give the seconds to run, e.g. --soak 3600")
        # Errors are the soak's findings: they are printed with its numbers, and make the exit status 1.
        return 1 if run_soak(args.soak, as_json=args.json, engine=args.engine, cache=args.cache)["errors"] else 0
    if args.quick and not args.spoken:
        raise InputError("--quick shortens the spoken benchmark; give --spoken too")
    if args.spoken:
        from ..bench.spoken import run_spoken_bench

        if len(args.questions or []) > 1:
            raise InputError(f"--spoken asks one question set at a time; give one --questions, not {len(args.questions)}")
        question_set = args.questions[0] if args.questions else "dev"
        run_spoken_bench(
            args.json, args.engine, question_set, quick=args.quick, cache=args.cache,
            noise_suppression=args.noise_suppression,
        )  # fmt: skip
        return 0
    if args.speech:
        from ..bench.synthesis import run_speech_bench

        run_speech_bench(as_json=args.json)
        return 0
    from ..bench.questions import question_sets
    from ..bench.typed import run_text_bench

    if args.overlay and not args.guide:
        raise InputError("--overlay belongs to a guide; give --guide too")
    run_text_bench(as_json=args.json, sets=question_sets(args.questions), guide=args.guide, overlay=args.overlay)
    return 0


def say(args: argparse.Namespace) -> int:
    from ..audio import write_wav
    from ..speech_out import Speaker

    settings = load(args)
    text = sys.stdin.read() if args.text == "-" else readable(args.text)
    if args.out:
        sound = Speaker().synthesize(text, settings.voice)
        write_wav(args.out, sound.samples, sound.rate)
        print(f"{args.out}: {sound.duration:.1f} s of speech")
        return 0
    with Speaker(settings.output_device) as speaker:
        speaker.speak(text, settings.voice)
    return 0


def devices(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..audio import list_devices

    found = list_devices()
    if not found:
        raise AudioError(
            "no sound devices found; check a microphone and speakers are plugged in and switched on, "
            "and that the sound server (PulseAudio or PipeWire) is running"
        )
    for device in found:
        print(json.dumps(asdict(device), ensure_ascii=False) if args.json else device.describe())
    return 0


def config(args: argparse.Namespace) -> int:
    settings = load(args)
    rows = [(key, settings.value(key), settings.origins[key.path]) for key in KEYS]
    if args.json:
        for key, value, origin in rows:
            record = {
                "key": key.path, "value": str(value) if isinstance(value, Path) else value,
                "source": origin.source, "where": origin.where,
            }  # fmt: skip
            print(json.dumps(record, ensure_ascii=False))
        return 0
    print(f"config file: {settings.config or f'{args.config or config_file()} (none there: defaults apply)'}")
    width = max(len(key.path) for key in KEYS) + 3 + max(len(toml_value(value)) for _, value, _ in rows)
    for key, value, origin in rows:
        setting = f"{key.path} = {'(none)' if value is None else toml_value(value)}"
        print(f"{setting:<{width}}  # {origin}")
    return 0
