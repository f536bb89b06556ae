"""Benchmarks that print their numbers: accuracy on each question set, matching latency, load time.

Three sets of questions, each by a different writer who saw the guide and the topics but not the
overlay: `dev` shaped the overlay from the start, `dev2` was used to improve it later, and `test`
was kept apart: its in-scope and out-of-scope numbers are the fairest guess at new questions. (Its
missed urgent reports did add red-flag phrases, so its urgent recall is no longer a fresh measure.)
"""

from __future__ import annotations

import csv
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .dialogue import Reply, Session
from .errors import InputError
from .intents import load_intents

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
DEV_SET = DATA / "dev_questions.tsv"
QUESTION_SETS = {"dev": DEV_SET, "dev2": DATA / "dev2_questions.tsv", "test": DATA / "test_questions.tsv"}


@dataclass
class DevQuestion:
    """One row of the development set."""

    question: str
    """As a patient would say it."""
    intents: frozenset[str]
    """Acceptable intents; empty when the guide does not answer it. Urgent rows say "*": only
    their urgency is scored."""
    urgent: bool
    """Whether it reports a red-flag symptom."""

    @property
    def in_scope(self) -> bool:
        return bool(self.intents)


def load_dev_set(path: Path = DEV_SET) -> list[DevQuestion]:
    """Rows of a tab-separated file with the columns question, intent (alternatives joined by '|'), urgent."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except OSError as err:
        raise InputError(f"cannot read development set '{path}': {err.strerror}") from err
    return [
        DevQuestion(row["question"], frozenset(filter(None, row["intent"].split("|"))), row["urgent"] == "1")
        for row in rows
    ]


@dataclass
class TextScores:
    """How the dialogue does on a development set."""

    in_scope_accuracy: float
    out_of_scope_rejection: float
    urgent_recall: float
    false_urgent: int
    questions: int
    misses: list[str]


def evaluate(session: Session, dev_set: list[DevQuestion]) -> TextScores:
    """Each question asked in a fresh conversation, so that no context carries over."""
    replies = []
    for row in dev_set:
        session.reset()
        replies.append(session.respond(row.question))
    return score(dev_set, replies)


def score(dev_set: list[DevQuestion], replies: list[Reply | None]) -> TextScores:
    """How the replies do against the development rows; None is a question that got no reply
    (nothing was heard), which rejects an out-of-scope question and misses any other."""
    hits = rejections = urgent_found = false_urgent = 0
    misses: list[str] = []
    for row, reply in zip(dev_set, replies, strict=True):
        intent = reply.intent if reply else None
        urgent = bool(reply and reply.urgent)
        if row.urgent:
            urgent_found += urgent
            if not urgent:
                misses.append(f"not urgent: {row.question}")
            continue
        false_urgent += urgent
        if row.in_scope:
            good = intent in row.intents
            hits += good
        else:
            good = intent is None and (reply is None or reply.action is None)
            rejections += good
        if not good:
            misses.append(f"{row.question!r} -> {intent} (expected {'|'.join(row.intents) or 'none'})")
    n_in = sum(1 for r in dev_set if r.in_scope and not r.urgent)
    n_out = sum(1 for r in dev_set if not r.in_scope and not r.urgent)
    n_urgent = sum(1 for r in dev_set if r.urgent)
    return TextScores(
        in_scope_accuracy=hits / n_in if n_in else 0.0,
        out_of_scope_rejection=rejections / n_out if n_out else 0.0,
        urgent_recall=urgent_found / n_urgent if n_urgent else 0.0,
        false_urgent=false_urgent,
        questions=len(dev_set),
        misses=misses,
    )


def run_text_bench(as_json: bool = False, sets: dict[str, Path] = QUESTION_SETS, rounds: int = 5) -> dict:
    """Print and return accuracy on each question set, per-question latency and start-up time."""
    started = time.perf_counter()
    intents = load_intents()
    loaded = time.perf_counter()
    session = Session.create(intents)
    ready = time.perf_counter()
    questions = {name: load_dev_set(path) for name, path in sets.items()}
    scores = {name: evaluate(session, rows) for name, rows in questions.items()}
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
            ("urgent recall", "urgent_recall", "{:8.1%}"), ("false urgent", "false_urgent", "{:8d}")]  # fmt: skip
    for label, key, form in rows:
        print(f"{label:<24}" + "".join(form.format(getattr(s, key)) for s in scores.values()))
    print(f"load: intents {numbers['load_intents_ms']} ms, ready to answer {numbers['load_total_ms']} ms")
    print(
        f"answer latency over {len(latencies)} questions: p50 {numbers['latency_p50_ms']} ms, "
        f"p95 {numbers['latency_p95_ms']} ms, max {numbers['latency_max_ms']} ms"
    )
    for name, s in scores.items():
        for miss in s.misses:
            print(f"  {name} miss: {miss}")
    return numbers
