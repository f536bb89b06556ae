"""Spoken benchmark: development questions spoken aloud, in quiet and in babble, through the microphone path.

A fixed selection of the development questions is spoken by the Piper "joe" voice at two
speaking rates. Each question is padded with silence, or with babble (several guide
sentences spoken at once) mixed in at a given signal-to-noise ratio, and streamed in 20 ms
blocks through `listen` with an `Endpointer`, as microphone audio is; each question starts
a fresh endpointer, and its transcript is answered by a fresh conversation. Printed per recognizer and condition: how the answers do,
the word error rate, the recognizer's real-time factor, and the latency from the end of the
question's speech to the end-of-speech decision, to the intent being ready, and to the
first sample of the spoken answer.

Synthesized questions are kept in a cache folder, so a second run only recognizes.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np

from ..audio import SPEECH_RATE
from ..dialogue import Session
from ..settings import TRAILING_SILENCE, VoiceSettings
from ..speech_in import Recognizer, make_recognizer
from ..speech_out import Speaker
from .questions import QUOTAS, DevQuestion, kind_of, load_dev_set, spoken_selection
from .trial import ConditionResult, Trial, TimedEndpointer, ask_spoken, summarize
from .voices import BABBLE_RATE, BABBLE_TALKERS, PAD_AFTER, PAD_BEFORE, SEED, VOICE, VoiceCache, babble_sentences, make_babble, mix

_LOGGER = logging.getLogger(__name__)

RATES = (150, 200)
"""Speaking rates of the questions, in words per minute."""
SNRS: tuple[float | None, ...] = (None, 20.0, 10.0, 5.0)
"""Conditions: None is clean; a number is babble at that signal-to-noise ratio in dB."""


def condition_name(snr: float | None) -> str:
    return "clean" if snr is None else f"babble {snr:g} dB"


def _engines(engine: str) -> tuple[list[str], dict[str, str]]:
    """Engines to measure and engines skipped (with why): "auto" is every installed one."""
    from ..models import find_model, install_hint

    if engine != "auto":
        return [engine], {}
    if find_model() is None:
        return ["pocketsphinx"], {"vosk": f"no English Vosk model installed; {install_hint()}"}
    return ["pocketsphinx", "vosk"], {}


class _Listener:
    """One process's listening pipeline: a conversation, eSpeak NG for the answers, recognizers
    made on first use, and the questions' speech and the babble to mix."""

    def __init__(self, speech: dict[tuple[str, int], np.ndarray], babble: np.ndarray | None):
        self.speech = speech
        self.babble = babble
        self.session = Session.create()
        self.speaker = Speaker()
        self.speaker.synthesize("Ready.", VoiceSettings())  # starts eSpeak NG; not part of any answer's latency
        self.endpointer = TimedEndpointer(trailing_silence=TRAILING_SILENCE)
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

    def run(self, engine: str, snr: float | None, rate: int, rows: Sequence[DevQuestion]) -> list[Trial]:
        """Every question spoken at `rate` in one condition."""
        recognizer = self.recognizer(engine)
        trials = []
        for index, row in enumerate(rows):
            clip = self.speech[row.question, rate]
            offset = int(np.random.default_rng((SEED, rate, index)).integers(1 << 30))
            stream = mix(clip, self.babble, snr, self.tail, offset)
            speech_end = PAD_BEFORE + len(clip) / SPEECH_RATE
            trial = ask_spoken(row, stream, speech_end, rate, snr, recognizer, self.endpointer, self.session, self.speaker)
            _LOGGER.debug(
                "%s, %s, %d wpm: %r heard as %r -> %s",
                engine, condition_name(snr), rate, row.question, trial.heard, trial.reply and trial.reply.intent,
            )
            trials.append(trial)
        return trials


_WORKER: _Listener  # the pipeline of a worker process (or of this one, without workers)


def _start_worker(speech: dict[tuple[str, int], np.ndarray], babble: np.ndarray | None) -> None:
    global _WORKER
    _WORKER = _Listener(speech, babble)


def _worker_job(engine: str, snr: float | None, rate: int, rows: Sequence[DevQuestion]) -> tuple[list[Trial], float, float]:
    """A job's trials, the engine's start-up seconds in this worker, and the worker's peak memory in MB."""
    trials = _WORKER.run(engine, snr, rate, rows)
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


def run_spoken_bench(
    as_json: bool = False,
    engine: str = "auto",
    rates: Sequence[int] = RATES,
    snrs: Sequence[float | None] = SNRS,
    questions: Sequence[DevQuestion] | None = None,
    cache: Path | None = None,
    workers: int = 2,
) -> dict:
    """Speak the questions (default: `spoken_selection` of the development set) at each rate, in
    each condition, through each engine ("auto": every installed one); print a table (or JSON)
    and return the numbers.

    With `workers` above 1, the engine/condition/rate jobs run in that many processes, each
    with its own pipeline (the questions are still answered one at a time in each).
    """
    began = time.perf_counter()
    rows = list(questions) if questions is not None else spoken_selection(load_dev_set())
    voices = VoiceCache(cache)
    speech = {(row.question, rate): voices.speech(row.question, rate) for rate in rates for row in rows}
    babble = None
    if any(snr is not None for snr in snrs):
        babble = make_babble([voices.speech(text, BABBLE_RATE) for text in babble_sentences()])
    synthesis_s = time.perf_counter() - began

    engines, skipped = _engines(engine)
    # The noisiest conditions take longest to recognize: started first, they finish with the rest.
    noisiest_first = sorted(snrs, key=lambda snr: (snr is None, snr))
    jobs = [(name, snr, rate) for name in engines for snr in noisiest_first for rate in rates]
    if workers > 1:
        context = multiprocessing.get_context("spawn")  # no forking of Piper's or eSpeak's threads
        with ProcessPoolExecutor(min(workers, len(jobs)), context, _start_worker, (speech, babble)) as pool:
            done = dict(zip(jobs, pool.map(_worker_job, *zip(*jobs), [rows] * len(jobs))))
    else:
        _start_worker(speech, babble)
        done = {job: _worker_job(*job, rows) for job in jobs}

    results = [
        summarize(name, condition_name(snr), [t for rate in rates for t in done[name, snr, rate][0]])
        for name in engines
        for snr in snrs
    ]
    rate_results = [
        summarize(name, f"{rate} wpm", [t for snr in snrs for t in done[name, snr, rate][0]])
        for name in engines
        for rate in rates
    ]
    numbers = {
        "questions": len(rows),
        "kinds": {kind: sum(kind_of(r) == kind for r in rows) for kind in QUOTAS},
        "rates_wpm": list(rates),
        "conditions": [condition_name(s) for s in snrs],
        "trailing_silence_s": TRAILING_SILENCE,
        "engines": engines,
        "skipped": skipped,
        "recognizer_startup_s": {name: max(done[job][1] for job in jobs if job[0] == name) for name in engines},
        "results": [asdict(r) for r in results],
        "by_rate": [asdict(r) for r in rate_results],
        "synthesized": voices.synthesized,
        "synthesis_s": round(synthesis_s, 1),
        "workers": min(workers, len(jobs)),
        "elapsed_s": round(time.perf_counter() - began, 1),
        "listening_peak_memory_mb": max(result[2] for result in done.values()),
        "peak_memory_mb": _peak_memory_mb(),
    }
    if as_json:
        print(json.dumps(numbers, ensure_ascii=False))
    else:
        _print_table(numbers, results, rate_results, voices.folder)
    return numbers


def _print_table(numbers: dict, results: list[ConditionResult], rate_results: list[ConditionResult], cache: Path) -> None:
    kinds = ", ".join(f"{n} {kind}" for kind, n in numbers["kinds"].items())
    print(
        f"spoken development set: {numbers['questions']} questions ({kinds}), Piper {VOICE} at "
        f"{' and '.join(map(str, numbers['rates_wpm']))} wpm, 20 ms blocks, trailing silence {numbers['trailing_silence_s']} s"
    )

    def ms(pair: tuple[float, float] | None) -> str:
        return f"{pair[0]:>5.0f}/{pair[1]:<5.0f}" if pair else f"{'-':^11}"

    print(
        f"  {'engine':12} {'condition':14} {'n':>4} {'in-scope':>8} {'reject':>7} {'urgent':>7} {'WER':>6} {'RTF':>6}"
        f"  {'endpoint ms':^11} {'intent ms':^11} {'1st audio ms':^12}  cut/late/long/unheard"
    )
    for r in results + rate_results:
        if r is rate_results[0]:
            print("  by speaking rate, all conditions:")
        print(
            f"  {r.engine:12} {r.condition:14} {r.utterances:>4} {r.in_scope_accuracy:>8.1%} {r.out_of_scope_rejection:>7.1%}"
            f" {r.urgent_recall:>7.1%} {r.wer:>6.1%} {r.rtf:>6.3f}  {ms(r.endpoint_ms)} {ms(r.intent_ms)} {ms(r.first_audio_ms)}"
            f"   {r.cut}/{r.late}/{r.max_length}/{r.unheard}"
        )
    for name, reason in numbers["skipped"].items():
        print(f"  {name}: skipped ({reason})")
    print(
        "notes: latencies are median/90th percentile from the true end of the question's speech: to the\n"
        "  end-of-speech decision (audio time), to the intent being ready (+ recognizer final result and\n"
        "  matching, wall clock), to the first sample of the answer (+ pyttsx3 synthesis of its first\n"
        "  sentence). Device output latency (about 30 ms measured on PulseAudio) is not included, and the\n"
        "  recognizer is assumed to keep up with the microphone (RTF below 1). cut: the decision came before\n"
        f"  the question ended; late: not decided within {PAD_AFTER:g} s of its end, where the recognizer's stream\n"
        "  stops (the endpointer alone hears the babble go on, to time the decision); long: only the length\n"
        "  limit ended it; unheard: nothing recognized. Babble: "
        f"{BABBLE_TALKERS} guide sentences spoken at once by the same voice."
    )
    startup = ", ".join(f"{k} {v} s" for k, v in numbers["recognizer_startup_s"].items())
    print(
        f"recognizer start-up: {startup}; synthesized {numbers['synthesized']} texts in {numbers['synthesis_s']} s "
        f"(cache: {cache}); {numbers['workers']} worker process(es); total {numbers['elapsed_s']} s\n"
        f"peak memory: {numbers['listening_peak_memory_mb']} MB in a listening process (conversation, recognizer,\n"
        f"  eSpeak NG), {numbers['peak_memory_mb']} MB in the main one{' (with Piper)' if numbers['synthesized'] else ''};"
        " --json adds every miss with what was heard"
    )
