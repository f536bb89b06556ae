"""A conversation: commands ("say that again", "slower"), red flags first, then answers from the guide."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import datafile
from .errors import InputError
from .intents import IntentSet, load_intents
from .matching import CLEAR_QUESTION, LONG_MESSAGE, QUESTION_WORDS, Match, Matcher
from .resources import intents_file
from .safety import RedFlags, Symptom
from .settings import COMPLETE_SILENCE, TRAILING_SILENCE, UNFINISHED_SILENCE, VoiceSettings
from .text import find_phrases, plain_words

_LOGGER = logging.getLogger(__name__)

COMMANDS_FILE = intents_file("commands.yaml")
VOICE_ACTIONS = ("slower", "faster", "louder", "softer")
COURTESIES = ("hello", "thanks", "okay", "dismiss")
"""Greetings, thanks, "okay" and "never mind": answered with their own short reply, and, since
a question often follows them ("okay... and how long does it take"), not ended early."""
ACTIONS = ("repeat", "more", "help", "stop", *VOICE_ACTIONS, "goodbye", *COURTESIES)
KEEP_ASKING = ("repeat", "stop", *VOICE_ACTIONS)
"""Commands that leave a question back open: after "Did you ask about ...?", "say that again" says
the question again and "slower" changes only how it is said, so the yes or no that follows still
answers it (it was heard as nothing: "yes" to a red-flag check-back got "Sorry, I didn't catch that")."""
REPLY_KEYS = (
    "hello", "greeting", "disclaimer", "unknown", "nothing_to_repeat", "nothing_more", "no_more", "clarify", "confirm",
    "rephrase", "unheard", "answer_unheard", "help", "goodbye",
)
OUTCOMES = ("answer", "urgent", "confirm", "clarify", "unknown", "unheard", "command")
"""What a reply does: answers a topic; gives the urgent advice; asks back about one topic ("Did you
ask about ...?") or two ("Do you mean ... or ...?"); says the guide does not answer it; asks to
hear it again; or carries out a command."""
SPOKEN_SURE = 0.9
"""A spoken question is answered without asking back only when its match scores this well:
recognizers add and swap words. On the spoken development questions (Piper, quiet and babble),
clearly heard questions that matched below this were wrong nearly as often as right."""
SPOKEN_EVIDENCE = 1.0
"""...and when this much of it speaks for the topic (`Match.evidence`): on the same questions this
halved the wrong answers (10 to 5 over quiet, 20, 10 and 5 dB) for 7 fewer right ones (105 to 98).
Not asked of a question worded as a sample (SAMPLE_WORDING)."""
SPOKEN_SUPPORT = 0.2
"""...and, unless every content word was heard with certainty (CERTAIN_WORDS) or it is worded as a
sample (SAMPLE_WORDING), when this much of its evidence lies beyond its strongest word (`Match.support`):
one misheard word should not carry an answer. Below it are only the words nearly every topic has
("car t" 0.04, "treatment" 0.12); "how" is 0.2 and "cell" 0.25. Chosen on the transcripts of the
`dev` and `dev2` spoken selections (Piper; quiet, babble and a TV from 20 to 5 dB) replayed through
the dialogue: wrong answers 11 to 5 of 513, right ones 119 to 115, each of those asked back."""
CERTAIN_WORDS = 2
"""...and with certainty, SPOKEN_SUPPORT is not asked of a question of at least this many content
words (stems): one word heard well may still be the only one left of a longer question, heard
through noise ("chemo there" of "what's conditioning key mo therapy", "the cells" of "will it harm
my healthy cells"). On the transcripts of the `dev` and `dev2` spoken selections replayed through
the dialogue without their alternatives this took 3 of 11 wrong answers and no right one ("does car
t make you tired" has two); in a run with the alternatives (Piper; quiet, babble and a TV at 10 and
5 dB, a room with babble), 1 of 10, as "the cells" was then answered from an alternative."""
SAMPLE_WORDING = 2 / 3
"""A question heard with certainty that scores as one of a topic's samples (CLEAR_QUESTION) is
answered without evidence when at least this much of its wording is that sample's (`Match.wording`):
"what is car t therapy" has next to none, since its words are in every topic.
"i have car t" and "will car t make me say" (for "... sick") score as "what is car t" does on the
one word that tells, but are not worded as it."""
TOPIC_ALTERNATIVES = 2
"""How many of the recognizer's alternative transcripts may answer for the best one when it was
not clear enough to answer (`Session._clear_alternative`). On the `dev` spoken selection (Piper;
quiet, fan and babble at 10 dB; its transcripts and N-best lists replayed through the dialogue),
two, with the floor of ALTERNATIVE_WORDS, gave 3.7 more right answers in 100 and no more wrong;
four or nine gave more wrong."""
ALTERNATIVE_WORDS = 2
"""An alternative transcript answers for the best one only when it has at least this many content
words (stems): in babble, "the cells" was the best transcript of "how do they collect my t cells"
and "are the cells" an alternative, which matched T cells well enough to answer, wrongly."""
CERTAIN_SURE = 0.6
"""The bar instead of SPOKEN_SURE when the transcript's every content word was heard with
certainty (hearing "certain"): then the words are what was said, and what is left to doubt is the
match, which the typed bar (`Match.sure`) already judges."""


@dataclass
class Reply:
    """What the assistant answers to one utterance; its fields are the CLI's JSON keys."""

    question: str
    """The utterance as received."""
    intent: str | None
    """The intent answered, or None when the guide does not answer it (or for a command)."""
    confidence: float
    """How sure the match is, in [0, 1]; for a question the guide doesn't answer, how sure that is."""
    answer: str
    """The words to be spoken."""
    source: str | None
    """Heading of the guide section the answer comes from."""
    urgent: bool = False
    """True when the utterance reports a red-flag symptom."""
    action: str | None = None
    """The command recognized: one of ACTIONS, or None for a question."""
    outcome: str = "answer"
    """One of OUTCOMES; a command's reply is always "command", an urgent one "urgent"."""

    def __post_init__(self) -> None:
        if self.action:
            self.outcome = "command"
        elif self.urgent:
            self.outcome = "urgent"

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, transcript: str | None = None) -> str:
        """One line of `--json` output; `transcript` is what the recognizer heard, for spoken questions."""
        extra = {} if transcript is None else {"transcript": transcript}
        return json.dumps({**self.to_dict(), **extra}, ensure_ascii=False)


@dataclass
class Command:
    """A spoken command."""

    action: str
    phrases: list[tuple[str, ...]]
    reply: str = ""
    limit: str = ""


@dataclass
class Commands:
    """The conversation's commands and fixed replies (schema in intents/commands.yaml)."""

    commands: list[Command]
    filler: frozenset[str]
    replies: dict[str, str]
    yes: list[tuple[str, ...]] = field(default_factory=list)
    """Ways of saying yes to "Did you ask about ...?"."""
    no: list[tuple[str, ...]] = field(default_factory=list)
    """Ways of saying no to it, or to "Do you mean ... or ...?"."""
    unfinished: frozenset[str] = frozenset()
    """Words after which a question goes on: a pause after them is waited out longer."""

    @classmethod
    def from_file(cls, path: Path = COMMANDS_FILE) -> Commands:
        data = datafile.load(path)
        datafile.check_keys(data, {"commands", "filler", "replies", "answers", "unfinished"}, path)
        commands = []
        for action, entry in data.get("commands", {}).items():
            if action not in ACTIONS:
                raise datafile.fail(path, data["commands"].key_lines[action], f"unknown action {action!r}; use one of {ACTIONS}")
            datafile.check_keys(entry, {"phrases", "reply", "limit"}, path)
            if action in (*VOICE_ACTIONS, *COURTESIES) and not entry.get("reply"):
                raise datafile.fail(path, entry.line, f"{action!r} needs a reply: the sentence said back")
            phrases = [tuple(plain_words(p)) for p in entry.get("phrases", [])]
            commands.append(Command(action, phrases, entry.get("reply", ""), entry.get("limit", "")))
        missing = set(ACTIONS) - {c.action for c in commands}
        if missing:
            raise datafile.fail(path, data.line, f"no phrases for actions: {', '.join(sorted(missing))}")
        replies = dict(data.get("replies", {}))
        absent = [key for key in REPLY_KEYS if key not in replies]
        if absent:
            raise datafile.fail(path, data.line, f"missing replies: {', '.join(absent)}")
        answers = data.get("answers", {})
        datafile.check_keys(answers, {"yes", "no"}, path)
        yes, no = ([tuple(plain_words(p)) for p in answers.get(key, [])] for key in ("yes", "no"))
        unfinished = frozenset(plain_words(" ".join(data.get("unfinished", []))))
        return cls(commands, frozenset(plain_words(" ".join(data.get("filler", [])))), replies, yes, no, unfinished)

    def answers(self, utterance: str, phrases: list[tuple[str, ...]]) -> bool:
        """Whether an utterance is one of the phrases, with filler words around it ("yes please")."""
        tokens = plain_words(utterance)
        return any(
            all(t in self.filler for t in tokens[:i] + tokens[i + len(phrase) :])
            for i, phrase in find_phrases(tokens, phrases)
        )

    def yes_or_no(self, utterance: str, leading: bool = True) -> str | None:
        """Whether an answer to a question back says "yes" or "no": it is one of `yes` or `no`
        with filler words around it ("yes please"); or, with `leading`, it starts with a one-word
        yes or no and holds no way of saying the other ("yes she is", "no, I'm fine"). None
        otherwise: another question, or both ("yes... no, wait")."""
        for said, phrases in (("yes", self.yes), ("no", self.no)):
            if self.answers(utterance, phrases):
                return said
        tokens = plain_words(utterance)
        first = next((t for t in tokens if t not in self.filler), None)
        if not leading or first is None:
            return None
        opens_yes, opens_no = (first,) in self.yes, (first,) in self.no
        if opens_yes and not find_phrases(tokens, self.no):
            return "yes"
        if opens_no and not find_phrases(tokens, self.yes):
            return "no"
        return None

    def find(self, utterance: str) -> Command | None:
        """The command an utterance gives: it holds a command phrase and otherwise only filler words."""
        tokens = plain_words(utterance)
        best: tuple[int, Command] | None = None
        for command in self.commands:
            for i, phrase in find_phrases(tokens, command.phrases):
                rest = tokens[:i] + tokens[i + len(phrase) :]
                if all(t in self.filler for t in rest) and (best is None or len(phrase) > best[0]):
                    best = (len(phrase), command)
        return best[1] if best else None


@dataclass
class Session:
    """One conversation's state: what was said last, the topic, and how to speak."""

    intents: IntentSet
    matcher: Matcher
    red_flags: RedFlags
    commands: Commands
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    """Voice settings; "slower"/"louder" change them for the rest of the session."""
    voice_changed: Callable[[VoiceSettings], None] | None = None
    """Called with the new voice settings after "slower"/"louder" changed them (to keep them for the next start)."""
    last: Reply | None = None
    """The last reply that had something to say (for "say that again")."""
    topic: str | None = None
    """The intent of the last answer (for "tell me more" and follow-ups)."""
    more_given: int = 0
    """How many times "tell me more" was answered for the topic."""
    pending: tuple[str, ...] = ()
    """The intent of a pending "Did you ask about X?", or the two of "Do you mean X or Y?"."""
    checking: Symptom | None = None
    """The symptom of a pending red-flag check-back ("Did you say someone has X now?")."""

    @classmethod
    def create(
        cls, intents: IntentSet | None = None, voice: VoiceSettings | None = None, red_flags: RedFlags | None = None
    ) -> Session:
        intents = load_intents() if intents is None else intents
        return cls(
            intents=intents,
            matcher=Matcher(intents),
            red_flags=red_flags or RedFlags.from_file(intents),
            commands=Commands.from_file(),
            voice=voice or VoiceSettings(),
        )

    def phrases(self) -> list[str]:
        """Everything the session understands, as phrases: the domain language for a speech recognizer."""
        commands = [" ".join(p) for c in self.commands.commands for p in c.phrases]
        polite = [f"{c} please" for c in commands] + [f"please {c}" for c in commands]
        # Questions the guide doesn't answer belong too: what the recognizer cannot hear as
        # itself, it hears as the nearest guide question, which would then be answered.
        outside = self.intents.out_of_scope + self.intents.not_covered
        # The answers to "Did you ask about ...?" and to a red-flag check-back: without them a spoken
        # "no" was heard as "know", and "yes" with too little confidence to be taken.
        said = self.intents.phrases() + outside + self.red_flags.phrases() + commands + polite + self.answers()
        return list(dict.fromkeys(said))

    def answers(self) -> list[str]:
        """The ways of saying yes or no to the assistant's own questions, as phrases."""
        return [" ".join(p) for p in self.commands.yes + self.commands.no]

    @property
    def asked(self) -> bool:
        """Whether the last reply asked something back ("Did you ask about ...?", "Do you mean ...
        or ...?", "Did you say someone has ...?"): the next utterance is likely a yes or a no."""
        return bool(self.pending or self.checking)

    def pause_ends_after(self, words_so_far: str, clear_voice: bool = False, default: float = TRAILING_SILENCE) -> float:
        """How many seconds of silence should end an utterance whose words so far are these:
        less when they already make a command, a red-flag report or a question answered without
        asking back; more when they end in a word that leads on ("and", "what is", "um"), or one
        that the guide's phrases go on from ("car" t, "side" effects: `IntentSet.leading_words`).

        `clear_voice`: the voice stands well above the room's sound, so that the words so far are
        likely what was said; then a short question is complete at a lower bar as well.
        """
        tokens = plain_words(words_so_far)
        if not tokens:
            return default
        if tokens[-1] in self.commands.unfinished or (clear_voice and tokens[-1] in self.intents.leading_words):
            return UNFINISHED_SILENCE
        command = self.commands.find(words_so_far)
        if (command and command.action not in COURTESIES) or self.red_flags.check(words_so_far):
            return COMPLETE_SILENCE
        match = self.matcher.match(words_so_far, context=self.topic)
        if self._outright(match, "clear"):
            return COMPLETE_SILENCE
        # A short question is complete at a lower bar too: one answered outright when heard with
        # certainty, and one the guide does not answer ("can I drive after it"), which gets "not in
        # my guide" however it goes on.
        if clear_voice and self._asks(tokens) and (match.out_of_scope or self._outright(match, "certain")):
            return COMPLETE_SILENCE
        return default

    def _asks(self, tokens: list[str]) -> bool:
        """Whether words are a short question: under LONG_MESSAGE words that start, after "um" or
        "so", with a question word. A story told before a question ("my wife has been through so
        much. first chemo, ...") pauses between its sentences."""
        first = next((t for t in tokens if t not in self.commands.filler or t in QUESTION_WORDS), None)
        return len(tokens) < LONG_MESSAGE and first in QUESTION_WORDS

    def _asks_about(self, text: str, hearing: str, symptom: Symptom) -> bool:
        """Whether words heard with certainty ask about this very symptom ("is bleeding a sign of
        low blood counts"): then a report of it among the recognizer's alternatives is the same words
        with a small one swapped, not a report the best transcript lost. Merely clear is not enough:
        in babble "my nose has been bleeding for half an hour" was heard clearly as "why those has
        have bleeding will happen how that", whose "will" asks."""
        return hearing == "certain" and self.red_flags.asks(text) and self.red_flags.mentioned(text) is symptom

    def reset(self) -> None:
        """Forget the conversation (last answer, topic, pending choice); the voice settings stay."""
        self.last = self.topic = None
        self.pending = ()
        self.checking = None
        self.more_given = 0

    def opening(self) -> str:
        """What is said when a session starts: who this is, and that it is not medical advice."""
        return f"{self.commands.replies['hello']} {self.introduction()}"

    def introduction(self) -> str:
        """The opening without its "Hello."."""
        return f"{self.commands.replies['greeting']} {self.commands.replies['disclaimer']}"

    def respond(self, utterance: str, hearing: str | None = None, alternatives: Sequence[str] = ()) -> Reply:
        """The reply to one utterance, updating the session. `hearing` is how well a spoken
        utterance was heard ("certain", "clear", "unsure", "unheard"; see `Transcript.hearing`), None for typed;
        `alternatives`, what else the recognizer found nearly as likely (`Transcript.alternatives`)."""
        text = " ".join(utterance.split())
        if not plain_words(text):
            raise InputError("the question is empty; say or type a question about CAR T-cell therapy")
        alert = self.red_flags.check(text)
        # A red-flag word heard without certainty is checked back, with the advice in it; so is one
        # heard clearly in words that do not ask about it, whose reporter may have been lost ("um i'm
        # burning up and so short of breath" heard as "of wondering open so short of breath").
        told = hearing is not None and not self._asks(plain_words(text)) and not self.red_flags.asks(text)
        if hearing in ("unsure", "unheard") or (told and not alert):
            symptom = self.red_flags.mentioned(text)
            if symptom:
                return self._checked_back(text, symptom)
        if not alert and hearing is not None:
            # A report the recognizer found nearly as likely as what it chose ("my blood pressure is
            # really low" behind "... is really will") is checked back, with the advice in it.
            reported = next(filter(None, map(self.red_flags.check, alternatives)), None)
            if reported and not self._asks_about(text, hearing, reported.symptoms[0]):
                return self._checked_back(text, reported.symptoms[0])
            if hearing == "unheard":
                return self._unheard(text)
        checking, self.checking = self.checking, None
        if checking and not alert:
            said = self.commands.yes_or_no(text)
            if said == "yes":
                alert = self.red_flags.alert([checking])
            elif said == "no":
                return self._said(Reply(text, None, 1.0, self.commands.replies["rephrase"], None, outcome="unknown"), None)
        if alert:
            topic = alert.symptoms[0].intent
            source = self.intents[topic].source if topic else None
            return self._said(Reply(text, topic, 1.0, alert.answer, source, urgent=True), topic=topic)
        pending, self.pending = self.pending, ()
        if pending:
            reply = self._answer_to_question(text, pending)
            if reply:
                return reply
        command = self.commands.find(text)
        if command:
            if command.action in KEEP_ASKING:
                self.pending, self.checking = pending, checking
            return self._command(text, command)
        if hearing is not None and not self.matcher.stems(text):
            # Only small words ("if", "up"): noise or a lost question, not something the guide lacks.
            self.pending, self.checking = pending, checking
            return self._unheard(text)
        return self._question(text, pending, hearing, alternatives)

    def _unheard(self, text: str) -> Reply:
        """The reply to too little heard. While a question back waits for its yes or no, it is asked
        again, so that the listener knows what to answer; a red-flag check-back keeps its advice."""
        replies = self.commands.replies
        if self.checking:
            answer = f"{replies['answer_unheard']} {self.red_flags.check_back(self.checking)}"
            return self._said(Reply(text, None, 0.0, answer, None, urgent=True), topic=self.topic)
        if self.pending:
            answer = f"{replies['answer_unheard']} {self._question_back(self.pending)}"
            return self._said(Reply(text, None, 0.0, answer, None, outcome="unheard"), topic=self.topic)
        return Reply(text, None, 0.0, replies["unheard"], None, outcome="unheard")

    def _question_back(self, pending: tuple[str, ...]) -> str:
        """ "Did you ask about X?" for one topic, "Do you mean X, or Y?" for two."""
        names = [self.intents[topic].name for topic in pending]
        if len(names) == 1:
            return self.commands.replies["confirm"].format(topic=names[0])
        return self.commands.replies["clarify"].format(first=names[0], second=names[1])

    def _checked_back(self, text: str, symptom: Symptom) -> Reply:
        """A red-flag check-back: urgent, with the advice in it, about no topic. A "yes" to it is
        a report of the symptom; a "no", a question to be asked another way."""
        reply = self._said(Reply(text, None, 0.0, self.red_flags.check_back(symptom), None, urgent=True), topic=self.topic)
        self.checking = symptom
        return reply

    def _answer_to_question(self, text: str, pending: tuple[str, ...]) -> Reply | None:
        """The reply to a yes or no after "Did you ask about X?", or to a no after "Do you mean X or Y?"
        ("no, the second one" picks the second)."""
        said = self.commands.yes_or_no(text, leading=len(pending) == 1)
        if len(pending) == 1 and said == "yes":
            return self._answer(text, pending[0], 1.0)
        if said == "no":
            return self._said(Reply(text, None, 1.0, self.commands.replies["rephrase"], None, outcome="unknown"), None)
        return None

    def _question(
        self, text: str, pending: tuple[str, ...] = (), hearing: str | None = None, alternatives: Sequence[str] = ()
    ) -> Reply:
        match = self.matcher.match(text, context=self.topic)
        if hearing is not None and not self._heard_clearly(match, hearing):
            match = self._clear_alternative(alternatives, hearing) or replace(match, sure=False)
        if len(pending) == 2 and match.intent not in pending:
            chosen = self._choose_option(text, pending)
            if chosen:
                return self._answer(text, chosen, match.confidence)
        replies = self.commands.replies
        if match.intent is None:
            return self._said(Reply(text, None, match.confidence, replies["unknown"], None, outcome="unknown"), None)
        if match.alternative:
            self.pending = (match.intent, match.alternative)
            answer = self._question_back(self.pending)
            return self._said(Reply(text, None, match.confidence, answer, None, outcome="clarify"), topic=self.topic)
        if not match.sure:
            self.pending = (match.intent,)
            answer = self._question_back(self.pending)
            return self._said(Reply(text, None, match.confidence, answer, None, outcome="confirm"), topic=self.topic)
        return self._answer(text, match.intent, match.confidence)

    def _clear_alternative(self, alternatives: Sequence[str], hearing: str) -> Match | None:
        """The match of the one alternative transcript heard clearly enough to answer by the
        spoken bar, when the best transcript was not ("what are the wait effects of car t years later",
        with "... late effects ..." among its alternatives). None when none is, or when two are and
        disagree on the topic."""
        if hearing not in ("certain", "clear"):
            return None
        clear = {}
        for alternative in alternatives[:TOPIC_ALTERNATIVES]:
            match = self.matcher.match(alternative, context=self.topic)
            if self._outright(match, "clear") and match.content_words >= ALTERNATIVE_WORDS:
                clear.setdefault(match.intent, match)
        return next(iter(clear.values())) if len(clear) == 1 else None

    @classmethod
    def _outright(cls, match: Match, hearing: str) -> bool:
        """Whether a match heard this way is answered without asking back: one topic, sure, no
        close second, and past the spoken bar."""
        return bool(match.intent and match.sure and not match.alternative and cls._heard_clearly(match, hearing))

    @staticmethod
    def _heard_clearly(match: Match, hearing: str) -> bool:
        if hearing == "certain" and match.confidence >= CLEAR_QUESTION and match.wording >= SAMPLE_WORDING:
            return True
        bar = CERTAIN_SURE if hearing == "certain" else SPOKEN_SURE
        if not (hearing in ("certain", "clear") and match.confidence >= bar and match.evidence >= SPOKEN_EVIDENCE):
            return False
        certain = hearing == "certain" and match.content_words >= CERTAIN_WORDS
        return certain or match.support >= SPOKEN_SUPPORT or match.wording >= SAMPLE_WORDING

    def _answer(self, text: str, intent_id: str, confidence: float) -> Reply:
        intent = self.intents[intent_id]
        return self._said(Reply(text, intent.id, confidence, intent.answer, intent.source), topic=intent.id)

    def _choose_option(self, text: str, options: tuple[str, ...]) -> str | None:
        """Which of the two offered topics a short answer like "the first one" or "fatigue" picks."""
        tokens = set(plain_words(text))
        if tokens & {"first", "former", "one"} and not tokens & {"second", "latter", "other"}:
            return options[0]
        if tokens & {"second", "latter", "other", "last"}:
            return options[1]
        scores = self.matcher.scores(self.matcher.stems(text))
        first, second = (scores.get(option, 0.0) for option in options)
        if max(first, second) > 0:
            return options[0] if first >= second else options[1]
        return None

    def _command(self, text: str, command: Command) -> Reply:
        action = command.action
        replies = self.commands.replies
        if action == "repeat":
            if self.last is None:
                return Reply(text, None, 1.0, replies["nothing_to_repeat"], None, action=action)
            return replace(self.last, question=text, confidence=1.0, action=action)
        if action == "more":
            return self._more(text)
        if action == "help":
            topics = ", ".join(i.name for i in self.intents if i.parent is None)
            return self._said(Reply(text, None, 1.0, replies["help"].format(topics=topics), None, action=action), self.topic)
        if action in VOICE_ACTIONS:
            stepped = self.voice.stepped(action)
            if stepped is None:
                return Reply(text, None, 1.0, command.limit, None, action=action)
            self.voice = stepped
            _LOGGER.debug("voice now %s", stepped)
            if self.voice_changed:
                self.voice_changed(stepped)
            return Reply(text, None, 1.0, command.reply, None, action=action)
        if action == "goodbye":
            return Reply(text, None, 1.0, replies["goodbye"], None, action=action)
        if action in COURTESIES:
            return Reply(text, None, 1.0, command.reply, None, action=action)
        return Reply(text, None, 1.0, "", None, action=action)  # stop: silence is the answer

    def _more(self, text: str) -> Reply:
        replies = self.commands.replies
        if self.topic is None:
            return Reply(text, None, 1.0, replies["nothing_more"], None, action="more")
        intent = self.intents[self.topic]
        # First the topic's passage; then, for a finer topic, its whole section; then nothing new.
        levels = [intent.passage]
        if intent.parent:
            levels.append(self.intents[intent.parent].passage)
        if self.more_given >= len(levels):
            return Reply(text, intent.id, 1.0, replies["no_more"], intent.source, action="more")
        answer = levels[self.more_given]
        self.more_given += 1
        return self._said(Reply(text, intent.id, 1.0, answer, intent.source, action="more"), intent.id)

    def _said(self, reply: Reply, topic: str | None) -> Reply:
        """Remember a reply worth repeating, and the topic it leaves the conversation on."""
        if topic != self.topic:
            self.more_given = 0
        self.topic = topic
        self.last = reply
        return reply
