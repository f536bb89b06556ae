"""Speech output benchmark: time to first audio and real-time factor per engine and answer length.

Time to first audio is how long an answer waits before its first sentence is ready to
play; the real-time factor is synthesis time divided by the length of the audio made.
Answers are the first 1, 3 and 6 sentences of a passage of the patient guide. No sound
device is needed: only synthesis is timed.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass

from ..errors import SpeechError
from ..settings import ENGINES, VoiceSettings
from ..speech_out import Speaker, split_sentences

# Six consecutive sentences of the guide's section "What is CAR T-Cell Therapy?".
ANSWER = (
    "CAR T-cell therapy is a form of cancer treatment. It uses the body’s immune cells to fight tumors. "
    "These special cells are called T-cells. They are changed in a lab to seek out and destroy cancer cells "
    "more effectively. First doctors take some T-cells from the patient’s blood. Next these cells undergo "
    "genetic changes in the lab."
)
ANSWER_SENTENCES = (1, 3, 6)


def sample_answer(sentences: int) -> str:
    """The first `sentences` sentences of ANSWER."""
    return " ".join(split_sentences(ANSWER)[:sentences])


@dataclass
class SpeechTiming:
    """Synthesis of one answer by one engine (medians over the rounds)."""

    engine: str
    """Engine name."""
    sentences: int
    """Sentences in the answer."""
    words: int
    """Words in the answer."""
    audio_s: float
    """Length of the synthesized speech in seconds."""
    first_audio_ms: float
    """From the call until the first sentence's audio is ready."""
    synthesis_ms: float
    """From the call until the whole answer is synthesized."""
    real_time_factor: float
    """synthesis time / audio length; below 1 is faster than speaking."""


def time_answer(speaker: Speaker, text: str, settings: VoiceSettings, rounds: int) -> SpeechTiming:
    """Synthesize `text` `rounds` times, sentence by sentence as `Speaker.speak` does."""
    firsts, totals, lengths = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        first = None
        audio_s = 0.0
        for part in speaker.sentence_audio(text, settings):
            first = first if first is not None else time.perf_counter() - start
            audio_s += part.duration
        totals.append(time.perf_counter() - start)
        firsts.append(first)
        lengths.append(audio_s)
    total = statistics.median(totals)
    audio_s = statistics.median(lengths)
    return SpeechTiming(
        engine=settings.engine,
        sentences=len(split_sentences(text)),
        words=len(text.split()),
        audio_s=round(audio_s, 2),
        first_audio_ms=round(statistics.median(firsts) * 1000, 1),
        synthesis_ms=round(total * 1000, 1),
        real_time_factor=round(total / audio_s, 4),
    )


def run_speech_bench(as_json: bool = False, rounds: int = 3, engines: tuple[str, ...] = ENGINES) -> dict:
    """Time every engine on 1-, 3- and 6-sentence answers and print a table (or JSON)."""
    speaker = Speaker()
    results: list[SpeechTiming] = []
    load_ms: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for engine in engines:
        settings = VoiceSettings(engine=engine)
        start = time.perf_counter()
        try:
            speaker.synthesize("Hello.", settings)  # loads the engine; not part of the answer timings
        except SpeechError as err:
            skipped[engine] = str(err)
            continue
        load_ms[engine] = round((time.perf_counter() - start) * 1000, 1)
        for count in ANSWER_SENTENCES:
            results.append(time_answer(speaker, sample_answer(count), settings, rounds))
    numbers = {"rounds": rounds, "engine_load_ms": load_ms, "skipped": skipped, "answers": [asdict(r) for r in results]}
    if as_json:
        print(json.dumps(numbers, ensure_ascii=False))
        return numbers
    print(f"speech synthesis, median of {rounds} rounds (first use of each engine: "
          + ", ".join(f"{name} {ms:.0f} ms" for name, ms in load_ms.items()) + ")")
    print(f"  {'engine':8} {'sentences':>9} {'words':>6} {'audio s':>8} {'first audio ms':>15} {'synthesis ms':>13} {'RTF':>7}")
    for r in results:
        print(
            f"  {r.engine:8} {r.sentences:>9} {r.words:>6} {r.audio_s:>8.2f} {r.first_audio_ms:>15.1f}"
            f" {r.synthesis_ms:>13.1f} {r.real_time_factor:>7.3f}"
        )
    for engine, reason in skipped.items():
        print(f"  {engine}: skipped ({reason})")
    return numbers


if __name__ == "__main__":
    run_speech_bench()
