"""Hands-free listening, end to end: real PulseAudio devices, real PocketSphinx, real eSpeak NG."""

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.intents import load_intents
from assistant.listen import question_text, strip_wake
from assistant.settings import VoiceSettings
from assistant.speech_in import PocketSphinxRecognizer, Transcript
from assistant.speech_out import Speaker
from assistant.text import spoken_words

AUDIO = Path(__file__).parent / "data" / "audio"
ROOT = Path(__file__).resolve().parent.parent


def test_wake_phrase_is_required_and_stripped():
    assert strip_wake("hello helper what is crs", "Hello, helper") == "what is crs"
    assert strip_wake("hello helper", "hello helper") == ""
    assert strip_wake("what is crs", "hello helper") is None


def test_unconfirmed_domain_transcript_gives_way_to_the_open_pass():
    confirmed = Transcript("what is crs", 0.9, open_text="what is see our yes", in_domain=1.0)
    guessed = Transcript("what is car t", 0.7, open_text="what is the weather", in_domain=0.2)
    assert question_text(confirmed) == "what is crs"
    assert question_text(guessed) == "what is the weather"


class Listener:
    """`assistant listen --json` in a subprocess, reading its JSON lines as they come."""

    def __init__(self, env: dict[str, str], *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "listen", "--json", "--engine", "pocketsphinx", *args],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def next(self, timeout: float = 60.0) -> dict:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            pytest.fail(f"no output from assistant listen; stderr: {self.process.stderr.read()[-2000:]}")

    def wait_listening(self) -> None:
        while not (status := self.next().get("status", "")).startswith("Listening."):
            assert not status.startswith("Cannot speak"), status

    def press_enter(self) -> None:
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def reply(self) -> dict:
        while "intent" not in (line := self.next()):
            pass
        return line

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def ask(server, listener: Listener, name: str) -> dict:
    server.play_wav_into_mic(AUDIO / f"{name}.wav", delay=0.2)
    reply = listener.reply()
    listener.wait_listening()  # the answer has been spoken: the microphone is open again
    return reply


def speech_seconds(samples: np.ndarray, rate: int = 16000) -> float:
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    return float(np.sum(np.sqrt(np.mean(frames**2, axis=1)) > 0.01)) * 0.01


@pytest.mark.heavy
def test_spoken_session_over_virtual_microphone_and_speaker(pulse_server, tmp_path):
    env = {**pulse_server.client_env(), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    recorder = pulse_server.record_speaker()
    listener = Listener(env)
    try:
        listener.wait_listening()
        opening = speech_seconds(recorder.samples())
        assert opening > 2.0, "the opening disclaimer was not heard on the speaker"

        before = len(recorder.samples())
        first = ask(pulse_server, listener, "what_is_cytokine_release_syndrome")
        assert first["intent"] == "cytokine-release-syndrome" and first["transcript"]
        answer_audio = recorder.samples()[before:].copy()

        again = ask(pulse_server, listener, "say_that_again")
        assert again["action"] == "repeat" and again["answer"] == first["answer"]

        slower = ask(pulse_server, listener, "slower_please")
        assert slower["action"] == "slower", slower

        outside = ask(pulse_server, listener, "oov_what_is_the_weather_like_tomorrow")
        assert outside["intent"] is None and "care team" in outside["answer"], outside

        urgent = ask(pulse_server, listener, "i_have_a_high_fever_and_trouble_breathing")
        assert urgent["urgent"] is True and "contact your care team now" in urgent["answer"], urgent

        server_audio = recorder.samples()
        assert speech_seconds(server_audio) > opening + 20, "the answers were not spoken"
    finally:
        listener.stop()
        recorder.stop()

    # The first answer was spoken whole: no faster than the fastest rate, 240 words a minute.
    assert speech_seconds(answer_audio) >= len(first["answer"].split()) / 240 * 60


@pytest.mark.parametrize("intent", ["cytokine-release-syndrome", "collecting-cells", "potential-side-effects"])
def test_spoken_answers_are_recognized_back(intent):
    """Intelligibility: an answer spoken by eSpeak NG, recognized offline, carries its long words."""
    intents = load_intents()
    answer = intents[intent].answer
    sound = Speaker().synthesize(answer, VoiceSettings())
    recognizer = PocketSphinxRecognizer([i.answer for i in intents])
    # PocketSphinx normalizes the sound by a running mean that settles over its first utterance,
    # as it has in a session under way: the answer is heard twice and the second hearing counts.
    recognizer.transcribe(sound)
    heard = set(recognizer.transcribe(sound).text.split())
    key_words = {w for w in spoken_words(answer) if len(w) > 3}
    recall = len(key_words & heard) / len(key_words)
    # Measured: 0.67, 0.57 and 0.75 of the long words.
    assert recall >= 0.5, f"only {recall:.0%} of {sorted(key_words)} heard back: {sorted(heard)}"


@pytest.mark.heavy
def test_saying_stop_over_an_answer_silences_it(pulse_server, tmp_path):
    env = {**pulse_server.client_env(), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    listener = Listener(env)
    try:
        listener.wait_listening()
        pulse_server.play_wav_into_mic(AUDIO / "what_is_cytokine_release_syndrome.wav", delay=0.2)
        reply = listener.reply()
        answering = time.monotonic()
        spoken_for = len(reply["answer"].split()) / 150 * 60  # seconds at the default rate
        time.sleep(2.0)
        pulse_server.play_wav_into_mic(AUDIO / "stop_talking.wav")
        listener.wait_listening()
        assert time.monotonic() - answering < spoken_for - 4, "the answer played on after 'stop talking'"
    finally:
        listener.stop()


@pytest.mark.heavy
def test_push_to_talk_takes_what_is_said_between_two_presses_of_enter(pulse_server, tmp_path):
    env = {**pulse_server.client_env(), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    listener = Listener(env, "--push-to-talk", "--no-speak")
    try:
        listener.wait_listening()
        assert listener.next()["status"].startswith("Press Enter")
        listener.press_enter()
        time.sleep(0.3)
        sound = pulse_server.play_wav_into_mic(AUDIO / "what_are_the_side_effects.wav")
        sound.wait(timeout=10)
        time.sleep(0.5)
        listener.press_enter()
        reply = listener.reply()
        assert reply["intent"] == "potential-side-effects", reply
    finally:
        listener.stop()
