"""Compare ways of matching typed questions to intents, side by side, on each question set.

Usage: .venv/bin/python scripts/embedding_eval.py [--sets dev dev2 test fresh] [--json] [--misses METHOD]

A research tool, not a product benchmark: most methods here are candidates that the assistant does
not ship (`assistant bench` measures what it ships). Methods, each answering an intent or nothing:

  today     the assistant as it is: `Session.respond`, a fresh conversation per question; asking
            back ("Did you ask about ...?") counts as no answer
  embed     nearest sample by sentence-embedding cosine (all-MiniLM-L6-v2, assistant.embedding);
            samples are each intent's samples and name, and the known out-of-scope questions form
            one more pseudo-intent: nearest to it, or below a threshold, is no answer
  chars     the same with character 3-5-gram TF-IDF cosine
  fallback  today's answer when it answers; when it declines or asks back, embed's nearest intent
            if its similarity reaches a threshold
  blend     w * the matcher's per-intent score (`Matcher.scores`) + (1 - w) * embed's per-intent
            similarity; best intent, no answer below a threshold or for the out-of-scope one
  blend3    the same with the three signals (matcher, embedding, characters), weights summing to 1
  agree-embed, agree-chars
            today's answer only when embed's (or chars') nearest label is the same intent, else
            no answer: what asking back on every disagreement would save and cost (no parameter)

What was tuned on what: the thresholds of embed and chars on dev only; the weights and thresholds
of fallback, blend and blend3 on dev and dev2 together. Nothing is tuned on test or fresh. Each
choice maximizes in-scope accuracy + out-of-scope rejection; ties go to fewer wrong answers, then
to the higher threshold. Red-flag rows are left out (the red-flag module answers them).
Printed per set and method: in-scope accuracy, out-of-scope rejection, and wrong answers (answered
with an intent that was not expected, as a share of all the set's questions that are not red flags);
and the time per question of today's reply and of the character n-gram similarities (the encoder's
own speed is scripts/bench_embedding.py's).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.bench.questions import DevQuestion, load_dev_set  # noqa: E402
from assistant.dialogue import Session  # noqa: E402
from assistant.embedding import Encoder  # noqa: E402
from assistant.matching import OUT_OF_SCOPE  # noqa: E402
from assistant.resources import intents_file  # noqa: E402
from assistant.text import plain_words  # noqa: E402

SETS = ("dev", "dev2", "test", "fresh")
THRESHOLDS = np.round(np.arange(0.0, 1.0001, 0.01), 2)
WEIGHTS = np.round(np.arange(0.0, 1.0001, 0.1), 1)
NGRAMS = (3, 4, 5)


@dataclass
class Signals:
    """Everything the methods decide from, for one question set (red-flag rows left out)."""

    rows: list[DevQuestion]
    today: list[str | None]
    """The intent today's dialogue answered, or None."""
    embed: np.ndarray
    """(questions, labels): the best cosine to any sample of each label."""
    chars: np.ndarray
    matcher: np.ndarray
    """(questions, labels): `Matcher.scores`, 0 for a label it did not score."""
    milliseconds: dict[str, list[float]]
    """Time per question of today's reply and of the character n-gram similarities."""


class CharNgrams:
    """TF-IDF over character 3-5-grams of words padded with a space each side ("car" -> " ca", ...).

    A question's n-grams that no sample has still count in its length, so that a question mostly
    made of unknown text is far from every sample rather than near the one it shares a little with.
    """

    def __init__(self, texts: list[str]) -> None:
        grams = [self._grams(t) for t in texts]
        df = Counter(g for counts in grams for g in counts)
        n = len(texts)
        self._idf = {g: math.log((1 + n) / (1 + c)) + 1 for g, c in df.items()}
        self._unknown_idf = math.log(1 + n) + 1
        index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, counts in enumerate(grams):
            vector = self._weigh(counts)
            for g, w in vector.items():
                index[g].append((i, w))
        self._index = index
        self._size = n

    @staticmethod
    def _grams(text: str) -> Counter:
        counts: Counter = Counter()
        for word in plain_words(text):
            padded = f" {word} "
            for size in NGRAMS:
                counts.update(padded[i : i + size] for i in range(len(padded) - size + 1))
        return counts

    def _weigh(self, counts: Counter) -> dict[str, float]:
        vector = {g: c * self._idf.get(g, self._unknown_idf) for g, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        return {g: w / norm for g, w in vector.items()}

    def similarities(self, text: str) -> np.ndarray:
        """Cosine of a text to every indexed text."""
        sims = np.zeros(self._size)
        for g, w in self._weigh(self._grams(text)).items():
            for i, wi in self._index.get(g, ()):
                sims[i] += w * wi
        return sims


def sample_table(session: Session) -> tuple[list[str], list[str], np.ndarray]:
    """Sample texts grouped by label, the labels (intent ids, then OUT_OF_SCOPE), and where each
    label's samples start."""
    texts, labels, starts = [], [], []
    groups = [(i.id, [*i.samples, i.name]) for i in session.intents] + [(OUT_OF_SCOPE, session.intents.out_of_scope)]
    for label, samples in groups:
        starts.append(len(texts))
        labels.append(label)
        texts.extend(samples)
    return texts, labels, np.array(starts)


def gather(session: Session, encoder: Encoder, chars: CharNgrams, table, rows: list[DevQuestion]) -> Signals:
    texts, labels, starts = table
    rows = [r for r in rows if not r.urgent]
    questions = [r.question for r in rows]
    sample_vectors = encoder.encode_cached(texts)
    embed = np.maximum.reduceat(encoder.encode(questions) @ sample_vectors.T, starts, axis=1)
    char = np.zeros_like(embed)
    matcher = np.zeros_like(embed)
    today = []
    milliseconds: dict[str, list[float]] = {"today": [], "chars": []}
    for i, q in enumerate(questions):
        started = time.perf_counter()
        char[i] = np.maximum.reduceat(chars.similarities(q), starts)
        milliseconds["chars"].append((time.perf_counter() - started) * 1000)
        scores = session.matcher.scores(session.matcher.stems(q))
        matcher[i] = [scores.get(label, 0.0) for label in labels]
        session.reset()
        started = time.perf_counter()
        today.append(session.respond(q).intent)
        milliseconds["today"].append((time.perf_counter() - started) * 1000)
    return Signals(rows, today, embed, char, matcher, milliseconds)


def nearest(scores: np.ndarray, labels: list[str], threshold: float) -> list[str | None]:
    best = scores.argmax(axis=1)
    return [
        None if labels[b] == OUT_OF_SCOPE or scores[i, b] < threshold else labels[b]
        for i, b in enumerate(best)
    ]


def fallback(signals: Signals, labels: list[str], threshold: float) -> list[str | None]:
    embedded = nearest(signals.embed, labels, threshold)
    return [t if t is not None else e for t, e in zip(signals.today, embedded)]


def agree(signals: Signals, scores: np.ndarray, labels: list[str]) -> list[str | None]:
    other = nearest(scores, labels, -1.0)
    return [t if t == o else None for t, o in zip(signals.today, other)]


def blend(signals: Signals, labels: list[str], weights: tuple[float, ...], threshold: float) -> list[str | None]:
    parts = (signals.matcher, signals.embed, signals.chars)
    return nearest(sum(w * p for w, p in zip(weights, parts)), labels, threshold)


def measure(rows: list[DevQuestion], answers: list[str | None]) -> dict[str, float]:
    inside = [(r, a) for r, a in zip(rows, answers) if r.in_scope]
    outside = [a for r, a in zip(rows, answers) if not r.in_scope]
    return {
        "in_scope": sum(a in r.intents for r, a in inside) / max(len(inside), 1),
        "rejected": sum(a is None for a in outside) / max(len(outside), 1),
        "wrong": sum(a is not None and a not in r.intents for r, a in zip(rows, answers)) / len(rows),
        "questions": len(rows),
    }


def _objective(numbers: list[dict[str, float]], threshold: float) -> tuple:
    return (
        round(sum(n["in_scope"] + n["rejected"] for n in numbers), 9),
        -round(sum(n["wrong"] for n in numbers), 9),
        threshold,
    )


def tune(method, tuning: list[Signals], grid) -> tuple:
    """The parameters of `grid` whose answers do best on the tuning sets."""

    def goal(params):
        return _objective([measure(s.rows, method(s, *params)) for s in tuning], params[-1])

    return max(grid, key=goal)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=list(SETS), help="question sets (default: every one that exists)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--misses", metavar="METHOD", help="also list what METHOD gets wrong on dev and dev2")
    args = parser.parse_args()

    session = Session.create()
    encoder = Encoder()
    table = sample_table(session)
    texts, labels, _ = table
    chars = CharNgrams(texts)
    paths = {name: intents_file(f"questions/{name}.tsv") for name in args.sets}
    signals = {
        name: gather(session, encoder, chars, table, load_dev_set(path)) for name, path in paths.items() if path.exists()
    }
    dev, dev2 = signals["dev"], signals["dev2"]

    def embed(s, t):
        return nearest(s.embed, labels, t)

    def char(s, t):
        return nearest(s.chars, labels, t)

    def fall(s, t):
        return fallback(s, labels, t)

    def blend2(s, w, t):
        return blend(s, labels, (w, 1 - w, 0.0), t)

    def blend3(s, wm, we, t):
        return blend(s, labels, (wm, we, 1 - wm - we), t)

    pairs = [(w, t) for w in WEIGHTS for t in THRESHOLDS]
    triples = [(wm, we, t) for wm, we in itertools.product(WEIGHTS, WEIGHTS) if wm + we <= 1.0001 for t in THRESHOLDS]
    methods = {
        "today": (lambda s: s.today, ()),
        "embed": (embed, tune(embed, [dev], [(t,) for t in THRESHOLDS])),
        "chars": (char, tune(char, [dev], [(t,) for t in THRESHOLDS])),
        "fallback": (fall, tune(fall, [dev, dev2], [(t,) for t in THRESHOLDS])),
        "blend": (blend2, tune(blend2, [dev, dev2], pairs)),
        "blend3": (blend3, tune(blend3, [dev, dev2], triples)),
        "agree-embed": (lambda s: agree(s, s.embed, labels), ()),
        "agree-chars": (lambda s: agree(s, s.chars, labels), ()),
    }
    results = {
        name: {set_name: measure(s.rows, method(s, *params)) for set_name, s in signals.items()}
        for name, (method, params) in methods.items()
    }
    tuned = {name: [float(p) for p in params] for name, (_, params) in methods.items()}
    times = {kind: [t for s in signals.values() for t in s.milliseconds[kind]] for kind in ("today", "chars")}
    latency = {kind: {f"p{q}_ms": round(float(np.percentile(t, q)), 3) for q in (50, 95)} for kind, t in times.items()}
    if args.json:
        print(json.dumps({"tuned": tuned, "results": results, "latency": latency}))
    else:
        print("tuned: " + "; ".join(f"{name} {params}" for name, params in tuned.items() if params))
        rows = (("in_scope", "in-scope accuracy"), ("rejected", "out-of-scope rejection"), ("wrong", "wrong answers"))
        for key, label in rows:
            print(f"\n{label:<24}" + "".join(f"{name:>8}" for name in signals))
            for name, per_set in results.items():
                print(f"  {name:<22}" + "".join(f"{per_set[s][key]:8.1%}" for s in signals))
        print("\nquestions (red flags left out): " + ", ".join(f"{n} {len(s.rows)}" for n, s in signals.items()))
        print("time per question: " + "; ".join(f"{k} p50 {v['p50_ms']} ms, p95 {v['p95_ms']} ms" for k, v in latency.items()))
    if args.misses:
        method, params = methods[args.misses]
        for set_name in ("dev", "dev2"):
            s = signals[set_name]
            for row, answer in zip(s.rows, method(s, *params)):
                if answer not in row.intents and not (answer is None and not row.in_scope):
                    print(f"  {set_name} {row.question!r} -> {answer} (expected {'|'.join(row.intents) or 'none'})")


if __name__ == "__main__":
    main()
