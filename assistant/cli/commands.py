"""What each command does (the `models` commands are in `models`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack

from ..dialogue import Session
from ..errors import AudioError, InputError, SpeechError
from ..intents import IntentSet, load_intents
from ..safety import RedFlags
from ..settings import load_voice_settings
from .output import Output


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
    from ..audio import read_wav
    from ..listen import question_text
    from ..speech_in import make_recognizer

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
            yield item


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
            reply = session.respond(line)
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
    if args.speech and args.spoken:
        raise InputError("--speech and --spoken are separate benchmarks; give one of them")
    if args.spoken:
        from ..bench.spoken import run_spoken_bench

        run_spoken_bench(as_json=args.json, engine=args.engine, cache=args.cache)
        return 0
    if args.speech:
        from ..bench.synthesis import run_speech_bench

        run_speech_bench(as_json=args.json)
        return 0
    from ..bench.typed import run_text_bench

    run_text_bench(as_json=args.json)
    return 0


def say(args: argparse.Namespace) -> int:
    from ..audio import write_wav
    from ..speech_out import Speaker

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
