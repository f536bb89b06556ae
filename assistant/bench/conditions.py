"""What the spoken benchmark measures: each condition is a voice asking the questions in one
kind of noise at one level, by a recognizer that has or has not heard the room before."""

from __future__ import annotations

from dataclasses import dataclass

from .voices import ESPEAK_US, JOE, QUESTION_VOICES, Voice

NOISES = ("quiet", "babble", "room", "fan", "beeps", "tv")
"""Kinds of noise: none; other voices talking at once; the reverberant room (its own sound
alone, or with babble from across the room at a level); a fan with mains hum; monitor beeps;
a TV (one talker over music)."""
SNRS = (20.0, 10.0, 5.0, 0.0)
"""Noise levels in dB below the speech."""
HESITATIONS = (0.5, 1.0)
"""Seconds a hesitant talker pauses in the middle of a question: a short pause, shorter than the
usual end of a question, and a long one."""


@dataclass(frozen=True)
class Condition:
    """One row of the spoken benchmark."""

    voice: Voice
    """Who asks the questions."""
    noise: str = "quiet"
    """One of NOISES."""
    snr: float | None = None
    """Noise level in dB below the speech; None in quiet, and in the room without babble."""
    fresh: bool = False
    """The recognizer forgets the voice and the room before every question, so each is the first
    it hears; otherwise it has heard one question of the same condition before the first."""
    pause: float | None = None
    """Seconds of silence in the middle of each question, as a hesitant talker leaves: the voice
    says the words before and after its middle word apart. None: the question in one go."""

    def __post_init__(self) -> None:
        if self.noise not in NOISES:
            raise ValueError(f"unknown noise {self.noise!r}; one of: {', '.join(NOISES)}")
        if self.noise == "quiet" and self.snr is not None:
            raise ValueError("quiet has no signal-to-noise ratio")
        if self.noise not in ("quiet", "room") and self.snr is None:
            raise ValueError(f"{self.noise} needs a signal-to-noise ratio")
        if self.pause is not None and self.pause <= 0:
            raise ValueError(f"a pause is a positive number of seconds, not {self.pause}")

    @property
    def name(self) -> str:
        """As the tables print it: "quiet", "babble 10 dB", "room + babble 10 dB", "fresh, quiet"."""
        if self.noise == "room":
            level = "room" if self.snr is None else f"room + babble {self.snr:g} dB"
        else:
            level = self.noise if self.snr is None else f"{self.noise} {self.snr:g} dB"
        level = level if self.pause is None else f"{level}, pause {self.pause:g} s"
        return f"fresh, {level}" if self.fresh else level

    def parts(self, question: str) -> list[str]:
        """What the voice says of a question, one piece at a time: the whole question, or its two
        halves around a pause (a question of one word has no middle to pause in)."""
        words = question.split()
        if self.pause is None or len(words) < 2:
            return [question]
        middle = len(words) // 2
        return [" ".join(words[:middle]), " ".join(words[middle:])]

    @property
    def talkers(self) -> bool:
        """Whether its noise has other voices in it."""
        return self.noise in ("babble", "tv", "room") and self.snr is not None


def full_plan() -> list[Condition]:
    """Every voice in quiet, in babble at 10 dB and in the room with babble at 10 dB; the main voice
    (Piper joe at 150 wpm) also in every kind of noise at every level, in the room alone, fresh
    (in quiet and at 10 dB babble), and hesitating in quiet (HESITATIONS)."""
    plan = [Condition(JOE)]
    plan += [Condition(JOE, pause=pause) for pause in HESITATIONS]
    plan += [Condition(JOE, noise, snr) for noise in ("babble", "fan", "beeps", "tv") for snr in SNRS]
    plan += [Condition(JOE, "room"), Condition(JOE, "room", 10.0)]
    plan += [Condition(JOE, fresh=True), Condition(JOE, "babble", 10.0, fresh=True)]
    for voice in QUESTION_VOICES[1:]:
        plan += [Condition(voice), Condition(voice, "babble", 10.0), Condition(voice, "room", 10.0)]
    return plan


def quick_plan() -> list[Condition]:
    """A smoke run: the main voice in quiet, in every kind of noise at 10 dB and fresh in quiet;
    one eSpeak NG voice in quiet."""
    plan = [Condition(JOE)]
    plan += [Condition(JOE, noise, 10.0) for noise in NOISES[1:]]
    plan += [Condition(JOE, fresh=True), Condition(ESPEAK_US)]
    return plan
