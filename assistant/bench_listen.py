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

import hashlib
import json
import logging
import multiprocessing
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import platformdirs

from .audio import SPEECH_RATE, read_wav, resample, write_wav
from .bench import DevQuestion, load_dev_set, score
from .dialogue import Reply, Session
from .errors import InputError, SpeechError
from .intents import GUIDE_FILE
from .knowledge import Guide
from .listen import ListenOptions, question_text
from .settings import VoiceSettings
from .endpoint import Endpointer, SpeechEvent, listen
from .speech_in import Recognizer, make_recognizer, words_of
from .speech_out import Speaker

_LOGGER = logging.getLogger(__name__)

RATES = (150, 200)
"""Speaking rates of the questions, in words per minute."""
SNRS: tuple[float | None, ...] = (None, 20.0, 10.0, 5.0)
"""Conditions: None is clean; a number is babble at that signal-to-noise ratio in dB."""
QUOTAS = {"in scope": 45, "out of scope": 10, "urgent": 5}
"""How many questions of each kind are spoken."""
PAD_BEFORE = 0.5
"""Seconds of silence (or babble alone) before each question."""
PAD_AFTER = 1.0
"""Seconds of silence (or babble alone) after each question that the recognizer hears when the
endpointer has not ended the question before; beyond them the endpointer alone goes on
listening, to time its decision (see `ask_spoken`)."""
BLOCK = SPEECH_RATE // 50
"""20 ms, the block size of the microphone."""
BABBLE_TALKERS = 6
BABBLE_SECONDS = 40.0
BABBLE_RATE = 175
SEED = 1729
TRAILING_SILENCE = ListenOptions().trailing_silence
"""Seconds of silence that end a question, as in the hands-free loop."""
VOICE = "en_US-joe-medium"
"""The Piper voice that speaks the questions (the one `scripts/setup --piper` installs)."""

# Piper's own leading and trailing silence is digital near-zero; anything above this
# envelope level (about -50 dBFS) is speech, weak fricatives included.
_SPEECH_LEVEL = 0.003
_ENVELOPE_SECONDS = 0.005
# Transcripts spell these as the recognizers do; the development set spells them as patients write.
_SOUND_ALIKE = {("car", "tea"): ("car", "t"), ("cart",): ("car", "t")}


# ---------------------------------------------------------------------------
# The questions and their audio
# ---------------------------------------------------------------------------


def kind_of(row: DevQuestion) -> str:
    """"urgent", "in scope" or "out of scope": the keys of QUOTAS."""
    return "urgent" if row.urgent else "in scope" if row.in_scope else "out of scope"


def spoken_selection(dev_set: Sequence[DevQuestion], quotas: dict[str, int] = QUOTAS) -> list[DevQuestion]:
    """Evenly spaced rows of each kind, as many as the quota says, in the development set's order."""
    chosen: list[int] = []
    for kind, wanted in quotas.items():
        rows = [i for i, row in enumerate(dev_set) if kind_of(row) == kind]
        if len(rows) < wanted:
            raise InputError(f"the development set has {len(rows)} {kind} questions; the spoken set needs {wanted}")
        step = len(rows) / wanted
        chosen += [rows[int(i * step)] for i in range(wanted)]
    return [dev_set[i] for i in sorted(chosen)]


def speech_span(samples: np.ndarray, rate: int = SPEECH_RATE) -> tuple[int, int]:
    """First and one-past-last sample where the smoothed envelope reaches speech level."""
    width = max(1, int(rate * _ENVELOPE_SECONDS))
    envelope = np.convolve(np.abs(samples), np.ones(width) / width, mode="same")
    loud = np.flatnonzero(envelope >= _SPEECH_LEVEL)
    if len(loud) == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1


def default_cache() -> Path:
    """Where synthesized questions are kept between runs."""
    return Path(platformdirs.user_cache_dir("car-t-assistant")) / "spoken-dev"


class VoiceCache:
    """Texts spoken by Piper at a rate, as 16 kHz speech without leading or trailing silence,
    kept as WAV files named by a hash of voice, rate and text."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_cache()
        self._speaker: Speaker | None = None
        self.synthesized = 0
        """How many texts this cache had to synthesize."""

    def path(self, text: str, rate: int) -> Path:
        key = hashlib.sha256(f"{VOICE}\n{rate}\n{text}".encode()).hexdigest()[:20]
        return self.folder / f"{key}.wav"

    def speech(self, text: str, rate: int) -> np.ndarray:
        """The text spoken at `rate` words per minute, synthesized on first use."""
        path = self.path(text, rate)
        if path.is_file():
            return read_wav(path).samples
        if self._speaker is None:
            self._speaker = Speaker()
        try:
            sound = self._speaker.synthesize(text, VoiceSettings(engine="piper", voice=VOICE, rate=rate))
        except SpeechError as err:
            raise SpeechError(f"the spoken benchmark speaks its questions with Piper: {err}") from err
        samples = resample(sound.samples, sound.rate, SPEECH_RATE)
        start, end = speech_span(samples)
        if end == start:
            raise SpeechError(f"Piper produced silence for {text!r}; check the Piper installation (scripts/setup --piper)")
        self.folder.mkdir(parents=True, exist_ok=True)
        # Written under another name first, so that an interrupted run leaves no truncated file.
        partial = path.with_suffix(".part")
        write_wav(partial, samples[start:end], SPEECH_RATE)
        partial.replace(path)
        self.synthesized += 1
        return read_wav(path).samples


def babble_sentences(count: int = BABBLE_TALKERS) -> list[str]:
    """Evenly spaced guide sentences of 12 to 30 words, one per babbling talker."""
    guide = Guide.from_file(GUIDE_FILE)
    sentences = [s for section in guide.sections for s in section.sentences if 12 <= len(s.split()) <= 30]
    step = len(sentences) / count
    return [sentences[int(i * step)] for i in range(count)]


def make_babble(utterances: Sequence[np.ndarray], seconds: float = BABBLE_SECONDS, seed: int = SEED) -> np.ndarray:
    """Several talkers at once: each utterance repeated with short random pauses, started at a
    random point, all summed; scaled to unit mean power."""
    rng = np.random.default_rng(seed)
    length = int(seconds * SPEECH_RATE)
    total = np.zeros(length, dtype=np.float64)
    for utterance in utterances:
        talker = np.asarray(utterance, dtype=np.float64)
        talker /= np.sqrt(np.mean(talker * talker))
        parts, filled = [], 0
        while filled < length:
            pause = np.zeros(int(rng.uniform(0.1, 0.6) * SPEECH_RATE))
            parts += [talker, pause]
            filled += len(talker) + len(pause)
        track = np.concatenate(parts)[:length]
        total += np.roll(track, int(rng.integers(length)))
    total /= np.sqrt(np.mean(total * total))
    return total.astype(np.float32)


def mix(speech: np.ndarray, babble: np.ndarray | None, snr: float | None, tail: float, offset: int = 0) -> np.ndarray:
    """The stream a microphone would hear: PAD_BEFORE, the speech, PAD_AFTER and `tail` more
    seconds, with babble (unit power, read from `offset` on, wrapping round) throughout at
    `snr` dB below the speech's mean power; silence around the speech when `snr` is None."""
    before, after = int(PAD_BEFORE * SPEECH_RATE), int((PAD_AFTER + tail) * SPEECH_RATE)
    stream = np.concatenate([np.zeros(before), speech, np.zeros(after)])
    if snr is not None:
        if babble is None:
            raise ValueError("a noisy condition needs babble")
        power = np.mean(np.asarray(speech, dtype=np.float64) ** 2)
        noise = np.take(babble, np.arange(offset, offset + len(stream)), mode="wrap")
        stream += np.sqrt(power / 10 ** (snr / 10)) * noise
    peak = np.max(np.abs(stream))
    # A sum louder than full scale would clip at the microphone; scaling keeps the SNR.
    return (stream * (0.99 / peak if peak > 0.99 else 1.0)).astype(np.float32)


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation, sound-alike spellings as the recognizers spell them."""
    words = words_of(text)
    out: list[str] = []
    i = 0
    while i < len(words):
        for pattern, spelled in _SOUND_ALIKE.items():
            if tuple(words[i : i + len(pattern)]) == pattern:
                out += spelled
                i += len(pattern)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions, deletions and insertions that turn the reference into the hypothesis."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        diagonal, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref != hyp))
    return row[-1]


# ---------------------------------------------------------------------------
# One spoken question
# ---------------------------------------------------------------------------


class _TimedEndpointer(Endpointer):
    """An endpointer that notes its first end-of-speech event since `listen` started, and where in
    the stream and when on the wall clock it was decided: at the end of the block that completed it."""

    def cancel(self) -> None:
        super().cancel()
        self.end: SpeechEvent | None = None
        self.decided = 0.0
        """Seconds of audio fed when the end was decided."""
        self.decided_at = 0.0
        """time.perf_counter() when the end was decided."""

    def feed(self, block: np.ndarray) -> list[SpeechEvent]:
        events = super().feed(block)
        if self.end is None and (end := next((e for e in events if e.kind == "end"), None)):
            self.end, self.decided, self.decided_at = end, self.position, time.perf_counter()
        return events


@dataclass
class Trial:
    """One spoken question through the pipeline."""

    row: DevQuestion
    """The development question."""
    rate: int
    """Speaking rate in words per minute."""
    snr: float | None
    """Babble level in dB below the speech; None in quiet."""
    heard: str
    """The text answered (empty when nothing was heard)."""
    reply: Reply | None
    """The reply; None when nothing was heard."""
    errors: int
    """Word errors of the transcript against the question."""
    reference_words: int
    """Words in the question."""
    audio_s: float
    """Seconds of audio the recognizer path consumed."""
    recognition_s: float
    """Wall-clock seconds spent in `listen`."""
    end_reason: str
    """How the endpointer ended the question: "silence" or "max_length"; "cut" when that
    came before the question was over; "none" when it never heard speech start."""
    late: bool
    """The end was decided only after PAD_AFTER, when the recognizer's stream had ended."""
    endpoint_s: float | None
    """Audio seconds from the end of the question's speech to the end-of-speech decision."""
    intent_s: float | None
    """endpoint_s + the recognizer's final result + question matching (wall clock)."""
    first_audio_s: float | None
    """intent_s + synthesis of the answer's first sentence by pyttsx3."""


def ask_spoken(
    row: DevQuestion,
    stream: np.ndarray,
    speech_end: float,
    rate: int,
    snr: float | None,
    recognizer: Recognizer,
    endpointer: _TimedEndpointer,
    session: Session,
    speaker: Speaker,
) -> Trial:
    """Stream one question (`stream`, whose speech ends `speech_end` seconds in) through listen ->
    question_text -> respond, and synthesize the first sentence of the answer.

    The recognizer hears the stream up to PAD_AFTER after the speech. When the endpointer has not
    decided by then, `listen` ends with the stream and the rest of `stream` goes to the endpointer
    alone, to find when a microphone's endless stream would have been cut: that is the latency
    a patient would see, though the transcript then misses what the recognizer would have heard
    until that moment.
    """
    heard_until = min(len(stream), int((speech_end + PAD_AFTER) * SPEECH_RATE))
    consumed = 0
    exhausted_at = 0.0

    def blocks() -> Iterator[np.ndarray]:
        nonlocal consumed, exhausted_at
        for start in range(0, heard_until, BLOCK):
            consumed = min(start + BLOCK, heard_until)
            yield stream[start:consumed]
        exhausted_at = time.perf_counter()

    # Each question is a stream of its own, with its clock at zero and no noise floor yet.
    endpointer.reset()
    started = time.perf_counter()
    transcript = listen(blocks(), recognizer, endpointer)
    returned = time.perf_counter()
    session.reset()
    text = question_text(transcript) if transcript else ""
    try:
        reply = session.respond(text)
    except InputError:  # nothing heard: the hands-free loop ignores it
        reply = None
    matched = time.perf_counter()

    late = endpointer.end is None and endpointer.in_speech
    if late:
        heard_from = exhausted_at
        for start in range(heard_until, len(stream), BLOCK):
            endpointer.feed(stream[start : start + BLOCK])
            if endpointer.end:
                break
    else:
        heard_from = endpointer.decided_at
    end = endpointer.end
    endpoint_s = intent_s = first_audio_s = None
    if end is None:
        reason = "none"
    elif endpointer.decided < speech_end:
        reason = "cut"
    else:
        reason = end.reason
        endpoint_s = endpointer.decided - speech_end
        intent_s = endpoint_s + (matched - heard_from)
        if reply is not None and reply.answer:
            synthesis = time.perf_counter()
            next(iter(speaker.sentence_audio(reply.answer, VoiceSettings())))
            first_audio_s = intent_s + time.perf_counter() - synthesis
    reference = normalize_words(row.question)
    return Trial(
        row=row,
        rate=rate,
        snr=snr,
        heard=text,
        reply=reply,
        errors=word_errors(reference, normalize_words(text)),
        reference_words=len(reference),
        audio_s=consumed / SPEECH_RATE,
        recognition_s=returned - started,
        end_reason=reason,
        late=late,
        endpoint_s=endpoint_s,
        intent_s=intent_s,
        first_audio_s=first_audio_s,
    )


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------


@dataclass
class ConditionResult:
    """How one recognizer does in one condition (or at one rate), over its trials."""

    engine: str
    """Recognizer engine."""
    condition: str
    """"clean", "babble N dB", or "N wpm" for one rate over all conditions."""
    utterances: int
    """Questions spoken."""
    in_scope_accuracy: float
    """Share of in-scope questions answered with an expected intent."""
    out_of_scope_rejection: float
    """Share of out-of-scope questions given no intent and no command."""
    urgent_recall: float
    """Share of red-flag reports answered as urgent."""
    false_urgent: int
    """Non-urgent questions answered as urgent."""
    wer: float
    """Word errors over reference words, all questions."""
    rtf: float
    """Wall-clock time in `listen` over the audio it consumed."""
    endpoint_ms: tuple[float, float] | None
    """Median and 90th percentile, speech end -> end-of-speech decision."""
    intent_ms: tuple[float, float] | None
    """Median and 90th percentile, speech end -> intent ready."""
    first_audio_ms: tuple[float, float] | None
    """Median and 90th percentile, speech end -> first sample of the answer."""
    cut: int
    """Utterances whose end-of-speech decision came before the question ended."""
    late: int
    """Utterances whose end was not decided within PAD_AFTER (their transcripts stop there)."""
    max_length: int
    """Utterances ended only by the endpointer's length limit."""
    unheard: int
    """Utterances in which no speech was recognized."""
    misses: list[str]
    """Each utterance not answered as the development set expects, with what was heard."""


def _spread(values: list[float]) -> tuple[float, float] | None:
    if not values:
        return None
    values = sorted(values)
    return round(statistics.median(values) * 1000), round(values[min(len(values) - 1, int(0.9 * len(values)))] * 1000)


def summarize(engine: str, condition: str, trials: list[Trial]) -> ConditionResult:
    """Scores and latencies of a set of trials."""
    scores = score([t.row for t in trials], [t.reply for t in trials])
    return ConditionResult(
        engine=engine,
        condition=condition,
        utterances=len(trials),
        in_scope_accuracy=scores.in_scope_accuracy,
        out_of_scope_rejection=scores.out_of_scope_rejection,
        urgent_recall=scores.urgent_recall,
        false_urgent=scores.false_urgent,
        wer=sum(t.errors for t in trials) / max(1, sum(t.reference_words for t in trials)),
        rtf=sum(t.recognition_s for t in trials) / max(1e-9, sum(t.audio_s for t in trials)),
        endpoint_ms=_spread([t.endpoint_s for t in trials if t.endpoint_s is not None]),
        intent_ms=_spread([t.intent_s for t in trials if t.intent_s is not None]),
        first_audio_ms=_spread([t.first_audio_s for t in trials if t.first_audio_s is not None]),
        cut=sum(t.end_reason == "cut" for t in trials),
        late=sum(t.late for t in trials),
        max_length=sum(t.end_reason == "max_length" for t in trials),
        unheard=sum(not t.heard for t in trials),
        misses=[
            f"{t.rate} wpm: {t.row.question!r} heard as {t.heard!r} -> {t.reply.intent if t.reply else None}"
            f"{' (urgent)' if t.reply and t.reply.urgent else ''}"
            for t in trials
            if score([t.row], [t.reply]).misses
        ],
    )


def condition_name(snr: float | None) -> str:
    return "clean" if snr is None else f"babble {snr:g} dB"


def _engines(engine: str) -> tuple[list[str], dict[str, str]]:
    """Engines to measure and engines skipped (with why): "auto" is every installed one."""
    from .models import find_model, install_hint

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
        self.endpointer = _TimedEndpointer(trailing_silence=TRAILING_SILENCE)
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
