"""The benchmarks' machinery: the spoken benchmark on the spoken fixtures, with real PocketSphinx and real eSpeak NG."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import SPEECH_RATE, read_wav
from assistant.bench.questions import DevQuestion, kind_of, load_dev_set, spoken_selection
from assistant.bench.spoken import run_spoken_bench
from assistant.bench.voices import PAD_BEFORE, VoiceCache, make_babble, mix, speech_span
from assistant.bench.wer import normalize_words, word_errors
from assistant.errors import SpeechError

AUDIO = Path(__file__).parent / "data" / "audio"
# Fixtures whose file names are their transcripts, with the development set's expectations.
SPOKEN = {
    "what_are_the_side_effects": DevQuestion("what are the side effects", frozenset({"potential-side-effects"}), False),
    "oov_what_is_the_weather_like_tomorrow": DevQuestion("what is the weather like tomorrow", frozenset(), False),
    "i_have_a_high_fever_and_trouble_breathing": DevQuestion(
        "i have a high fever and trouble breathing", frozenset({"cytokine-release-syndrome"}), True
    ),
}


def test_word_errors_count_substitutions_deletions_and_insertions():
    reference = normalize_words("What's CAR-T cell therapy?")
    assert reference == ["what's", "car", "t", "cell", "therapy"]
    assert word_errors(reference, reference) == 0
    # "what's" deleted, "cell" -> "sell", "please" inserted.
    assert word_errors(reference, ["car", "t", "sell", "therapy", "please"]) == 3
    assert word_errors(reference, []) == len(reference)
    assert word_errors([], ["uh"]) == 1


def test_sound_alike_spellings_are_not_word_errors():
    assert normalize_words("what is car tea cell") == normalize_words("what is cart cell") == ["what", "is", "car", "t", "cell"]
    assert normalize_words("my car broke down") == ["my", "car", "broke", "down"]


def test_spoken_selection_is_fixed_and_covers_every_kind():
    dev_set = load_dev_set()
    chosen = spoken_selection(dev_set)
    assert chosen == spoken_selection(dev_set)
    assert len(chosen) == 60 and len({row.question for row in chosen}) == 60
    kinds = [kind_of(row) for row in chosen]
    assert (kinds.count("in scope"), kinds.count("out of scope"), kinds.count("urgent")) == (45, 10, 5)
    order = [dev_set.index(row) for row in chosen]
    assert order == sorted(order)


def test_speech_span_finds_the_first_and_last_loud_sample():
    tone = 0.3 * np.sin(np.arange(1600) * 0.2).astype(np.float32)
    samples = np.concatenate([np.zeros(800, np.float32), tone, np.zeros(400, np.float32)])
    start, end = speech_span(samples)
    # The 5 ms envelope reaches speech level up to half its width before the sound does.
    assert 760 <= start <= 800 and 2400 <= end <= 2440


def test_babble_is_mixed_at_the_asked_signal_to_noise_ratio():
    talkers = [read_wav(path).samples for path in sorted(AUDIO.glob("*.wav"))[:6]]
    babble = make_babble(talkers, seconds=20.0)
    assert np.array_equal(babble, make_babble(talkers, seconds=20.0))
    assert len(babble) == 20 * SPEECH_RATE and np.mean(babble.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-3)

    speech = 0.1 * read_wav(AUDIO / "what_are_the_side_effects.wav").samples
    stream = mix(speech, babble, 10.0, tail=0.0, offset=12345)
    start = int(PAD_BEFORE * SPEECH_RATE)
    noise = stream.astype(np.float64).copy()
    noise[start : start + len(speech)] -= speech
    snr = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(noise**2))
    assert snr == pytest.approx(10.0, abs=1.0)

    clean = mix(speech, None, None, tail=0.0)
    assert not clean[:start].any() and not clean[start + len(speech) :].any()
    assert np.array_equal(clean[start : start + len(speech)], speech)


def test_missing_piper_is_explained(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "piper", None)
    with pytest.raises(SpeechError, match=r"scripts/setup --piper"):
        VoiceCache(tmp_path).speech("what is crs", 150)


def test_piper_speech_is_synthesized_once_and_trimmed(tmp_path):
    pytest.importorskip("piper")
    cache = VoiceCache(tmp_path)
    slow = cache.speech("what is crs", 150)
    again = cache.speech("what is crs", 150)
    fast = cache.speech("what is crs", 200)
    assert cache.synthesized == 2 and np.array_equal(slow, again)
    assert len(fast) < len(slow)
    # Piper's own silence (a quarter of a second or more) is gone; only the envelope's fade is left.
    start, end = speech_span(slow)
    assert start <= 160 and len(slow) - end <= 160


def test_bench_runs_spoken_fixtures_through_the_listen_path(tmp_path, capsys):
    cache = VoiceCache(tmp_path)
    for stem, row in SPOKEN.items():
        shutil.copy(AUDIO / f"{stem}.wav", cache.path(row.question, 150))

    numbers = run_spoken_bench(
        engine="pocketsphinx", rates=(150,), snrs=(None,), questions=list(SPOKEN.values()), cache=tmp_path, workers=1,
    )
    printed = capsys.readouterr().out
    assert "pocketsphinx" in printed and "clean" in printed and "not included" in printed
    assert numbers["synthesized"] == 0
    assert numbers["skipped"] == {}
    (result,) = numbers["results"]
    assert result["utterances"] == 3
    for key in ("in_scope_accuracy", "out_of_scope_rejection", "urgent_recall", "wer"):
        assert 0.0 <= result[key] <= 1.0
    # Clear speech of these three is recognized well enough to be answered as expected.
    assert (result["in_scope_accuracy"], result["out_of_scope_rejection"], result["urgent_recall"]) == (1.0, 1.0, 1.0)
    assert result["wer"] < 0.3
    assert 0.0 < result["rtf"] < 1.0
    assert result["misses"] == []
    assert result["cut"] == result["late"] == result["unheard"] == 0
    # The endpointer decides after 0.6 s of trailing silence, at the end of a 20 ms block.
    endpoint, intent, first_audio = result["endpoint_ms"], result["intent_ms"], result["first_audio_ms"]
    assert 600 <= endpoint[0] <= endpoint[1] <= 700
    assert endpoint[0] < intent[0] <= first_audio[0]
    assert numbers["peak_memory_mb"] > 0
