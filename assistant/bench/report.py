"""The spoken benchmark's tables: one per recognizer and voice, a row per condition, and notes
that say what each column counts."""

from __future__ import annotations

import os
from pathlib import Path

from .conditions import SNRS
from .noise import BEEP_HZ, BEEP_PERIOD, MAINS_HZ, PAD_AFTER, ROOM_SIZE, room_distance
from .trial import ConditionResult

_HEADER = (
    f"  {'condition':22} {'n':>3} {'right':>6} {'wrong':>6} {'asked':>6} {'declin':>6} {'reject':>6} {'urgent':>6}"
    f" {'f.urg':>5} {'WER':>6} {'RTF':>5}  {'reply ms p50/p90/max':>20}  cut late long lost unheard"
)


def _ms(triple: tuple[float, float, float] | None) -> str:
    return "/".join(f"{v:.0f}" for v in triple) if triple else "-"


def _row(r: ConditionResult) -> str:
    return (
        f"  {r.condition:22} {r.utterances:>3} {r.in_scope_accuracy:>6.1%} {r.wrong_answers:>6.1%} {r.asked_back:>6.1%}"
        f" {r.declined:>6.1%} {r.out_of_scope_rejection:>6.1%} {r.urgent_recall:>6.1%} {r.false_urgent:>5}"
        f" {r.wer:>6.1%} {r.rtf:>5.3f}  {_ms(r.first_audio_ms):>20}  {r.cut:>3} {r.late:>4} {r.max_length:>4} {r.witnessed:>4} {r.unheard:>7}"
    )


def print_tables(numbers: dict, results: list[ConditionResult], cache: Path) -> None:
    kinds = ", ".join(f"{n} {kind}" for kind, n in numbers["kinds"].items())
    print(
        f"spoken questions: {numbers['questions']} from {numbers['question_set']} ({kinds}){' (--quick)' if numbers['quick'] else ''};"
        f" 20 ms blocks, trailing silence {numbers['trailing_silence_s']} s"
    )
    shown = None
    for r in results:
        if (r.engine, r.voice) != shown:
            shown = (r.engine, r.voice)
            print(f"{r.engine}, questions asked by {r.voice}:")
            print(_HEADER)
        print(_row(r))
    for name, reason in numbers["skipped"].items():
        print(f"  {name}: skipped ({reason})")
    room = f"{'x'.join(f'{side:g}' for side in ROOM_SIZE)} m"
    rt60 = numbers["room_rt60_s"]
    print(
        "notes: right: in-scope questions answered with the topic asked about; wrong: questions other than\n"
        "  red-flag reports answered with a topic not asked about; asked: in-scope questions answered with a\n"
        "  question back; declin(ed): in-scope questions declined or not heard; reject: out-of-scope questions\n"
        "  given no topic; urgent: red-flag reports answered as urgent; f.urg: other questions answered as\n"
        "  urgent. reply ms: from the last spoken word to the first sample of the reply, median/90th\n"
        "  percentile/maximum: the end-of-speech decision (audio time), the recognizer's final result and\n"
        "  matching, and eSpeak NG's synthesis of the reply's first sentence (wall clock); device output\n"
        "  latency (about 30 ms measured on PulseAudio) is not included, and the recognizer is assumed to keep\n"
        "  up with the microphone (RTF below 1). cut: the decision came before the question ended; late: not\n"
        f"  decided within {PAD_AFTER:g} s of its end, where the recognizer's stream stops (the endpointer alone\n"
        "  hears the noise go on, to time the decision); long: only the length limit ended it; lost: noise\n"
        "  suppression took the voice away, and it was recognized from the microphone's own sound; unheard:\n"
        "  nothing recognized.\n"
        f"  noise, at {', '.join(f'{snr:g}' for snr in SNRS)} dB below the speech: babble: six guide sentences at once, by\n"
        "  voices other than the question's (eSpeak NG accents for Piper, Piper at six rates for eSpeak NG);\n"
        f"  tv: those talkers one at a time over synthesized chords, 200 Hz-5 kHz; fan: filtered noise with {MAINS_HZ:g} Hz\n"
        f"  hum; beeps: {BEEP_HZ:g} Hz every {BEEP_PERIOD:g} s; room: a {room} hard-walled room"
        f"{f' (RT60 {rt60:g} s)' if rt60 else ''}, the talker {room_distance():.1f} m\n"
        "  from the microphone, babble from across the room. fresh: the recognizer forgets the voice and the\n"
        "  room before every question; otherwise it has heard one question of the condition first. pause:\n"
        "  the voice says the words before and after the question's middle word apart, with that silence between."
    )
    startup = ", ".join(f"{k} {v} s" for k, v in numbers["recognizer_startup_s"].items())
    print(
        f"recognizer start-up: {startup}; synthesized {numbers['synthesized']} texts and made the noise in"
        f" {numbers['prepare_s']} s (cache: {cache}); {numbers['workers']} worker process(es); total {numbers['elapsed_s']} s,\n"
        f"  load average over the last 5 minutes {numbers['load_average']} on {os.cpu_count()} cores, the bench's own"
        f" {numbers['workers']} included (latencies and RTF are wall clock)\n"
        f"peak memory: {numbers['listening_peak_memory_mb']} MB in a listening process (conversation, recognizer,\n"
        f"  eSpeak NG), {numbers['peak_memory_mb']} MB in the main one; --json adds every miss with what was heard"
    )
