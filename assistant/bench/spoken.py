"""Spoken benchmark: questions spoken aloud, in quiet and in the noises of a ward, through the
microphone path.

A fixed selection of a question set is spoken by several voices (`voices`), each question padded
with silence or mixed with a noise of the room at a signal-to-noise ratio (`noise`), in the
conditions of `conditions`. Each stream goes in 20 ms blocks through `listen` with an
`Endpointer`, as microphone audio does, and its transcript is answered by a fresh conversation
(`trial`). Printed per recognizer and condition (`report`): how the answers do, the word error
rate, the recognizer's real-time factor, the latency from the last spoken word to the first
sample of the reply, and how the questions were ended.

Each condition is one job for a pool of worker processes. A job starts its recognizer afresh
(`Recognizer.forget`) and lets it hear one question of the condition before the first that
counts, so its numbers do not depend on which jobs the worker ran before; a fresh condition
makes it forget before every question. Synthesized speech is kept in a cache folder, so a
second run only recognizes.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..audio import SPEECH_RATE
from ..audio.denoise import noise_suppressor
from ..dialogue import Session
from ..settings import TRAILING_SILENCE, VoiceSettings
from ..speech_in import Recognizer, make_recognizer
from ..speech_out import Speaker
from .conditions import Condition, full_plan, quick_plan
from .noise import PAD_BEFORE, SEED, babble_sentences, decay_time, make_noise, mix, room_responses
from .questions import QUESTION_SETS, QUOTAS, DevQuestion, kind_of, load_dev_set, question_sets, spoken_selection
from .report import print_tables
from .trial import Trial, TimedEndpointer, ask_spoken, summarize
from .voices import VoiceCache, talkers_for

_LOGGER = logging.getLogger(__name__)

QUICK_QUOTAS = {"in scope": 8, "out of scope": 2, "urgent": 2}
"""How many questions of each kind `--quick` asks."""


@dataclass
class Sounds:
    """What a worker needs to make the streams of its jobs."""

    cache: Path
    """The voice cache's folder, holding every question as each voice says it."""
    noise: dict[tuple[str, str], np.ndarray]
    """Noise tracks by kind and the engine of the question's voice (whose talkers are others)."""
    room: np.ndarray | None
    """The room's response from the talker to the microphone; None when no condition is in the room."""
    noise_suppression: bool = True
    """Take steady noise out of each stream before it is heard, as the listening loop does."""


class _Listener:
    """One process's listening pipeline: a conversation, eSpeak NG for the answers, recognizers
    made on first use, and the sounds to make streams of."""

    def __init__(self, sounds: Sounds):
        self.sounds = sounds
        self.voices = VoiceCache(sounds.cache)
        self.session = Session.create()
        self.speaker = Speaker()
        self.speaker.synthesize("Ready.", VoiceSettings())  # starts eSpeak NG; not part of any answer's latency
        self.endpointer = TimedEndpointer(trailing_silence=TRAILING_SILENCE)
        self.witness = TimedEndpointer(trailing_silence=TRAILING_SILENCE)
        # Beyond PAD_AFTER the stream goes on until the endpointer's own length limit must have ended it.
        self.tail = self.endpointer.max_frames * self.endpointer.FRAME / SPEECH_RATE
        self.recognizers: dict[str, Recognizer] = {}
        self.startup_s: dict[str, float] = {}

    def recognizer(self, engine: str) -> Recognizer:
        if engine not in self.recognizers:
            started = time.perf_counter()
            self.recognizers[engine] = make_recognizer(engine, self.session.phrases())
            self.startup_s[engine] = round(time.perf_counter() - started, 2)
        return self.recognizers[engine]

    def run(self, engine: str, condition: Condition, rows: Sequence[DevQuestion]) -> list[Trial]:
        """Every question in one condition."""
        recognizer = self.recognizer(engine)
        recognizer.forget()
        if not condition.fresh:
            self.ask(recognizer, condition, len(rows) - 1, rows[-1])
        trials = []
        for index, row in enumerate(rows):
            if condition.fresh:
                recognizer.forget()
            trial = self.ask(recognizer, condition, index, row)
            _LOGGER.debug(
                "%s, %s, %s: %r heard as %r -> %s",
                engine, condition.voice.label, condition.name, row.question, trial.heard, trial.reply and trial.reply.intent,
            )
            trials.append(trial)
        return trials

    def ask(self, recognizer: Recognizer, condition: Condition, index: int, row: DevQuestion) -> Trial:
        clip = spoken_clip(self.voices, condition, row.question)
        noise = self.sounds.noise.get((condition.noise, condition.voice.engine))
        room = self.sounds.room if condition.noise == "room" else None
        # The same question hears the same stretch of noise in every condition: only its level and kind differ.
        offset = int(np.random.default_rng((SEED, index)).integers(1 << 30))
        stream = mix(clip, noise, condition.snr, self.tail, offset, room)
        # Each question's stream is a room of its own.
        suppressor = noise_suppressor(self.sounds.noise_suppression)
        speech_end = PAD_BEFORE + len(clip) / SPEECH_RATE
        return ask_spoken(
            row, stream, speech_end, condition, recognizer, self.endpointer, self.session, self.speaker, suppressor, self.witness
        )


def spoken_clip(voices: VoiceCache, condition: Condition, question: str) -> np.ndarray:
    """The question as the condition's voice says it, with the condition's pause between its parts."""
    parts = [voices.speech(part, condition.voice) for part in condition.parts(question)]
    pause = np.zeros(round((condition.pause or 0.0) * SPEECH_RATE), np.float32)
    return np.concatenate([sound for part in parts for sound in (pause, part)][1:])


_WORKER: _Listener  # the pipeline of a worker process (or of this one, without workers)


def _start_worker(sounds: Sounds) -> None:
    global _WORKER
    _WORKER = _Listener(sounds)


def _worker_job(engine: str, condition: Condition, rows: Sequence[DevQuestion]) -> tuple[list[Trial], float, float]:
    """A job's trials, the engine's start-up seconds in this worker, and the worker's peak memory in MB."""
    trials = _WORKER.run(engine, condition, rows)
    return trials, _WORKER.startup_s[engine], _peak_memory_mb()


def _peak_memory_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's VmHWM is preferred to ru_maxrss: a spawned worker's ru_maxrss starts at its parent's
    size when it was forked off (measured: 428 MB for a worker of a 426 MB parent, VmHWM 29 MB).
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        status = ""
    hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
    kilobytes = int(hwm) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kilobytes / 1024, 1)


def _engines(engine: str) -> tuple[list[str], dict[str, str]]:
    """Engines to measure and engines skipped (with why): "auto" is every installed one."""
    from ..models import find_model, install_hint

    if engine != "auto":
        return [engine], {}
    if find_model() is None:
        return ["pocketsphinx"], {"vosk": f"no English Vosk model installed; {install_hint()}"}
    return ["pocketsphinx", "vosk"], {}


def question_rows(question_set: str, quick: bool = False) -> tuple[list[DevQuestion], str]:
    """The spoken selection of a question set (a name in QUESTION_SETS or a .tsv file), and where it came from."""
    ((name, path),) = question_sets([question_set]).items()
    label = f"the {name!r} set" if question_set in QUESTION_SETS else f"'{path}'"
    return spoken_selection(load_dev_set(path), QUICK_QUOTAS if quick else QUOTAS), label


def _progress(message: str, began: float) -> None:
    print(f"spoken bench: {message}, {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)


def _prepare(
    plan: list[Condition], rows: list[DevQuestion], voices: VoiceCache, began: float, noise_suppression: bool = True
) -> Sounds:
    """Synthesize what is not in the cache yet; make the room and the noise tracks."""
    sentences = babble_sentences()
    texts = [(part, c.voice) for c in plan for row in rows for part in c.parts(row.question)]
    texts += [(sentence, talker) for c in plan if c.talkers for sentence, talker in zip(sentences, talkers_for(c.voice))]
    missing = [(text, voice) for text, voice in dict.fromkeys(texts) if not voices.has(text, voice)]
    for done, (text, voice) in enumerate(missing, 1):
        voices.speech(text, voice)
        if done % 25 == 0 or done == len(missing):
            _progress(f"synthesized {done}/{len(missing)} texts", began)
    talker_room = noise_room = None
    if any(c.noise == "room" for c in plan):
        talker_room, noise_room = room_responses()
    tracks: dict[tuple[str, str], np.ndarray] = {}
    for condition in (c for c in plan if c.snr is not None):
        key = (condition.noise, condition.voice.engine)
        if key not in tracks:
            talkers = talkers_for(condition.voice) if condition.talkers else ()
            tracks[key] = make_noise(condition.noise, [voices.speech(s, t) for s, t in zip(sentences, talkers)], noise_room)
    return Sounds(voices.folder, tracks, talker_room, noise_suppression)


def run_spoken_bench(
    as_json: bool = False,
    engine: str = "auto",
    question_set: str = "dev",
    quick: bool = False,
    questions: Sequence[DevQuestion] | None = None,
    cache: Path | None = None,
    workers: int = 2,
    noise_suppression: bool = True,
) -> dict:
    """Speak the questions (default: the spoken selection of `question_set`) in each condition
    (`full_plan`, or `quick_plan` with fewer questions), through each engine ("auto": every
    installed one); print a table (or JSON), progress on stderr, and return the numbers.

    With `workers` above 1, the engine/condition jobs run in that many processes, each with its
    own pipeline (the questions are still answered one at a time in each). `noise_suppression`
    as in the listening loop: on when RNNoise is installed.
    """
    began = time.perf_counter()
    if questions is not None:
        rows, source = list(questions), "the given questions"
    else:
        rows, source = question_rows(question_set, quick)
    plan = quick_plan() if quick else full_plan()
    voices = VoiceCache(cache)
    sounds = _prepare(plan, rows, voices, began, noise_suppression)
    prepare_s = time.perf_counter() - began

    engines, skipped = _engines(engine)
    # The noisiest conditions take longest to recognize: started first, they finish with the rest.
    jobs = [(name, c) for name in engines for c in sorted(plan, key=lambda c: (c.snr is None, c.snr or 0.0))]
    done: dict[tuple[str, Condition], tuple[list[Trial], float, float]] = {}
    if workers > 1:
        context = multiprocessing.get_context("spawn")  # no forking of Piper's or eSpeak's threads
        with ProcessPoolExecutor(min(workers, len(jobs)), context, _start_worker, (sounds,)) as pool:
            futures: dict[Future, tuple[str, Condition]] = {pool.submit(_worker_job, *job, rows): job for job in jobs}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                _progress(f"{len(done)}/{len(jobs)} jobs", began)
    else:
        _start_worker(sounds)
        for job in jobs:
            done[job] = _worker_job(*job, rows)
            _progress(f"{len(done)}/{len(jobs)} jobs", began)

    results = [summarize(name, c, done[name, c][0]) for name in engines for c in plan]
    numbers = {
        "question_set": source,
        "questions": len(rows),
        "kinds": {kind: sum(kind_of(r) == kind for r in rows) for kind in QUOTAS},
        "quick": quick,
        "voices": list(dict.fromkeys(c.voice.label for c in plan)),
        "conditions": [asdict(c) for c in plan],
        "room_rt60_s": round(decay_time(sounds.room), 2) if sounds.room is not None else None,
        "trailing_silence_s": TRAILING_SILENCE,
        "engines": engines,
        "skipped": skipped,
        "recognizer_startup_s": {name: max(done[job][1] for job in jobs if job[0] == name) for name in engines},
        "results": [asdict(r) for r in results],
        "synthesized": voices.synthesized,
        "prepare_s": round(prepare_s, 1),
        "workers": min(workers, len(jobs)),
        "elapsed_s": round(time.perf_counter() - began, 1),
        # Latencies and real-time factors are wall clock: other work on the machine lengthens them.
        "load_average": round(os.getloadavg()[1], 1),
        "listening_peak_memory_mb": max(result[2] for result in done.values()),
        "peak_memory_mb": _peak_memory_mb(),
    }
    if as_json:
        print(json.dumps(numbers, ensure_ascii=False))
    else:
        print_tables(numbers, results, voices.folder)
    return numbers
