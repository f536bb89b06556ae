"""End of speech: when the user has started and stopped talking, and one utterance from a stream.

`Endpointer` decides from the signal energy against the room's background level; `listen` ties a
block source (a microphone), the endpointer and a recognizer together. The end of a question is
decided here rather than by a recognizer, so that the delay before answering is ours to set.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterable, Literal

import numpy as np

from .audio import SPEECH_RATE, to_pcm16
from .settings import TRAILING_SILENCE
from .speech_in import Recognizer, Transcript

if TYPE_CHECKING:
    from .audio.denoise import NoiseSuppressor


@dataclass(frozen=True)
class SpeechEvent:
    """Speech started or ended in the stream fed to an `Endpointer`."""

    kind: Literal["start", "end"]
    """"start" once enough speech was heard, "end" once the speech is over."""
    time: float
    """Seconds from the first sample fed: where the speech starts, or where it ended."""
    reason: str = ""
    """For "end": "silence" after the trailing silence, "max_length" when the utterance ran too long."""


class Endpointer:
    """Energy-based voice activity and end-of-speech detection on 16 kHz float blocks.

    The background is the median level of the 10 ms frames heard outside speech in the last
    `floor_window` seconds (but not below `min_floor`, so that faint sounds in a digitally
    silent stream are not speech); it stays still while someone speaks. A median, not the
    quietest frame: in babble the quietest frames lie far below the noise, and speech would
    never seem to end. Speech starts when the level over 50 ms stays `start_margin` dB above the
    background for `min_speech` seconds (with gaps of at most `max_gap`); the reported start is
    the first of those frames. Speech ends when the level over 50 ms has stayed below
    `continue_margin` dB above the background for `trailing_silence` seconds, counted from the
    end of the last voiced frame, or `max_utterance` seconds after it started. The loudness of
    the speech (`speech_margin`) is that of its loudest 200 ms. During speech the
    background only rises, to the quietest tenth of the last `floor_window` seconds, so that a
    lasting rise of noise ends. Nothing starts before `warm_up` seconds of background.
    """

    FRAME = SPEECH_RATE // 100
    SHORT_FRAMES = 5
    LONG_FRAMES = 20

    def __init__(
        self,
        trailing_silence: float = TRAILING_SILENCE,
        min_speech: float = 0.15,
        max_utterance: float = 15.0,
        start_margin: float = 8.0,
        continue_margin: float = 4.0,
        min_floor: float = -65.0,
        floor_window: float = 3.0,
        max_gap: float = 0.1,
        warm_up: float = 0.2,
    ):
        frames = lambda seconds: max(1, round(seconds * SPEECH_RATE / self.FRAME))  # noqa: E731
        self.trailing_silence = trailing_silence
        self.trailing_frames = frames(trailing_silence)
        self.min_speech_frames = frames(min_speech)
        self.max_frames = frames(max_utterance)
        self.max_gap_frames = frames(max_gap)
        self.warm_up_frames = frames(warm_up)
        self.start_margin = start_margin
        self.continue_margin = continue_margin
        self.min_floor = min_floor
        self._background: deque[float] = deque(maxlen=frames(floor_window))
        self._heard: deque[float] = deque(maxlen=frames(floor_window))
        self._powers: deque[float] = deque(maxlen=self.LONG_FRAMES)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: time starts again at zero with no background heard."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._frame = 0
        self._background.clear()
        self._heard.clear()
        self._powers.clear()
        self._floor = self.min_floor
        self.cancel()

    def cancel(self) -> None:
        """Drop any speech in progress; the clock and the background carry on."""
        self._in_speech = False
        self._candidate: int | None = None
        self._loud_frames = 0
        self._last_loud = 0
        self._start = 0
        self._last_voiced = 0
        self.set_trailing_silence(self.trailing_silence)

    def set_trailing_silence(self, seconds: float) -> None:
        """How long a pause ends the speech in progress, from now until `cancel`: shorter once the
        words make a complete question, longer while they are clearly unfinished."""
        self.trailing_frames = max(1, round(seconds * SPEECH_RATE / self.FRAME))

    @property
    def ends_after(self) -> float:
        """Seconds of pause that end the speech in progress, as set now."""
        return self.trailing_frames * self.FRAME / SPEECH_RATE

    @property
    def pause(self) -> float:
        """Seconds since the voice was last heard, while in speech; 0 otherwise."""
        return (self._frame - 1 - self._last_voiced) * self.FRAME / SPEECH_RATE if self._in_speech else 0.0

    @property
    def position(self) -> float:
        """Seconds of audio fed since the start or the last `reset`."""
        return (self._frame * self.FRAME + len(self._pending)) / SPEECH_RATE

    @property
    def in_speech(self) -> bool:
        """Whether speech has started and not yet ended."""
        return self._in_speech

    @property
    def speech_margin(self) -> float:
        """dB by which the loudest 200 ms of the speech so far stands above the background; 0 outside speech."""
        return self._loudest - self._floor if self._in_speech else 0.0

    @property
    def noise_floor(self) -> float:
        """The background level in dBFS."""
        return self._floor

    def feed(self, block: np.ndarray) -> list[SpeechEvent]:
        """Feed float samples in -1..1; returns the events they completed, in order."""
        samples = np.concatenate([self._pending, np.asarray(block, dtype=np.float32).reshape(-1)])
        whole = len(samples) - len(samples) % self.FRAME
        self._pending = samples[whole:]
        if not whole:
            return []
        frames = samples[:whole].astype(np.float64).reshape(-1, self.FRAME)
        powers = np.mean(frames * frames, axis=1) + 1e-12
        events: list[SpeechEvent] = []
        for power in powers:
            event = self._step(float(power))
            if event:
                events.append(event)
        return events

    def _step(self, power: float) -> SpeechEvent | None:
        frame = self._frame
        self._frame += 1
        self._powers.append(power)
        recent = list(self._powers)
        short = 10.0 * math.log10(sum(recent[-self.SHORT_FRAMES :]) / min(len(recent), self.SHORT_FRAMES))
        if not self._in_speech:
            self._background.append(10.0 * math.log10(power))
            self._heard.append(self._background[-1])
            if frame % 10 == 0 or len(self._background) <= self.warm_up_frames:
                self._floor = max(float(np.median(self._background)), self.min_floor)
            if len(self._background) < self.warm_up_frames:
                return None
            if short >= self._floor + self.start_margin:
                if self._candidate is None:
                    self._candidate, self._loud_frames = frame, 0
                self._loud_frames += 1
                self._last_loud = frame
                if self._loud_frames >= self.min_speech_frames:
                    self._in_speech = True
                    self._loudest = -math.inf
                    self._start = self._candidate
                    self._last_voiced = frame
                    self._candidate = None
                    return SpeechEvent("start", self._seconds(self._start))
            elif self._candidate is not None and frame - self._last_loud > self.max_gap_frames:
                self._candidate = None
            return None
        self._heard.append(10.0 * math.log10(power))
        if frame % 10 == 0:
            # A lasting rise of noise taken for speech must end: the quietest tenth of what was
            # heard lately lifts the frozen background.
            self._floor = max(self._floor, float(np.percentile(self._heard, 10)))
        long = 10.0 * math.log10(sum(recent) / len(recent))
        self._loudest = max(self._loudest, long)
        if short >= self._floor + self.continue_margin:
            # Where the voice was last heard, from the 50 ms level: the 200 ms one stays above the
            # margin for most of its length after a loud voice stops, and the pause that ends a
            # question started about 60 ms late (measured on the spoken development questions).
            self._last_voiced = max(frame - self.SHORT_FRAMES // 2, self._start)
        if frame - self._last_voiced >= self.trailing_frames:
            self._in_speech = False
            return SpeechEvent("end", self._seconds(self._last_voiced + 1), "silence")
        if frame + 1 - self._start >= self.max_frames:
            self._in_speech = False
            return SpeechEvent("end", self._seconds(frame + 1), "max_length")
        return None

    def _seconds(self, frame: int) -> float:
        return frame * self.FRAME / SPEECH_RATE


PAUSE_CHECK = 0.15
"""Seconds of pause after which the words so far are read to decide how long the pause may last."""
CLEAR_VOICE = 25.0
"""dB by which the speech's loudest 200 ms must stand above the background for its words so far to
be trusted (`pause_ends_after`'s `clear_voice`). On the spoken development questions (Piper): 26-54 dB
in quiet and 25-37 dB over a fan once suppressed; 8-29 dB, mostly under 23, in babble at 10 dB, and
9-34 dB (half under 25) over a TV-like mix at 10 dB."""
SETTLE_AHEAD = 0.15
"""Seconds before a pause would end the question at which the recognizer's final transcript is
taken already, so that it is ready when the pause does end; if the voice comes back instead, the
recognizer hears the utterance again from its start. The final transcript took 81 ms at the
median in quiet, but 237 ms (90th percentile 413 ms) in babble at 10 dB, most of it PocketSphinx's
second, flat-lexicon search: there the answer starts that much later than the decision.
Taking it 0.4 s ahead did not shorten the wait on the spoken development questions (babble 10 dB,
first answer sample p50/p90 671/1663 ms, against 711/1548 at 0.15 s). The second search cannot be
dropped or narrowed without losing answers: without it, 4 more of 50 red-flag reports were
missed; with its beams narrowed, 6 more of 550 questions were answered wrongly."""
WORD_MARGIN = 0.15
"""Seconds around the speech the endpointer heard within which a recognized word still counts."""


def listen(
    blocks: Iterable[np.ndarray],
    recognizer: Recognizer,
    endpointer: Endpointer | None = None,
    on_partial: Callable[[str], None] | None = None,
    pre_roll: float = 0.3,
    timeout: float | None = None,
    pause_ends_after: Callable[[str, bool], float] | None = None,
    suppressor: NoiseSuppressor | None = None,
    witness: Endpointer | None = None,
) -> Transcript | None:
    """Recognize the next utterance in a stream of 16 kHz float blocks (a microphone).

    Audio reaches the recognizer from `pre_roll` seconds before the detected start of speech
    until the endpointer hears its end; `on_partial` gets each new partial transcript. Returns
    None when the stream ends, or `timeout` seconds pass, before any speech starts. Pass the
    same endpointer to successive calls so that its noise floor carries over.

    With `pause_ends_after`, each pause of PAUSE_CHECK seconds asks it, with the words heard so
    far and whether the voice is clear of the room's sound (CLEAR_VOICE), how many seconds of
    silence should end the question (a complete question ends sooner, an unfinished "what is ..." later).

    With a `suppressor`, the endpointer and the recognizer hear the blocks cleaned by it, and
    `witness`, an endpointer of its own (passed to successive calls too), hears them as they are:
    see `_Witness`.
    """
    endpointer = endpointer or Endpointer()
    endpointer.cancel()
    lost = _Witness(witness, pre_roll) if suppressor is not None and witness is not None else None
    recognizer.reset()
    origin = endpointer.position
    fed_from = speech_start = 0.0  # when the recognizer's audio and the speech began, on the endpointer's clock
    keep = int((pre_roll + endpointer.min_speech_frames * endpointer.FRAME / SPEECH_RATE) * SPEECH_RATE)
    recent = np.zeros(0, dtype=np.float32)  # the latest samples before speech starts
    received = 0
    speaking = False
    utterance: list[np.ndarray] = []  # what the recognizer heard of this utterance, to be heard again
    settled: Transcript | None = None  # the final transcript taken during a pause
    shown = ""
    pause_checked = False
    for block in blocks:
        block = raw = np.asarray(block, dtype=np.float32).reshape(-1)
        if suppressor is not None:
            block = suppressor.process(raw)
        received += len(block)
        events = endpointer.feed(block)
        if not speaking:
            recent = np.concatenate([recent, block])[-(keep + len(block)) :]
            start = next((e.time for e in events if e.kind == "start"), None)
            if start is None:
                if lost is not None and (taken := lost.feed(raw)) is not None:
                    return _Witness.recognize(recognizer, *taken)
                if timeout is not None and received >= timeout * SPEECH_RATE:
                    return None
                continue
            if lost is not None:
                lost.cancel()
            speaking = True
            first = max(round((start - origin - pre_roll) * SPEECH_RATE), received - len(recent))
            block = recent[first - (received - len(recent)) :]
            fed_from, speech_start = origin + first / SPEECH_RATE, start
        utterance.append(block)
        if settled is None and len(block):  # a suppressor makes nothing of a block shorter than its frame
            recognizer.accept(to_pcm16(block))
        end = next((e for e in events if e.kind == "end"), None)
        if end is not None:
            # Words the recognizer made of the room's sound before the speech or during the
            # trailing silence after it ("... my healthy cells are the" in babble) are not the question.
            speech_end = end.time - fed_from + WORD_MARGIN if end.reason == "silence" else None
            heard = settled if settled is not None else recognizer.final()
            return recognizer.within(heard, speech_start - fed_from - WORD_MARGIN, speech_end)
        if settled is not None:
            if endpointer.pause >= PAUSE_CHECK:
                continue
            # The voice came back: the transcript taken in the pause is not the question.
            recognizer.reset()
            recognizer.accept(to_pcm16(np.concatenate(utterance)))
            settled = None
        if on_partial is not None and (text := recognizer.partial()) != shown:
            shown = text
            on_partial(text)
        if pause_ends_after is not None:
            if endpointer.pause < PAUSE_CHECK:
                if pause_checked:  # the voice came back: the words so far are not the question
                    endpointer.set_trailing_silence(endpointer.trailing_silence)
                pause_checked = False
            elif not pause_checked:
                pause_checked = True
                clear = endpointer.speech_margin >= CLEAR_VOICE
                endpointer.set_trailing_silence(pause_ends_after(recognizer.partial(), clear))
        if endpointer.pause >= max(PAUSE_CHECK, endpointer.ends_after - SETTLE_AHEAD):
            settled = recognizer.final()
    if not speaking:
        return None
    return settled if settled is not None else recognizer.final()


class _Witness:
    """An endpointer over the microphone's own sound, beside one over the sound a noise suppressor
    cleaned, and what it heard lately. RNNoise takes some questions away whole when other voices
    are the noise: in 10 dB babble, the endpointer never heard 10 of the 61 spoken `dev` questions
    start (13 of `test`'s), and the patient met silence. An utterance the witness hears start and
    end while the cleaned sound stays quiet is one of those: it is recognized from the microphone's
    sound, and heard at best "unsure", since that sound is noisy enough for RNNoise to have taken
    the voice for noise; the dialogue then asks back rather than answers."""

    def __init__(self, endpointer: Endpointer, pre_roll: float):
        endpointer.cancel()
        self.endpointer = endpointer
        self.pre_roll = pre_roll
        self._limit = endpointer.max_frames * endpointer.FRAME + round(pre_roll * SPEECH_RATE)
        self._blocks: deque[np.ndarray] = deque()
        self._kept = 0
        self._start: float | None = None

    def feed(self, raw: np.ndarray) -> tuple[np.ndarray, float] | None:
        """Once an utterance the witness heard whole ends: its sound, from `pre_roll` before its
        start to WORD_MARGIN after its end, and the seconds into that sound where it starts. None until then."""
        self._blocks.append(raw)
        self._kept += len(raw)
        while self._kept - len(self._blocks[0]) >= self._limit:
            self._kept -= len(self._blocks.popleft())
        for event in self.endpointer.feed(raw):
            if event.kind == "start":
                self._start = event.time
            elif self._start is not None:
                if event.reason != "silence":  # sound that never paused, all of it taken away: noise
                    self._forget()
                    return None
                sound = np.concatenate(self._blocks)
                began = self.endpointer.position - len(sound) / SPEECH_RATE
                first = max(0, round((self._start - self.pre_roll - began) * SPEECH_RATE))
                last = round((event.time + WORD_MARGIN - began) * SPEECH_RATE)
                speech_from = self._start - (began + first / SPEECH_RATE)
                self._forget()
                return sound[first:last], speech_from
        return None

    def cancel(self) -> None:
        """The cleaned sound heard the speech start: the witness's utterance is not needed."""
        self.endpointer.cancel()
        self._forget()

    def _forget(self) -> None:
        self._blocks.clear()
        self._kept = 0
        self._start = None

    @staticmethod
    def recognize(recognizer: Recognizer, sound: np.ndarray, speech_from: float) -> Transcript:
        heard = recognizer.within(recognizer.transcribe(sound), speech_from - WORD_MARGIN, None)
        return heard if heard.hearing == "unheard" else replace(heard, hearing="unsure")
