"""The benchmarks' machinery: the noise of the room, the voices, and the spoken benchmark on the spoken fixtures,
with real PocketSphinx, real eSpeak NG and a real room simulation."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import SPEECH_RATE, read_wav
from assistant.bench.conditions import HESITATIONS, SNRS, Condition, full_plan
from assistant.bench.noise import (
    BEEP_HZ,
    BEEP_PERIOD,
    BEEP_SECONDS,
    MAINS_HZ,
    NOISE_SECONDS,
    PAD_AFTER,
    PAD_BEFORE,
    decay_time,
    fan_hum,
    make_babble,
    make_noise,
    mix,
    monitor_beeps,
    room_responses,
)
from assistant.bench.replies import SpokenReply, load_replies, run_replies_bench
from assistant.bench.questions import QUESTION_SETS, DevQuestion, kind_of, load_dev_set, spoken_selection
from assistant.bench.spoken import question_rows, run_spoken_bench, spoken_clip
from assistant.bench.voices import ESPEAK_RP, ESPEAK_US, JOE, JOE_FAST, QUESTION_VOICES, VoiceCache, speech_span, talkers_for
from assistant.cli import main
from assistant.bench.wer import normalize_words, word_errors
from assistant.errors import InputError, SpeechError

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


TALKERS = [read_wav(path).samples for path in sorted(AUDIO.glob("*.wav"))[:6]]
SPEECH = 0.1 * read_wav(AUDIO / "what_are_the_side_effects.wav").samples


def _power(samples: np.ndarray) -> float:
    return float(np.mean(np.asarray(samples, dtype=np.float64) ** 2))


@pytest.mark.parametrize("kind", ["babble", "tv", "fan", "beeps"])
def test_noise_is_made_again_the_same_and_at_unit_power(kind):
    track = make_noise(kind, TALKERS)
    assert np.array_equal(track, make_noise(kind, TALKERS))
    assert len(track) == NOISE_SECONDS * SPEECH_RATE and _power(track) == pytest.approx(1.0, rel=1e-3)


def test_seeded_noise_changes_with_its_seed():
    assert not np.array_equal(fan_hum(seed=1), fan_hum(seed=2))
    assert not np.array_equal(make_babble(TALKERS, seed=1), make_babble(TALKERS, seed=2))


@pytest.mark.parametrize("snr", SNRS)
@pytest.mark.parametrize("kind", ["babble", "tv", "fan", "beeps"])
def test_noise_is_mixed_at_the_asked_signal_to_noise_ratio(kind, snr):
    # A stream exactly as long as the track hears all of it once, wherever it starts: its power is the track's.
    tail = NOISE_SECONDS - PAD_BEFORE - PAD_AFTER - len(SPEECH) / SPEECH_RATE
    stream = mix(SPEECH, make_noise(kind, TALKERS), snr, tail=tail, offset=12345)
    start = int(PAD_BEFORE * SPEECH_RATE)
    noise = stream.astype(np.float64)
    noise[start : start + len(SPEECH)] -= SPEECH
    assert len(stream) == pytest.approx(NOISE_SECONDS * SPEECH_RATE, abs=2)
    assert 10 * np.log10(_power(SPEECH) / _power(noise)) == pytest.approx(snr, abs=0.05)


def test_quiet_is_silence_around_the_speech():
    clean = mix(SPEECH, None, None, tail=0.0)
    start = int(PAD_BEFORE * SPEECH_RATE)
    assert not clean[:start].any() and not clean[start + len(SPEECH) :].any()
    assert np.array_equal(clean[start : start + len(SPEECH)], SPEECH)


def test_beeps_repeat_every_period_as_a_short_tone():
    track = monitor_beeps()
    period, beep = int(BEEP_PERIOD * SPEECH_RATE), int(BEEP_SECONDS * SPEECH_RATE)
    periods = track.reshape(-1, period)
    assert len(periods) == NOISE_SECONDS / BEEP_PERIOD and (periods == periods[0]).all()
    assert not periods[0][beep:].any() and _power(periods[0][:beep]) > 0
    spectrum = np.abs(np.fft.rfft(periods[0][:beep], 16 * beep))
    assert np.fft.rfftfreq(16 * beep, 1 / SPEECH_RATE)[np.argmax(spectrum)] == pytest.approx(BEEP_HZ, abs=5)


def test_fan_hums_at_the_mains_frequency_and_the_tv_plays_through_a_small_loudspeaker():
    hz = np.fft.rfftfreq(int(NOISE_SECONDS * SPEECH_RATE), 1 / SPEECH_RATE)
    fan = np.abs(np.fft.rfft(fan_hum())) ** 2
    around = fan[(hz > MAINS_HZ - 10) & (hz < MAINS_HZ + 10) & (np.abs(hz - MAINS_HZ) > 1)]
    assert fan[np.argmin(np.abs(hz - MAINS_HZ))] > 100 * np.median(around)
    tv = np.abs(np.fft.rfft(make_noise("tv", TALKERS))) ** 2
    assert tv[hz < 200].sum() < 1e-9 * tv.sum() and tv[hz > 5000].sum() < 1e-9 * tv.sum()


def test_decay_time_measures_an_exponential_decay():
    t = np.arange(SPEECH_RATE) / SPEECH_RATE
    response = np.random.default_rng(0).standard_normal(len(t)) * 10 ** (-3 * t / 0.5)  # 60 dB in 0.5 s
    assert decay_time(response) == pytest.approx(0.5, abs=0.02)


def test_the_room_reverberates_for_most_of_a_second():
    pytest.importorskip("pyroomacoustics")
    talker, noise = room_responses()
    assert 0.6 <= decay_time(talker) <= 0.8 and 0.6 <= decay_time(noise) <= 0.8
    # The response starts with its direct sound: the speech is not delayed.
    assert np.argmax(np.abs(talker)) < 50
    dry, wet = mix(SPEECH, None, None, tail=1.0), mix(SPEECH, None, None, tail=1.0, response=talker)
    end = int(PAD_BEFORE * SPEECH_RATE) + len(SPEECH)
    assert _power(wet[end - len(SPEECH) : end]) == pytest.approx(_power(SPEECH), rel=1e-3)
    # After the last word, the dry stream is silent; the room rings on, dying away.
    windows = [(end + int(a * SPEECH_RATE), end + int((a + 0.1) * SPEECH_RATE)) for a in (0.0, 0.2, 0.4)]
    assert [_power(dry[a:b]) for a, b in windows] == [0.0, 0.0, 0.0]
    ringing = [_power(wet[a:b]) for a, b in windows]
    assert ringing[0] > ringing[1] > ringing[2] > 1e-6 * _power(SPEECH)


def test_conditions_are_named_and_checked():
    assert [c.name for c in (Condition(JOE), Condition(JOE, "babble", 10.0), Condition(JOE, "room"))] == [
        "quiet", "babble 10 dB", "room",
    ]
    assert Condition(JOE, "room", 5.0, fresh=True).name == "fresh, room + babble 5 dB"
    with pytest.raises(ValueError, match="needs a signal-to-noise ratio"):
        Condition(JOE, "fan")
    with pytest.raises(ValueError, match="unknown noise"):
        Condition(JOE, "rain", 10.0)
    assert Condition(JOE, pause=0.5).name == "quiet, pause 0.5 s"
    with pytest.raises(ValueError, match="positive number of seconds"):
        Condition(JOE, pause=0.0)


def test_a_hesitant_talker_says_the_question_in_two_halves():
    hesitant = Condition(JOE, pause=1.0)
    assert hesitant.parts("can i drive after car t") == ["can i drive", "after car t"]
    assert hesitant.parts("what is crs") == ["what", "is crs"]
    assert hesitant.parts("benefits") == ["benefits"]
    assert Condition(JOE).parts("can i drive after car t") == ["can i drive after car t"]


def test_the_full_plan_covers_every_voice_noise_and_level():
    plan = full_plan()
    assert len(set(plan)) == len(plan)
    assert {c.voice for c in plan} == set(QUESTION_VOICES)
    assert {(c.noise, c.snr) for c in plan if c.voice == JOE and not c.fresh} >= {
        (noise, snr) for noise in ("babble", "tv", "fan", "beeps") for snr in SNRS
    }
    assert {c.name for c in plan if c.fresh} == {"fresh, quiet", "fresh, babble 10 dB"}
    assert {c.pause for c in plan if c.pause} == set(HESITATIONS)
    assert {c.voice.engine for c in plan} == {"piper", "pyttsx3"}


def test_background_talkers_are_other_voices_than_the_question():
    for voice in QUESTION_VOICES:
        talkers = talkers_for(voice)
        assert len(talkers) == len(set(talkers)) == 6
        assert all(talker.engine != voice.engine for talker in talkers)


def test_missing_piper_is_explained(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "piper", None)
    with pytest.raises(SpeechError, match=r"Piper joe 150 wpm.*scripts/setup --piper"):
        VoiceCache(tmp_path).speech("what is crs", JOE)


def test_espeak_voices_are_cached_apart_and_trimmed(tmp_path):
    cache = VoiceCache(tmp_path)
    us = cache.speech("what is crs", ESPEAK_US)
    again = cache.speech("what is crs", ESPEAK_US)
    rp = cache.speech("what is crs", ESPEAK_RP)
    assert cache.synthesized == 2 and np.array_equal(us, again) and not np.array_equal(us[: len(rp)], rp[: len(us)])
    assert len(list(tmp_path.glob("*.wav"))) == 2
    start, end = speech_span(us)
    assert start <= 160 and len(us) - end <= 160


def test_piper_speech_is_synthesized_once_and_trimmed(tmp_path):
    pytest.importorskip("piper")
    cache = VoiceCache(tmp_path)
    slow = cache.speech("what is crs", JOE)
    again = cache.speech("what is crs", JOE)
    fast = cache.speech("what is crs", JOE_FAST)
    assert cache.synthesized == 2 and np.array_equal(slow, again)
    assert len(fast) < len(slow)
    # Piper's own silence (a quarter of a second or more) is gone; only the envelope's fade is left.
    start, end = speech_span(slow)
    assert start <= 160 and len(slow) - end <= 160


def test_a_hesitant_question_has_its_pause_between_its_halves(tmp_path):
    pytest.importorskip("piper")
    cache = VoiceCache(tmp_path)
    clip = spoken_clip(cache, Condition(JOE, pause=1.0), "what is crs")
    what, rest = cache.speech("what", JOE), cache.speech("is crs", JOE)
    assert len(clip) == len(what) + SPEECH_RATE + len(rest)
    assert np.array_equal(clip[: len(what)], what) and np.array_equal(clip[-len(rest) :], rest)
    assert not clip[len(what) : len(what) + SPEECH_RATE].any()
    assert np.array_equal(spoken_clip(cache, Condition(JOE), "what is crs"), cache.speech("what is crs", JOE))


def test_quick_and_questions_belong_to_the_spoken_bench(capsys):
    assert main(["bench", "--quick"]) == 2
    assert "give --spoken too" in capsys.readouterr().err
    assert main(["bench", "--spoken", "--questions", "dev", "--questions", "test"]) == 2
    assert "one question set at a time" in capsys.readouterr().err
    assert main(["bench", "--spoken", "--questions", "nonesuch"]) == 2
    assert "unknown question set 'nonesuch'" in capsys.readouterr().err


def test_the_spoken_selection_of_the_kept_apart_set_says_where_it_came_from():
    rows, source = question_rows("test")
    assert source == "the 'test' set" and len(rows) == 60
    assert rows[0] in load_dev_set(QUESTION_SETS["test"]) and rows[0] not in load_dev_set()
    quick, _ = question_rows("dev", quick=True)
    assert [kind_of(row) for row in quick].count("urgent") == 2 and len(quick) == 12


def test_quick_bench_runs_spoken_fixtures_through_the_listen_path(tmp_path, capsys):
    pytest.importorskip("pyroomacoustics")
    cache = VoiceCache(tmp_path)
    for stem, row in SPOKEN.items():
        shutil.copy(AUDIO / f"{stem}.wav", cache.path(row.question, JOE))

    numbers = run_spoken_bench(engine="pocketsphinx", quick=True, questions=list(SPOKEN.values()), cache=tmp_path, workers=1)
    captured = capsys.readouterr()
    printed = captured.out
    for column in ("right", "wrong", "asked", "declin", "reject", "urgent", "f.urg", "WER", "RTF", "p50/p90/max", "cut", "long"):
        assert f" {column} " in printed.splitlines()[2]
    assert "the given questions" in printed and "Piper joe 150 wpm" in printed and "eSpeak en-us 150 wpm" in printed
    assert "spoken bench: 8/8 jobs" in captured.err
    json.dumps(numbers)  # --json prints the same numbers
    # Only the eSpeak NG questions and talkers were synthesized: the Piper questions are the fixtures.
    assert numbers["synthesized"] == 3 + 6
    assert numbers["skipped"] == {}
    assert 0.6 <= numbers["room_rt60_s"] <= 0.8
    results = {(r["voice"], r["condition"]): r for r in numbers["results"]}
    assert set(results) == {("Piper joe 150 wpm", name) for name in (
        "quiet", "babble 10 dB", "room + babble 10 dB", "fan 10 dB", "beeps 10 dB", "tv 10 dB", "fresh, quiet"
    )} | {("eSpeak en-us 150 wpm", "quiet")}  # fmt: skip
    for result in results.values():
        assert result["utterances"] == 3
        for key in ("in_scope_accuracy", "wrong_answers", "asked_back", "declined", "out_of_scope_rejection", "urgent_recall", "wer"):
            assert 0.0 <= result[key] <= 1.0
        assert 0 <= result["false_urgent"] <= 2 and 0.0 < result["rtf"]
        p50, p90, longest = result["first_audio_ms"]
        assert 0 < p50 <= p90 <= longest
        assert 0 <= result["cut"] + result["max_length"] <= 3
    # Clear speech of these three is recognized well enough to be answered as expected.
    quiet = results["Piper joe 150 wpm", "quiet"]
    assert (quiet["in_scope_accuracy"], quiet["out_of_scope_rejection"], quiet["urgent_recall"]) == (1.0, 1.0, 1.0)
    assert quiet["wrong_answers"] == quiet["asked_back"] == quiet["declined"] == 0.0 and quiet["false_urgent"] == 0
    assert quiet["wer"] < 0.3 and quiet["rtf"] < 1.0
    assert quiet["misses"] == []
    assert quiet["cut"] == quiet["late"] == quiet["max_length"] == quiet["witnessed"] == quiet["unheard"] == 0
    # The end is decided after a pause (shorter once the words make a complete question), before
    # the recognizer's stream stops.
    endpoint, intent, first_audio = quiet["endpoint_ms"], quiet["intent_ms"], quiet["first_audio_ms"]
    assert 0 < endpoint[0] <= endpoint[1] <= endpoint[2] < PAD_AFTER * 1000
    assert endpoint[0] < intent[0] <= first_audio[0]
    assert numbers["peak_memory_mb"] > 0


def test_replies_bench_says_replies_to_a_question_back_through_the_listen_path(tmp_path, capsys):
    replies = [SpokenReply("yes", "yes", "dev"), SpokenReply("no", "no", "dev"), SpokenReply("what are the side effects", "yes", "test")]
    scores = run_replies_bench(engine="pocketsphinx", voices=(ESPEAK_US,), levels=(None,), replies=replies, cache=tmp_path)
    by_set = {score.set: score for score in scores}
    assert (by_set["dev"].replies, by_set["dev"].meant, by_set["dev"].opposite) == (2, 2, 0)
    # A new question instead of a yes or a no is answered for itself: taken as neither.
    assert (by_set["test"].meant, by_set["test"].opposite, by_set["test"].neither) == (0, 0, 1)
    table = capsys.readouterr().out
    assert "quiet           dev        2/2" in table


def test_the_shipped_replies_mean_yes_or_no_and_a_bad_meaning_is_named(tmp_path):
    replies = load_replies()
    assert {r.meaning for r in replies} == {"yes", "no"} and {r.set for r in replies} == {"dev", "test"}
    bad = tmp_path / "replies.tsv"
    bad.write_text("reply\tmeaning\tset\nyes\tmaybe\tdev\n", encoding="utf-8")
    with pytest.raises(InputError, match="the meaning of 'yes' must be yes or no"):
        load_replies(bad)


def test_the_replies_bench_is_a_benchmark_of_its_own(capsys):
    assert main(["bench", "--replies", "--spoken"]) == 2
    assert "separate benchmarks" in capsys.readouterr().err
