"""The question sets the benchmarks ask, and how replies are scored against them.

Three sets of questions, each by a different writer who saw the guide and the topics but not the
overlay: `dev` shaped the overlay from the start, `dev2` was used to improve it later, and `test`
was kept apart: its in-scope and out-of-scope numbers are the fairest guess at new questions. (Its
missed urgent reports did add red-flag phrases, so its urgent recall is no longer a fresh measure.)
They ship with the package (`intents/questions/`); any file of the same columns can be given instead.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..dialogue import Reply, Session
from ..errors import InputError
from ..resources import intents_file

QUESTION_SETS = {name: intents_file(f"questions/{name}.tsv") for name in ("dev", "dev2", "test", "fresh")}
DEV_SET = QUESTION_SETS["dev"]


def question_sets(names_or_paths: list[str] | None) -> dict[str, Path]:
    """Question sets by name ("dev", "test", ...) or as .tsv paths; every shipped set for None."""
    if not names_or_paths:
        return dict(QUESTION_SETS)
    sets: dict[str, Path] = {}
    for item in names_or_paths:
        if item in QUESTION_SETS:
            sets[item] = QUESTION_SETS[item]
        elif Path(item).suffix == ".tsv":
            sets[Path(item).stem] = Path(item)
        else:
            raise InputError(f"unknown question set {item!r}; use one of {', '.join(QUESTION_SETS)} or a .tsv file")
    return sets
QUOTAS = {"in scope": 45, "out of scope": 10, "urgent": 5}
"""How many questions of each kind the spoken benchmark asks."""


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


def read_rows(path: Path, what: str) -> list[dict[str, str]]:
    """The rows of a tab-separated file with a header line; `what` names the file in an error."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t"))
    except OSError as err:
        raise InputError(f"cannot read {what} '{path}': {err.strerror}; check that the file is there and readable") from err


def load_dev_set(path: Path = DEV_SET) -> list[DevQuestion]:
    """Rows of a tab-separated file with the columns question, intent (alternatives joined by '|'), urgent."""
    rows = read_rows(path, "development set")
    return [
        DevQuestion(row["question"], frozenset(filter(None, row["intent"].split("|"))), row["urgent"] == "1")
        for row in rows
    ]


@dataclass
class TextScores:
    """How the dialogue does on a development set."""

    in_scope_accuracy: float
    """Share of in-scope questions answered with an expected topic."""
    out_of_scope_rejection: float
    """Share of out-of-scope questions given no topic (declined, or asked back)."""
    urgent_recall: float
    """Share of red-flag reports answered as urgent."""
    false_urgent: int
    """Other questions answered as urgent."""
    questions: int
    wrong_answers: float
    """Share of the questions that are not red-flag reports answered with a topic not asked about."""
    asked_back: float
    """Share of in-scope questions answered with a question back ("Did you ask about ...?")."""
    declined: float
    """Share of in-scope questions answered with "I don't have that in my guide" or nothing."""
    misses: list[str]


def evaluate(session: Session, dev_set: list[DevQuestion]) -> TextScores:
    """Each question asked in a fresh conversation, so that no context carries over."""
    replies = []
    for row in dev_set:
        session.reset()
        replies.append(session.respond(row.question))
    return score(dev_set, replies)


FAR_FROM_SAMPLES = 0.5
"""A question is far from the samples when no sample of any topic (or known out-of-scope question)
shares half of its telling words, by weight (`Matcher.nearest_sample`): there the matcher must
generalize rather than recognize a phrasing. About a quarter to a third of each set is that far."""


def far_from_samples(session: Session, dev_set: list[DevQuestion]) -> list[DevQuestion]:
    """The rows, red-flag reports left out, whose questions are far from every sample."""
    return [r for r in dev_set if not r.urgent and session.matcher.nearest_sample(r.question) < FAR_FROM_SAMPLES]


def score(dev_set: list[DevQuestion], replies: list[Reply | None]) -> TextScores:
    """How the replies do against the development rows; None is a question that got no reply
    (nothing was heard), which rejects an out-of-scope question and misses any other."""
    hits = rejections = urgent_found = false_urgent = wrong = asked = declined = 0
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
        wrong += intent is not None and intent not in row.intents
        if row.in_scope:
            good = intent in row.intents
            hits += good
            asked += bool(reply and reply.outcome in ("confirm", "clarify"))
            declined += intent is None and not (reply and reply.outcome in ("confirm", "clarify"))
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
        wrong_answers=wrong / (n_in + n_out) if n_in + n_out else 0.0,
        asked_back=asked / n_in if n_in else 0.0,
        declined=declined / n_in if n_in else 0.0,
        misses=misses,
    )


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
