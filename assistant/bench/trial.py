"""One spoken question streamed through the listening path as microphone audio is, and the
scores and latencies of many such trials in one condition."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..audio import SPEECH_RATE
from ..audio.denoise import NoiseSuppressor
from ..dialogue import Reply, Session
from ..endpoint import Endpointer, SpeechEvent, listen
from ..errors import InputError
from ..listen import alternatives_of, question_text
from ..settings import VoiceSettings
from ..speech_in import Recognizer
from ..speech_out import Speaker
from .conditions import Condition
from .noise import PAD_AFTER
from .questions import DevQuestion, score
from .wer import normalize_words, word_errors

BLOCK = SPEECH_RATE // 50
"""20 ms, the block size of the microphone."""


class TimedEndpointer(Endpointer):
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
    condition: Condition
    """Who asked it, in what noise."""
    heard: str
    """The text answered (empty when nothing was heard)."""
    reply: Reply | None
    """The reply; None when nothing was heard."""
    hearing: str | None
    """How well the recognizer heard it (`Transcript.hearing`); None when nothing was heard."""
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
    witnessed: bool
    """The suppressor took the question away, and the witness heard it (see `endpoint.listen`)."""
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
    condition: Condition,
    recognizer: Recognizer,
    endpointer: TimedEndpointer,
    session: Session,
    speaker: Speaker,
    suppressor: NoiseSuppressor | None = None,
    witness: TimedEndpointer | None = None,
) -> Trial:
    """Stream one question (`stream`, whose speech ends `speech_end` seconds in) through listen ->
    question_text -> respond, and synthesize the first sentence of the answer; with a
    `suppressor` and its `witness`, as the listening loop hears a microphone (see `endpoint.listen`).

    The recognizer hears the stream up to PAD_AFTER after the speech. When the endpointer has not
    decided by then, `listen` ends with the stream and the rest of `stream` goes to the endpointer
    alone, to find when a microphone's endless stream would have been cut: that is the latency
    a patient would see, though the transcript then misses what the recognizer would have heard
    until that moment.

    The stream is fed faster than real time. Work that takes longer than the audio it follows (the
    final transcript taken during a pause) would put a live listener behind the microphone: that
    lag, at the block that ended the question, is added to the latencies.
    """
    heard_until = min(len(stream), int((speech_end + PAD_AFTER) * SPEECH_RATE))
    consumed = 0
    exhausted_at = 0.0
    handed: list[tuple[float, float]] = []  # when each block was handed over, and how far behind a live stream

    def blocks() -> Iterator[np.ndarray]:
        nonlocal consumed, exhausted_at
        behind = 0.0
        for start in range(0, heard_until, BLOCK):
            if handed:
                behind = max(0.0, behind + time.perf_counter() - handed[-1][0] - BLOCK / SPEECH_RATE)
            consumed = min(start + BLOCK, heard_until)
            handed.append((time.perf_counter(), behind))
            yield stream[start:consumed]
        exhausted_at = time.perf_counter()

    # Each question is a stream of its own, with its clock at zero and no noise floor yet.
    endpointer.reset()
    if witness is not None:
        witness.reset()
    session.reset()
    started = time.perf_counter()
    transcript = listen(
        blocks(), recognizer, endpointer, pause_ends_after=session.pause_ends_after, suppressor=suppressor, witness=witness
    )
    returned = time.perf_counter()
    text = question_text(transcript) if transcript else ""
    try:
        reply = session.respond(text, transcript.hearing, alternatives_of(transcript, text)) if transcript else None
    except InputError:  # nothing heard: the hands-free loop ignores it
        reply = None
    matched = time.perf_counter()

    late = endpointer.end is None and endpointer.in_speech
    if late:
        heard_from = exhausted_at
        for start in range(heard_until, len(stream), BLOCK):
            block = stream[start : start + BLOCK]
            endpointer.feed(block if suppressor is None else suppressor.process(block))
            if endpointer.end:
                break
    # An utterance the suppressor took away was ended by the witness.
    decider = witness if endpointer.end is None and witness is not None and witness.end is not None else endpointer
    if not late:
        heard_from = decider.decided_at
        heard_from -= next((behind for at, behind in reversed(handed) if at <= heard_from), 0.0)
    end = decider.end
    endpoint_s = intent_s = first_audio_s = None
    if end is None:
        reason = "none"
    elif decider.decided < speech_end:
        reason = "cut"
    else:
        reason = end.reason
        endpoint_s = decider.decided - speech_end
        intent_s = endpoint_s + (matched - heard_from)
        if reply is not None and reply.answer:
            synthesis = time.perf_counter()
            next(iter(speaker.sentence_audio(reply.answer, VoiceSettings())))
            first_audio_s = intent_s + time.perf_counter() - synthesis
    reference = normalize_words(row.question)
    return Trial(
        row=row,
        condition=condition,
        heard=text,
        reply=reply,
        hearing=transcript.hearing if transcript else None,
        errors=word_errors(reference, normalize_words(text)),
        reference_words=len(reference),
        audio_s=consumed / SPEECH_RATE,
        recognition_s=returned - started,
        end_reason=reason,
        late=late,
        witnessed=decider is witness,
        endpoint_s=endpoint_s,
        intent_s=intent_s,
        first_audio_s=first_audio_s,
    )


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------


@dataclass
class ConditionResult:
    """How one recognizer does in one condition, over its trials."""

    engine: str
    """Recognizer engine."""
    voice: str
    """Who asked, as `Voice.label` prints it."""
    condition: str
    """The noise, as `Condition.name` prints it ("quiet", "babble 10 dB", "fresh, quiet")."""
    noise: str
    """One of conditions.NOISES."""
    snr: float | None
    """Noise level in dB below the speech; None without a level."""
    fresh: bool
    """Whether every question was the first the recognizer heard."""
    pause: float | None
    """Seconds of the pause in the middle of each question (`Condition.pause`); None: none."""
    utterances: int
    """Questions spoken."""
    in_scope_accuracy: float
    """Right topic: share of in-scope questions answered with an expected topic."""
    wrong_answers: float
    """Wrong topic: share of questions that are not red-flag reports answered with a topic not asked about."""
    asked_back: float
    """Share of in-scope questions answered with a question back."""
    declined: float
    """Share of in-scope questions declined or not heard."""
    out_of_scope_rejection: float
    """Share of out-of-scope questions given no topic and no command."""
    urgent_recall: float
    """Share of red-flag reports answered as urgent."""
    false_urgent: int
    """Questions that are not red-flag reports answered as urgent."""
    wer: float
    """Word errors over reference words, all questions."""
    rtf: float
    """Wall-clock time in `listen` over the audio it consumed."""
    endpoint_ms: tuple[float, float, float] | None
    """Median, 90th percentile and maximum, speech end -> end-of-speech decision."""
    intent_ms: tuple[float, float, float] | None
    """Median, 90th percentile and maximum, speech end -> reply ready."""
    first_audio_ms: tuple[float, float, float] | None
    """Median, 90th percentile and maximum, speech end (the last spoken word) -> first sample of the reply."""
    cut: int
    """Utterances whose end-of-speech decision came before the question ended."""
    late: int
    """Utterances whose end was not decided within PAD_AFTER (their transcripts stop there)."""
    max_length: int
    """Utterances ended only by the endpointer's length limit."""
    witnessed: int
    """Utterances the noise suppressor took away, heard from the microphone's own sound."""
    unheard: int
    """Utterances in which no speech was recognized."""
    misses: list[str]
    """Each utterance not answered as the question set expects, with what was heard."""
    transcripts: list[dict]
    """Each utterance's question, what was heard and how well, and the reply's intent and outcome: enough
    to answer the same transcripts again under another rule and compare it on the same audio."""


def _percentiles(values: list[float]) -> tuple[float, float, float] | None:
    """Median, 90th percentile (nearest rank) and maximum, in milliseconds."""
    if not values:
        return None
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return round(statistics.median(values) * 1000), round(p90 * 1000), round(values[-1] * 1000)


def summarize(engine: str, condition: Condition, trials: list[Trial]) -> ConditionResult:
    """Scores and latencies of the trials of one condition."""
    scores = score([t.row for t in trials], [t.reply for t in trials])
    return ConditionResult(
        engine=engine,
        voice=condition.voice.label,
        condition=condition.name,
        noise=condition.noise,
        snr=condition.snr,
        fresh=condition.fresh,
        pause=condition.pause,
        utterances=len(trials),
        in_scope_accuracy=scores.in_scope_accuracy,
        wrong_answers=scores.wrong_answers,
        asked_back=scores.asked_back,
        declined=scores.declined,
        out_of_scope_rejection=scores.out_of_scope_rejection,
        urgent_recall=scores.urgent_recall,
        false_urgent=scores.false_urgent,
        wer=sum(t.errors for t in trials) / max(1, sum(t.reference_words for t in trials)),
        rtf=sum(t.recognition_s for t in trials) / max(1e-9, sum(t.audio_s for t in trials)),
        endpoint_ms=_percentiles([t.endpoint_s for t in trials if t.endpoint_s is not None]),
        intent_ms=_percentiles([t.intent_s for t in trials if t.intent_s is not None]),
        first_audio_ms=_percentiles([t.first_audio_s for t in trials if t.first_audio_s is not None]),
        cut=sum(t.end_reason == "cut" for t in trials),
        late=sum(t.late for t in trials),
        max_length=sum(t.end_reason == "max_length" for t in trials),
        witnessed=sum(t.witnessed for t in trials),
        unheard=sum(not t.heard for t in trials),
        misses=[
            f"{t.row.question!r} heard as {t.heard!r} -> {t.reply.intent if t.reply else None}"
            f"{f' ({t.reply.outcome})' if t.reply and t.reply.outcome != 'answer' else ''}"
            for t in trials
            if score([t.row], [t.reply]).misses
        ],
        transcripts=[
            {"question": t.row.question, "heard": t.heard, "hearing": t.hearing,
             "intent": t.reply.intent if t.reply else None, "outcome": t.reply.outcome if t.reply else None}
            for t in trials
        ],  # fmt: skip
    )
