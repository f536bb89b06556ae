"""Spoken replies to a question back: "yes", "no thanks" and the like, said after "Did you ask
about cytokine release syndrome?", in quiet and in babble, through the listening path (`listen`
with the noise suppressor and its witness, the recognizer leaning towards answers as the loop
makes it). Printed per condition and reply set: how many were taken as meant (yes: the topic
answered; no: asked for the question another way), how many as their opposite, the worst
outcome, and how many as neither (heard as something else, or not at all).

The replies are in intents/questions/replies.tsv: the `dev` ones chose the recognizer's weight on
answers (`pocketsphinx_engine.ANSWER_WEIGHT`); the `test` ones were not used to choose anything.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from ..audio.denoise import noise_suppressor
from ..dialogue import Session
from ..endpoint import Endpointer, listen
from ..errors import InputError
from ..resources import intents_file
from ..speech_in import Recognizer, make_recognizer
from .noise import babble_sentences, make_noise, mix
from .questions import read_rows
from .trial import BLOCK
from .voices import QUESTION_VOICES, Voice, VoiceCache, talkers_for

REPLIES = intents_file("questions/replies.tsv")
ASKED = "what is cytokine release syndrome"
"""The question heard, and asked back about, before each reply."""
TOPIC = "cytokine-release-syndrome"
LEVELS: tuple[float | None, ...] = (None, 20.0, 10.0)
"""Quiet, then babble at these dB below the reply."""


@dataclass(frozen=True)
class SpokenReply:
    reply: str
    meaning: str
    """"yes" or "no"."""
    set: str


@dataclass
class ReplyScores:
    """How one condition's replies of one set were taken."""

    condition: str
    set: str
    replies: int
    meant: int
    opposite: int

    @property
    def neither(self) -> int:
        return self.replies - self.meant - self.opposite


def load_replies(path: Path = REPLIES) -> list[SpokenReply]:
    replies = [SpokenReply(row["reply"], row["meaning"], row["set"]) for row in read_rows(path, "the replies")]
    wrong = [r.reply for r in replies if r.meaning not in ("yes", "no")]
    if wrong:
        raise InputError(f"'{path}': the meaning of {wrong[0]!r} must be yes or no")
    return replies


def taken_as(session: Session, recognizer: Recognizer, stream: Sequence[float]) -> str | None:
    """What the session takes a spoken reply to "Did you ask about ...?" for: "yes", "no", or None."""
    session.reset()
    if session.respond(ASKED, hearing="unsure").outcome != "confirm":
        raise RuntimeError(f"{ASKED!r} heard unsurely was not asked back")
    recognizer.expect_answer(session.asked)
    heard = listen(
        _blocks(stream), recognizer, Endpointer(), pause_ends_after=session.pause_ends_after,
        suppressor=noise_suppressor(True), witness=Endpointer(),
    )  # fmt: skip
    if heard is None or not heard.text:
        return None
    reply = session.respond(heard.text, heard.hearing, heard.alternatives)
    if reply.outcome == "answer" and reply.intent == TOPIC:
        return "yes"
    return "no" if reply.answer == session.commands.replies["rephrase"] else None


def _blocks(stream: Sequence[float]):
    return (stream[i : i + BLOCK] for i in range(0, len(stream), BLOCK))


def run_replies_bench(
    as_json: bool = False,
    engine: str = "auto",
    voices: Sequence[Voice] = QUESTION_VOICES,
    levels: Sequence[float | None] = LEVELS,
    replies: Sequence[SpokenReply] | None = None,
    cache: Path | None = None,
) -> list[ReplyScores]:
    """Speak every reply in every voice at every level; print a table (or JSON) and return the scores."""
    began = time.perf_counter()
    replies = list(replies) if replies is not None else load_replies()
    session = Session.create()
    recognizer = make_recognizer(engine, session.phrases(), answers=session.answers())
    cache_voices = VoiceCache(cache)
    tally: dict[tuple[str, str], ReplyScores] = {}
    for voice in voices:
        noise = None
        if any(level is not None for level in levels):
            noise = make_noise("babble", [cache_voices.speech(s, t) for s, t in zip(babble_sentences(), talkers_for(voice))])
        for level in levels:
            condition = "quiet" if level is None else f"babble {level:g} dB"
            recognizer.forget()
            recognizer.expect_answer(False)
            # As in a session: the question asked back was heard first.
            asked = mix(cache_voices.speech(ASKED, voice), noise, level, 1.0)
            listen(_blocks(asked), recognizer, Endpointer(), suppressor=noise_suppressor(True), witness=Endpointer())
            for index, spoken in enumerate(replies):
                stream = mix(cache_voices.speech(spoken.reply, voice), noise, level, 1.0, offset=index * 7919)
                taken = taken_as(session, recognizer, stream)
                scores = tally.setdefault((condition, spoken.set), ReplyScores(condition, spoken.set, 0, 0, 0))
                scores.replies += 1
                scores.meant += taken == spoken.meaning
                scores.opposite += taken is not None and taken != spoken.meaning
            print(f"replies bench: {voice.label}, {condition} done, {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    results = list(tally.values())
    if as_json:
        print(json.dumps({"engine": recognizer.name, "voices": [v.label for v in voices], "scores": [asdict(r) for r in results]}, indent=2))
    else:
        print(f"Replies to a question back ({recognizer.name}; {', '.join(v.label for v in voices)}):")
        print(f"{'condition':<16}{'set':<6}{'meant':>8}{'opposite':>10}{'neither':>9}")
        for r in results:
            print(f"{r.condition:<16}{r.set:<6}{f'{r.meant}/{r.replies}':>8}{r.opposite:>10}{r.neither:>9}")
    return results
