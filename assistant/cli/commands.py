"""What each command does (the `models` commands are in `models`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack

from ..dialogue import Reply, Session
from ..errors import AudioError, InputError, SpeechError
from ..intents import IntentSet, load_intents
from ..safety import RedFlags
from ..settings import load_voice_settings
from .output import Output
from .streams import readable

_LOGGER = logging.getLogger(__name__)

NO_QUESTION = "Sorry, I didn't catch a question in that. Please ask in words."
"""The reply to a typed line with no words to answer: only punctuation, emoji, or letters of another script."""


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


def ask(args: argparse.Namespace) -> int:
    none_given = "no question given; try: assistant ask \"what are the side effects\""
    if not args.questions and not args.audio:
        raise InputError(none_given)
    session = _session(args)
    status = asked = 0
    with _output(args) as output:
        # Each question is answered as soon as it is read, so that a program can drive `ask -` line by line.
        for asked, question in enumerate(_questions(args.questions), 1):
            # `ask` answers each question on its own: the conversation lives in chat and listen.
            session.reset()
            try:
                reply = session.respond(question)
            except InputError as err:
                reply = _no_question(question, err)
                status = err.exit_code
            output.show(reply, session)
        if not asked and not args.audio:
            raise InputError(none_given)
        if args.audio:
            status = _ask_audio(args, session, output) or status
    return status


def _ask_audio(args: argparse.Namespace, session: Session, output: Output) -> int:
    from ..audio import read_wav
    from ..listen import question_text
    from ..speech_in import make_recognizer

    recognizer = make_recognizer(args.engine, session.phrases(), args.model)
    status = 0
    for path in args.audio:
        try:
            heard = recognizer.transcribe(read_wav(path))
            transcript = question_text(heard)
            if not transcript:
                raise InputError(f"no speech recognized in '{path}'; check it holds a spoken question")
            session.reset()
            output.show(session.respond(transcript, heard.hearing), session, transcript)
        except (AudioError, InputError) as err:
            # A bad file is reported and skipped: the other files are still answered.
            print(f"assistant: {err}", file=sys.stderr)
            status = err.exit_code
    return status


def listen(args: argparse.Namespace) -> int:
    from ..audio import Microphone
    from ..listen import Captions, HandsFree, ListenOptions
    from ..models import install_hint
    from ..speech_in import PocketSphinxRecognizer, make_recognizer

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
            return chat(args, session)
        recognizer = make_recognizer(args.engine, session.phrases() + ([args.wake] if args.wake else []), args.model)
        if args.engine == "auto" and isinstance(recognizer, PocketSphinxRecognizer):
            print(f"assistant: listening with the bundled PocketSphinx recognizer; for better recognition, "
                  f"{install_hint()}", file=sys.stderr)
        speaker = None
        if options.speak:
            from ..speech_out import Speaker

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
            yield readable(item)


def _no_question(line: str, err: InputError) -> Reply:
    """The short reason a line with nothing to answer gets, in the place of an answer: the session goes on."""
    _LOGGER.debug("%s: %r", err, line)
    return Reply(line, None, 0.0, NO_QUESTION, None, outcome="unheard")


def chat(args: argparse.Namespace, session: Session | None = None) -> int:
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
            try:
                reply = session.respond(line)
            except InputError as err:
                reply = _no_question(line, err)
            output.show(reply, session)
            if reply.action == "goodbye":
                break
    return 0


def topics(args: argparse.Namespace) -> int:
    for intent in _intents(args):
        if args.json:
            record = {"intent": intent.id, "name": intent.name, "source": intent.source, "parent": intent.parent}
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"{'    ' if intent.parent else ''}{intent.name}")
    return 0


def bench(args: argparse.Namespace) -> int:
    if sum((args.speech, args.spoken, args.soak is not None)) > 1:
        raise InputError("--speech, --spoken and --soak are separate benchmarks; give one of them")
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
        run_spoken_bench(args.json, args.engine, question_set, quick=args.quick, cache=args.cache)
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

    text = sys.stdin.read() if args.text == "-" else readable(args.text)
    voice = load_voice_settings(rate=args.rate, volume=args.volume, voice=args.voice, engine=args.voice_engine)
    if args.out:
        sound = Speaker().synthesize(text, voice)
        write_wav(args.out, sound.samples, sound.rate)
        print(f"{args.out}: {sound.duration:.1f} s of speech")
        return 0
    with Speaker(args.output_device) as speaker:
        speaker.speak(text, voice)
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
