"""Hands-free: listen, recognize, answer aloud, listen again, with captions for the room.

Half-duplex: while an answer plays, and for a short tail after it, what the microphone hears is
thrown away, so the assistant never answers its own voice.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Generic, TextIO, TypeVar

from .audio import Audio, Microphone, to_pcm16
from .audio.denoise import cleaned, noise_suppressor
from .audio.tones import Tone, Tones
from .dialogue import Reply, Session
from .errors import AudioError
from .endpoint import Endpointer, listen
from .keyboard import stop_on_key
from .speech_in import PocketSphinxRecognizer, Recognizer, Transcript
from .speech_out import speak_or_show
from .settings import TRAILING_SILENCE
from .text import plain_words, spoken_words

if TYPE_CHECKING:
    from .captions import CaptionsPage

_LOGGER = logging.getLogger(__name__)

# Below this share of words confirmed by the open-vocabulary pass, the domain transcript is a guess.
MIN_IN_DOMAIN = 0.5
STOPPING = ("stop", "dismiss")
"""Commands that stop an answer while it plays."""
# A room's microphone hears the "speak now" tone a little after it has left the speaker.
TONE_ECHO = 0.1
INTRODUCE_AFTER = 4.0
"""Seconds of quiet after the first "Hello." before the assistant says what it is. Only "Hello." is
said before it first listens, so that a patient who knows it can ask at once."""

T = TypeVar("T")


@dataclass
class ListenOptions:
    """How the hands-free loop behaves."""

    wake: str | None = None
    """A phrase that must start each question ("hello helper"), or None to answer everything."""
    push_to_talk: bool = False
    """Enter starts and ends each question, for noisy rooms."""
    speak: bool = True
    """Speak the answers (captions are always shown)."""
    json: bool = False
    """Write one JSON object per answer instead of captions."""
    tail: float = 0.3
    """Seconds after playback during which the microphone is still ignored."""
    trailing_silence: float = TRAILING_SILENCE
    """Seconds of silence that end a question."""
    tones: bool = True
    """A tone when it starts listening and another when a question was heard (when it speaks)."""
    noise_suppression: bool = True
    """Take steady noise out of the microphone's sound before recognition (when RNNoise is installed)."""


def question_text(transcript: Transcript) -> str:
    """The words to answer: the domain transcript, or what the open pass heard when it disagrees."""
    if transcript.in_domain is not None and transcript.in_domain < MIN_IN_DOMAIN and transcript.open_text:
        _LOGGER.info("domain transcript %r not confirmed; using %r", transcript.text, transcript.open_text)
        return transcript.open_text
    return transcript.text


def alternatives_of(transcript: Transcript, text: str) -> list[str]:
    """The transcript's alternatives, when `text` (what is answered) is the transcript itself and
    not what the open pass heard, or the words after a wake phrase."""
    return transcript.alternatives if text == transcript.text else []


def strip_wake(text: str, wake: str) -> str | None:
    """The question after the wake phrase, "" when only the wake phrase was said, None without it."""
    heard, wanted = spoken_words(text), spoken_words(wake)
    if heard[: len(wanted)] != wanted:
        return None
    return " ".join(heard[len(wanted) :])


class Captions:
    """Large, plain lines for people who hear poorly, and for nurses; or JSON lines for machines.

    With a captions page, the same captions are shown on it too.
    """

    def __init__(self, out: TextIO = sys.stdout, as_json: bool = False, page: CaptionsPage | None = None) -> None:
        self.out = out
        self.as_json = as_json
        self.page = page

    def status(self, text: str) -> None:
        """What the assistant is doing: "Loading…", "Listening."."""
        if self.page is not None:
            self.page.status(text)
        if self.as_json:
            print(json.dumps({"status": text}, ensure_ascii=False), file=self.out, flush=True)
        else:
            print(f"\n  {text}", file=self.out, flush=True)

    def said(self, text: str, opening: bool = False) -> None:
        """What the assistant says by itself: the greeting and disclaimer (`opening`), "Yes?"."""
        if self.page is not None:
            self.page.publish(None, text)
        if self.as_json:
            print(json.dumps({"opening" if opening else "said": text}, ensure_ascii=False), file=self.out, flush=True)
        else:
            print(f"\n  Assistant: {text}", file=self.out, flush=True)

    def reply(self, reply: Reply, transcript: str) -> None:
        """What was heard and what is answered."""
        if self.page is not None and reply.answer:
            self.page.publish(transcript, reply.answer, reply.urgent)
        if self.as_json:
            print(reply.to_json(transcript), file=self.out, flush=True)
            return
        print(f"\n  You said:  {transcript}", file=self.out, flush=True)
        if reply.answer:
            # A red flag's advice is marked by a plain word a glance finds, not by shouting.
            print(f"  {'URGENT:' if reply.urgent else 'Answer:'}    {reply.answer}", file=self.out, flush=True)


class Loading(Generic[T]):
    """Something slow to make (the recognizer), made in a background thread while the greeting plays."""

    def __init__(self, make: Callable[[], T], name: str = "loading") -> None:
        self._make = make
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = self._make()
        except BaseException as err:  # noqa: BLE001 - raised again by `get`, in the caller's thread
            self._error = err
        finally:
            self._done.set()

    def get(self) -> T:
        """The thing made, once it is ready; what went wrong making it is raised here."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class HandsFree:
    """The listen-answer loop over a microphone, a recognizer and (optionally) a speaker."""

    def __init__(
        self,
        session: Session,
        recognizer: Recognizer | Loading[Recognizer],
        speaker,
        captions: Captions,
        options: ListenOptions,
    ):
        """`recognizer` may still be loading: the greeting is spoken meanwhile."""
        self.session = session
        self.recognizer = recognizer
        self.speaker = speaker
        self.tones = Tones.from_file() if options.tones and options.speak and speaker else None
        self.captions = captions
        self.options = options
        self.endpointer = Endpointer(trailing_silence=options.trailing_silence)
        self.microphone: Microphone | None = None
        self._awake = options.wake is None
        self._disclaimed = False
        self._ignored = False  # the last utterance got nothing back: see _next_question
        # Made at start-up with the rest, not when "stop" is first said: then it is ready at once,
        # and the loop's memory stays level from the first question on.
        self._stop_recognizer = Loading(self._make_stop_recognizer, name="stop-recognizer-loading")
        self.suppressor = noise_suppressor(options.noise_suppression)
        self.witness = Endpointer(trailing_silence=options.trailing_silence)

    def stop_recognizer(self) -> Recognizer:
        """A small recognizer for "stop" (or "never mind") said over an answer."""
        return self._stop_recognizer.get()

    def _make_stop_recognizer(self) -> Recognizer:
        stopping = [c for c in self.session.commands.commands if c.action in STOPPING]
        # Only whether "stop" was said matters: no alternatives, no N-best search while an answer plays.
        return PocketSphinxRecognizer([" ".join(p) for c in stopping for p in c.phrases], alternatives=0)

    def run(self, microphone: Microphone) -> None:
        """Answer questions until "goodbye" or Ctrl-C."""
        self.microphone = microphone
        self.captions.said(self.session.opening(), opening=True)
        self.say(self.session.commands.replies["hello"])
        if isinstance(self.recognizer, Loading):
            self.recognizer = self.recognizer.get()
        prompt = f'Listening. Start your question with "{self.options.wake}".' if self.options.wake else "Listening."
        introduce = self.options.speak and self.speaker is not None and not self.options.push_to_talk
        while True:
            transcript = self._next_question(microphone, prompt, timeout=INTRODUCE_AFTER if introduce else None)
            if transcript is None and introduce:
                self.say(self.session.introduction())
                self._disclaimed = True
            introduce = False
            if transcript is None:
                continue
            reply = self.hear(transcript)
            if reply is not None and reply.action == "goodbye":
                return

    def hear(self, transcript: Transcript) -> Reply | None:
        """Answer one recognized utterance (aloud and in captions); None when it is ignored."""
        text = question_text(transcript)
        if self.options.wake and not self._awake:
            after = strip_wake(text, self.options.wake)
            if after is None:
                _LOGGER.info("ignored without wake phrase: %r", text)
                self._ignored = True
                return None
            if not after:
                self._awake = True
                self.captions.said("Yes?")
                self.say("Yes?", lead=self._tone("heard"))
                return None
            text = after
        self._awake = self.options.wake is None
        if not plain_words(text):
            self._ignored = True  # noise heard as no word the dialogue can read: nothing was asked
            return None
        reply = self.session.respond(text, transcript.hearing, alternatives_of(transcript, text))
        self.captions.reply(reply, text)
        if reply.answer:
            self.say(self._spoken(reply), lead=self._tone("heard"))
        return reply

    def _spoken(self, reply: Reply) -> str:
        """The reply's answer, led by the disclaimer when it is the first answer from the guide and
        the disclaimer has not been said. Urgent advice is never led by anything."""
        if self._disclaimed or reply.intent is None or reply.urgent or not self.options.speak:
            return reply.answer
        self._disclaimed = True
        return f"{self.session.commands.replies['disclaimer']} {reply.answer}"

    def say(self, text: str, lead: Audio | None = None) -> None:
        """Speak, after the `lead` sound (a tone) if any, until done or stopped by a key, by "stop"
        said over it, or by Ctrl-C."""
        if not (self.options.speak and self.speaker):
            return

        def speak() -> None:
            with stop_on_key(self.speaker.stop), _StopOnVoice(self):
                self.speaker.speak(text, self.session.voice, lead=lead)

        def stop() -> None:
            self.speaker.stop()
            self.captions.status("Stopped.")

        def cannot_speak(err: Exception) -> None:
            self.captions.status(f"Cannot speak ({err}). Answers are shown as text only.")

        if not speak_or_show(speak, stop, cannot_speak):
            self.options.speak = False

    def _tone(self, name: str) -> Audio | None:
        """The tone `name` of Tones at the voice's volume; None when tones are off or nothing is spoken."""
        if self.tones is None or not (self.options.speak and self.speaker):
            return None
        tone: Tone = getattr(self.tones, name)
        return tone.sound(self.session.voice.volume)

    def _listening_tone(self) -> None:
        """Play "speak now" and wait for the room's echo of it; the caller then clears the microphone."""
        sound = self._tone("listening")
        if sound is None:
            return

        def cannot_play(err: Exception) -> None:
            self.captions.status(f"Cannot play sounds ({err}). Answers are shown as text only.")

        if not speak_or_show(lambda: self.speaker.play(sound), self.speaker.stop, cannot_play):
            self.options.speak = False
        time.sleep(TONE_ECHO)

    def _start_listening(self, microphone: Microphone, prompt: str) -> None:
        # Half-duplex: forget whatever was captured while the answer played and for `tail` seconds
        # after it, while its echo dies away; the "speak now" tone, when there is one, fills that time.
        answered = time.monotonic()
        if not self.options.push_to_talk:
            self._listening_tone()
        time.sleep(max(0.0, self.options.tail - (time.monotonic() - answered)))
        microphone.clear()
        self.captions.status(prompt)

    def _next_question(self, microphone: Microphone, prompt: str, timeout: float | None = None) -> Transcript | None:
        """The next utterance; None when nothing was said within `timeout` seconds."""
        ignored, self._ignored = self._ignored, False
        self.recognizer.expect_answer(self.session.asked)
        if self.options.push_to_talk:
            self._start_listening(microphone, prompt)
            return self._push_to_talk(microphone)
        # After an utterance that got nothing back (a monitor's beep heard as no words, talk without
        # the wake phrase), listening goes on as it was: no "speak now" after each beep, and what
        # the microphone heard meanwhile may be the start of a question.
        if not ignored:
            self._start_listening(microphone, prompt)
        return listen(
            microphone.frames(), self.recognizer, self.endpointer, timeout=timeout,
            pause_ends_after=self.session.pause_ends_after, suppressor=self.suppressor, witness=self.witness,
        )  # fmt: skip

    def _push_to_talk(self, microphone: Microphone) -> Transcript | None:
        self.captions.status("Press Enter, ask your question, then press Enter again.")
        if not sys.stdin.readline():
            raise KeyboardInterrupt
        self._listening_tone()
        microphone.clear()
        done = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.readline(), done.set()), daemon=True).start()
        self.recognizer.reset()
        for block in cleaned(microphone.frames(), self.suppressor):
            self.recognizer.accept(to_pcm16(block))
            if done.is_set():
                break
        return self.recognizer.final()


class _StopOnVoice:
    """While an answer plays, listens for "stop" and silences the answer when it is said.

    The rest of what the microphone hears meanwhile is dropped when the answer ends (half-duplex);
    a room where the microphone hears the speaker may, rarely, hear the answer itself as "stop".
    """

    def __init__(self, loop: HandsFree) -> None:
        self.loop = loop
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _StopOnVoice:
        if self.loop.microphone is not None:
            self._thread = threading.Thread(target=self._watch, name="stop-on-voice", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def _blocks(self):
        while not self._done.is_set():
            yield self.loop.microphone.read()

    def _watch(self) -> None:
        commands = self.loop.session.commands
        endpointer = Endpointer(trailing_silence=0.3, max_utterance=3.0)
        try:
            while not self._done.is_set():
                heard = listen(self._blocks(), self.loop.stop_recognizer(), endpointer)
                if heard is None:
                    return
                command = commands.find(heard.text)
                if command is not None and command.action in STOPPING:
                    _LOGGER.info("heard %r over the answer: stopping", heard.text)
                    self.loop.speaker.stop()
                    return
        except AudioError as err:
            _LOGGER.warning("stopped listening for 'stop' during the answer: %s", err)
