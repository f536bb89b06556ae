"""Measure the recognizers on the development questions spoken by the Piper "joe" voice.

Usage: .venv/bin/python scripts/bench_speech_in.py [--cache DIR] [--phrases FILE] [--limit N] [CONFIG ...]

Each question of intents/questions/dev.tsv is synthesized (and kept in --cache to skip that
next time), padded with silence, and recognized by each configuration:

  ps-domain          PocketSphinx, trigram model of the domain phrases only
  ps-general[:N:W]   PocketSphinx, domain trigrams backed off to N general English words with
                     weight W (the default recognizer; defaults GENERAL_WORDS, GENERAL_WEIGHT)
  ps-generic         PocketSphinx, its bundled general English model
  vosk-grammar       Vosk with the domain phrases as runtime grammar (needs an English model)
  vosk-open          Vosk without grammar

The domain phrases are the assistant's own (those `assistant listen` gives its recognizer) unless --phrases
names a file of one phrase per line. Printed per configuration: start-up seconds, real-time
factor, word error rate and key-word recall on in-scope questions, the share of out-of-scope
questions whose transcript gained a domain key word that was not said (such words can trigger
a wrong or urgent answer), and how well `Transcript.confidence` and `Transcript.in_domain` tell
in-scope from out-of-scope questions (ROC AUC: 0.5 is chance, 1.0 perfect). Key words are the
words of the reference that are not FUNCTION_WORDS.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import speech_in  # noqa: E402
from assistant.audio import SPEECH_RATE  # noqa: E402
from assistant.bench.questions import load_dev_set  # noqa: E402
from assistant.bench.voices import PIPER_VOICE, Voice, VoiceCache  # noqa: E402
from assistant.bench.wer import normalize_words, word_errors  # noqa: E402
from assistant.text import spoken_words  # noqa: E402

FUNCTION_WORDS = speech_in.FUNCTION_WORDS
PAD_BEFORE, PAD_AFTER = 0.3, 0.5
RATE = 175  # words per minute of the Piper voice


def load_questions(limit: int | None) -> list[tuple[str, bool]]:
    rows = [(row.question, row.in_scope) for row in load_dev_set()]
    return rows[:limit] if limit else rows


def spoken(questions: list[tuple[str, bool]], cache: VoiceCache) -> list[np.ndarray]:
    pad = [np.zeros(int(s * SPEECH_RATE), np.float32) for s in (PAD_BEFORE, PAD_AFTER)]
    return [np.concatenate([pad[0], cache.speech(question, Voice("piper", PIPER_VOICE, RATE)), pad[1]]) for question, _ in questions]


def make(config: str, phrases: list[str]) -> speech_in.Recognizer | None:
    """The recognizer of a configuration; None when its engine's model is not installed."""
    if config == "ps-domain":
        return speech_in.PocketSphinxRecognizer(phrases, general_words=0)
    if config.startswith("ps-general"):
        _, words, weight = (config + "::").split(":")[:3]
        return speech_in.PocketSphinxRecognizer(
            phrases,
            general_words=int(words or speech_in.GENERAL_WORDS),
            general_weight=float(weight or speech_in.GENERAL_WEIGHT),
        )
    if config == "ps-generic":
        return speech_in.PocketSphinxRecognizer(phrases, open_vocabulary=True)
    if config in ("vosk-grammar", "vosk-open"):
        from assistant.models import find_model

        path = find_model()
        if path is None:
            return None
        return speech_in.VoskRecognizer(path, phrases, open_vocabulary=config == "vosk-open")
    raise SystemExit(f"unknown configuration {config!r}")


def auc(positives: list[float], negatives: list[float]) -> float:
    """Probability that a random in-scope score ranks above a random out-of-scope one."""
    if not positives or not negatives:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=["ps-domain", "ps-general", "ps-generic", "vosk-grammar", "vosk-open"])
    parser.add_argument("--cache", type=Path, help="where spoken questions are kept (default: the user cache)")
    parser.add_argument("--phrases", type=Path, help="file of domain phrases (default: the assistant's intents)")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--show", action="store_true", help="print every transcript")
    args = parser.parse_args()

    if args.phrases:
        lines = args.phrases.read_text(encoding="utf-8").splitlines()
        phrases = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    else:
        from assistant.dialogue import Session

        phrases = Session.create().phrases()
    domain_keys = {w for p in phrases for w in spoken_words(p)} - FUNCTION_WORDS
    questions = load_questions(args.limit)
    clips = spoken(questions, VoiceCache(args.cache))
    audio_seconds = sum(len(c) for c in clips) / SPEECH_RATE
    said = {" ".join(spoken_words(q)) for q, _ in questions}
    overlap = sum(" ".join(spoken_words(p)) in said for p in phrases)
    print(
        f"{len(questions)} questions ({sum(q[1] for q in questions)} in scope), {audio_seconds:.0f} s of speech; "
        f"{len(phrases)} domain phrases, {overlap} of them worded exactly as a question"
    )
    print(f"{'config':18s} {'start s':>7s} {'RTF':>6s} {'WER':>6s} {'keys':>6s} {'oov+key':>7s} {'conf AUC':>8s} {'in_dom AUC':>10s}")
    for config in args.configs:
        started = time.perf_counter()
        recognizer = make(config, phrases)
        if recognizer is None:
            print(f"{config:18s} skipped: no English Vosk model installed")
            continue
        start_seconds = time.perf_counter() - started
        errors = ref_words = keys = keys_found = oov = oov_with_key = 0
        conf = {True: [], False: []}
        in_dom = {True: [], False: []}
        busy = 0.0
        for (question, in_scope), clip in zip(questions, clips):
            started = time.perf_counter()
            result = recognizer.transcribe(clip)
            busy += time.perf_counter() - started
            ref = normalize_words(question)
            hyp = normalize_words(result.text)
            if result.confidence is not None:
                conf[in_scope].append(result.confidence)
            if result.in_domain is not None:
                in_dom[in_scope].append(result.in_domain)
            if args.show:
                print(f"  {'  ' if in_scope else 'X '}{question} -> {result.text} [{result.confidence or 0:.2f} {result.in_domain}]")
            if in_scope:
                errors += word_errors(ref, hyp)
                ref_words += len(ref)
                ref_keys = [w for w in ref if w not in FUNCTION_WORDS]
                keys += len(ref_keys)
                keys_found += sum(w in hyp for w in ref_keys)
            else:
                oov += 1
                oov_with_key += any(w in domain_keys and w not in ref for w in hyp)
        print(
            f"{config:18s} {start_seconds:7.2f} {busy / audio_seconds:6.3f} {errors / max(ref_words, 1):6.1%} "
            f"{keys_found / max(keys, 1):6.1%} {oov_with_key / max(oov, 1):7.1%} "
            f"{auc(conf[True], conf[False]):8.2f} {auc(in_dom[True], in_dom[False]):10.2f}"
        )


if __name__ == "__main__":
    main()
