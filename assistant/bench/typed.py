"""Typed-question benchmark: accuracy on each question set, matching latency, load time."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict
from pathlib import Path

from ..dialogue import Session
from ..intents import load_intents
from ..safety import RedFlags
from .questions import FAR_FROM_SAMPLES, QUESTION_SETS, evaluate, far_from_samples, load_dev_set


def run_text_bench(
    as_json: bool = False,
    sets: dict[str, Path] = QUESTION_SETS,
    rounds: int = 5,
    guide: Path | None = None,
    overlay: Path | None = None,
) -> dict:
    """Print and return accuracy on each question set, per-question latency and start-up time;
    with `guide`, for that guide's intents (refined by `overlay` only when one is given)."""
    started = time.perf_counter()
    intents = load_intents(guide, overlay)
    loaded = time.perf_counter()
    # The red flags' notes and topics belong to the bundled guide; another guide gets the advice alone.
    session = Session.create(intents, red_flags=RedFlags.from_file(intents, own_guide=guide is None))
    ready = time.perf_counter()
    questions = {name: load_dev_set(path) for name, path in sets.items()}
    scores = {name: evaluate(session, rows) for name, rows in questions.items()}
    far = {name: evaluate(session, far_from_samples(session, rows)) for name, rows in questions.items()}
    latencies = []
    for _ in range(rounds):
        for row in (row for rows in questions.values() for row in rows):
            session.reset()
            t0 = time.perf_counter()
            session.respond(row.question)
            latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    numbers = {
        "sets": {name: {k: v for k, v in asdict(s).items() if k != "misses"} for name, s in scores.items()},
        "far_from_samples": {name: {k: v for k, v in asdict(s).items() if k != "misses"} for name, s in far.items()},
        "far_cutoff": FAR_FROM_SAMPLES,
        "load_intents_ms": round((loaded - started) * 1000, 1),
        "load_total_ms": round((ready - started) * 1000, 1),
        "latency_p50_ms": round(statistics.median(latencies), 3),
        "latency_p95_ms": round(latencies[int(len(latencies) * 0.95)], 3),
        "latency_max_ms": round(latencies[-1], 3),
    }
    if as_json:
        print(json.dumps(numbers))
        return numbers
    print(f"{'questions':<24}" + "".join(f"{name:>8}" for name in scores))
    rows = [("count", "questions", "{:8d}"), ("in-scope accuracy", "in_scope_accuracy", "{:8.1%}"),
            ("out-of-scope rejection", "out_of_scope_rejection", "{:8.1%}"),
            ("in scope asked back", "asked_back", "{:8.1%}"), ("in scope declined", "declined", "{:8.1%}"),
            ("wrong answers", "wrong_answers", "{:8.1%}"),
            ("urgent recall", "urgent_recall", "{:8.1%}"), ("false urgent", "false_urgent", "{:8d}")]  # fmt: skip
    for label, key, form in rows:
        print(f"{label:<24}" + "".join(form.format(getattr(s, key)) for s in scores.values()))
    print(f"far from every sample (nearest sample under {FAR_FROM_SAMPLES:.0%} of the question's words):")
    for label, key, form in rows[:3] + rows[5:6]:
        print(f"  {label:<22}" + "".join(form.format(getattr(s, key)) for s in far.values()))
    print(f"load: intents {numbers['load_intents_ms']} ms, ready to answer {numbers['load_total_ms']} ms")
    print(
        f"answer latency over {len(latencies)} questions: p50 {numbers['latency_p50_ms']} ms, "
        f"p95 {numbers['latency_p95_ms']} ms, max {numbers['latency_max_ms']} ms"
    )
    for name, s in scores.items():
        for miss in s.misses:
            print(f"  {name} miss: {miss}")
    return numbers
