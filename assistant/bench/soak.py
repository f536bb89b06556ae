"""Soak: the hands-free loop run for a given time on a virtual microphone, to show that it neither
leaks memory nor breaks.

`assistant listen --json` runs as a process of its own on the PulseAudio server the environment
names (PULSE_SERVER), which must have a virtual microphone: a default source that hears what is
played into the sink "micfeed", the layout of tests/pulse.py. `scripts/soak.py` starts such a server
privately and stops it afterwards. Into the microphone go, in a fixed cycle: development questions
spoken by Piper (kept in the spoken benchmark's voice cache), some under a fan's or a monitor's
noise; commands ("say that again", "tell me more", "slower", "faster", and "stop" said over an
answer); "yes" when the listener asks back; silence; and noise alone. Each item waits until the
listener listens again. The listener's resident memory (VmRSS) and CPU time are sampled
throughout; at the end, "goodbye" (said again when misheard) must end it.

Errors: every line the listener writes to stderr, a status saying it cannot speak, a wait for it to
listen again that times out, a failure to play into the microphone, and any end of the listener
but an exit with status 0 after "goodbye".
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import random
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..audio import SPEECH_RATE
from ..errors import AudioError
from .listener import TREND_S, ListenerProcess, Sampler, is_listening, is_reply, trend
from .noise import SEED, fan_hum, mix, monitor_beeps
from .questions import load_dev_set, spoken_selection
from .voices import JOE, JOE_FAST, VoiceCache

MIC_FEED = "micfeed"
"""The sink whose sound the virtual microphone hears."""
NOISE_LEVEL = 0.05
"""RMS of the noise played alone (about -26 dBFS): a fan, or a monitor, near the microphone."""
NOISY_SNR = 10.0
"""Signal-to-noise ratio in dB of the questions asked under noise."""
STOP_AFTER = 2.0
"""Seconds into an answer at which "stop" is said over it."""
STOP_WORDS = 30
"""Only an answer of this many words or more has "stop" said over it: even at the fastest rate
(240 words a minute) it plays on for 4 s after "stop" has been said."""
STOPPED_S = 2.0
"""An answer counts as stopped when the listener listens again within this long of "stop"."""
LISTEN_AGAIN_S = 180.0
"""Longest wait for the listener to listen again: the longest answer ("tell me more" on a whole
section, spoken slowly) takes about a minute."""
HEARD_S = 10.0
"""How long the listener has, once a question has been played, to show that it heard something."""
QUIET_S = 2.0
"""An item ends once the listener has said nothing for this long (and is not answering): noise,
or a question with a pause in it, can make more than one utterance."""
GOODBYE_S = 30.0
"""How long the listener has to end after "goodbye"."""
GOODBYES = ("goodbye", "that's all, thank you", "no more questions")
"""Said in turn until the listener ends, as a person would put it another way when misheard: of
20 fresh Piper draws of "goodbye", PocketSphinx heard 2 as "the back" or "the bye" in quiet, and
the same draw said again is heard the same way."""
SAMPLES = 120
"""Memory samples over a run (at most one a second)."""


@dataclass(frozen=True)
class Step:
    """One item of the soak's cycle."""

    kind: str
    """"question", "command", "silence" or "noise"."""
    text: str = ""
    """What a command or question says; a question without text is the next development question."""
    seconds: float = 0.0
    """How long silence or noise lasts."""
    noise: str = "fan"
    """The noise played alone or under a question: "fan" (with mains hum) or "beeps" (a monitor's)."""
    snr: float | None = None
    """The noise under a question, in dB below it; None for a quiet room."""
    stop_after: float | None = None
    """Say "stop" this many seconds after the reply comes, over its answer."""


CYCLE = (
    Step("question"),
    Step("command", "say that again"),
    Step("silence", seconds=5.0),
    Step("question", snr=NOISY_SNR, stop_after=STOP_AFTER),
    Step("noise", seconds=3.0),
    # A question whose answer is long, and more of it: both are stopped by voice.
    Step("question", "what is cytokine release syndrome", stop_after=STOP_AFTER),
    Step("command", "tell me more", stop_after=STOP_AFTER),
    Step("command", "slower"),
    Step("question", noise="beeps", snr=NOISY_SNR),
    Step("noise", seconds=3.0, noise="beeps"),
    Step("command", "faster"),
)
FOLLOW_UPS = {"confirm": "yes", "clarify": "the first one"}
"""What is said back when the listener asks back, by the outcome of its reply."""


@dataclass
class Exchange:
    """What was played into the microphone, and what the listener did until it listened again."""

    at_s: float
    """When it began, in seconds since the listener was started."""
    kind: str
    """A step's kind, "follow-up" (a reply to being asked back) or "goodbye"."""
    said: str | None
    """The words played; None for silence and noise."""
    condition: str
    """"quiet" or the noise under speech ("fan 10 dB"); the length of silence, or noise alone ("fan 3 s")."""
    replies: list[dict] = field(default_factory=list)
    """The listener's replies meanwhile (its JSON lines)."""
    stopped: bool | None = None
    """Whether "stop", said over the answer, silenced it; None when it was not said."""
    seconds: float = 0.0
    """From the start of the item until the listener listened again."""


def check_virtual_microphone() -> None:
    """Raise AudioError unless the environment's PulseAudio server has the virtual microphone."""
    missing = [tool for tool in ("pactl", "pacat") if shutil.which(tool) is None]
    if missing:
        raise AudioError(f"the soak plays into a virtual microphone with {' and '.join(missing)}; "
                         "install the Debian package pulseaudio-utils")
    server = os.environ.get("PULSE_SERVER", "the default PulseAudio server")
    fix = "run the soak with '.venv/bin/python scripts/soak.py SECONDS', which starts a private PulseAudio server with one"
    sinks = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True, timeout=10)
    if sinks.returncode != 0:
        raise AudioError(f"cannot reach {server} ({sinks.stderr.strip()}) for its virtual microphone; {fix}")
    if MIC_FEED not in sinks.stdout.split():
        raise AudioError(f"{server} has no virtual microphone (no sink '{MIC_FEED}'); {fix}")


def _engine(engine: str) -> str:
    """The recognizer `listen --engine auto` would take, named, so that it prints no hint."""
    from ..models import find_model

    if engine != "auto":
        return engine
    return "vosk" if find_model() is not None else "pocketsphinx"


class _Soak:
    """One soak run: plays the cycle into the microphone and takes down what the listener does."""

    def __init__(self, voices: VoiceCache, engine: str, as_json: bool):
        self.voices = voices
        self.engine = engine
        self.as_json = as_json
        questions = spoken_selection(load_dev_set())
        random.Random(SEED).shuffle(questions)  # every kind of question early in a run, not the set's first topic
        self.questions = itertools.cycle(questions)
        self.question_voices = itertools.cycle((JOE, JOE_FAST))
        self.noises = {"fan": fan_hum(), "beeps": monitor_beeps()}
        """Tracks at unit power."""
        self.exchanges: list[Exchange] = []
        self.errors: list[dict] = []
        self.listener: ListenerProcess | None = None
        self.ended = False
        """Whether the listener's output has ended."""
        self.said_goodbye = False

    def error(self, message: str) -> None:
        at = time.monotonic() - self.listener.started if self.listener else 0.0
        self.errors.append({"at_s": round(at, 1), "error": message})
        if not self.as_json:
            print(f"  ERROR at {at:.1f} s: {message}", flush=True)

    def run(self, seconds: float) -> dict:
        self.listener = ListenerProcess(self.engine, self.error)
        origin = self.listener.started
        sampler = Sampler(self.listener.process.pid, origin, max(1.0, seconds / SAMPLES))
        warm_at = None
        startup = 0.0
        try:
            ok = self._take(Exchange(0.0, "start", None, "quiet"), is_listening, LISTEN_AGAIN_S) is not None
            startup = time.monotonic() - origin
            deadline = time.monotonic() + seconds
            steps = itertools.cycle(enumerate(CYCLE))
            follow_up: str | None = None
            while ok and time.monotonic() < deadline:
                if follow_up:
                    exchange, ok = self._speech(Exchange(self._now(), "follow-up", follow_up, "quiet"))
                else:
                    index, step = next(steps)
                    if index == 0 and self.exchanges and warm_at is None:
                        warm_at = self._now()
                    exchange, ok = self._step(step)
                replies = [r for r in exchange.replies if r.get("outcome") in FOLLOW_UPS]
                follow_up = FOLLOW_UPS[replies[-1]["outcome"]] if replies else None
            # The listener's memory is taken while it listens, not as it ends.
            sampler.stop()
            if ok:
                self._goodbye()
        except AudioError as err:
            self.error(str(err))
        except KeyboardInterrupt:
            # The numbers so far are still worth printing; the error says that they are not a whole run.
            self.error("interrupted (Ctrl-C) before the end")
        finally:
            sampler.stop()
            status = self.listener.end()
        # A listener that hung was ended here, and its wait was reported as the error.
        if status != 0 and (self.ended or self.said_goodbye):
            self.error(f"the listener ended with exit status {status}")
        elif self.ended and not self.said_goodbye:
            self.error("the listener ended before 'goodbye' was said")
        return self._numbers(seconds, startup, sampler, warm_at)

    def _now(self) -> float:
        return round(time.monotonic() - self.listener.started, 1)

    def _step(self, step: Step) -> tuple[Exchange, bool]:
        if step.kind == "silence":
            exchange = Exchange(self._now(), "silence", None, f"{step.seconds:g} s")
            return self._done(exchange, self._settle(exchange, step.seconds))
        if step.kind == "noise":
            exchange = Exchange(self._now(), "noise", None, f"{step.noise} {step.seconds:g} s")
            self._play(NOISE_LEVEL * self.noises[step.noise][: int(step.seconds * SPEECH_RATE)])
            return self._done(exchange, self._settle(exchange, QUIET_S))
        text = step.text or next(self.questions).question
        condition = "quiet" if step.snr is None else f"{step.noise} {step.snr:g} dB"
        return self._speech(Exchange(self._now(), step.kind, text, condition), step.noise, step.snr, step.stop_after)

    def _speech(
        self, exchange: Exchange, noise: str = "fan", snr: float | None = None, stop_after: float | None = None
    ) -> tuple[Exchange, bool]:
        voice = next(self.question_voices) if exchange.kind == "question" else JOE
        track = self.noises[noise]
        offset = int(np.random.default_rng((SEED, len(self.exchanges))).integers(len(track)))
        self._play(mix(self.voices.speech(exchange.said, voice), track, snr, 0.0, offset))
        first = self._take(exchange, lambda line: True, HEARD_S)
        if first is None:
            return self._done(exchange, not self.ended)
        if is_reply(first):
            said_stop = None
            if stop_after is not None and len(first["answer"].split()) >= STOP_WORDS:
                time.sleep(stop_after)
                self._play(self.voices.speech("stop", JOE))
                said_stop = time.monotonic()
            if self._take(exchange, is_listening, LISTEN_AGAIN_S) is None:
                return self._done(exchange, False)
            if said_stop is not None:
                # The listener tells no one that it stopped; that it listens again so soon shows it.
                exchange.stopped = time.monotonic() - said_stop <= STOPPED_S
        return self._done(exchange, self._settle(exchange, QUIET_S))

    def _settle(self, exchange: Exchange, quiet: float) -> bool:
        """The listener's lines until it has said nothing for `quiet` seconds, each answer waited
        for until the listener listens again; False when it does not, or ends."""
        while (line := self._take(exchange, lambda line: True, quiet)) is not None:
            if is_reply(line) and self._take(exchange, is_listening, LISTEN_AGAIN_S) is None:
                return False
        return not self.ended

    def _goodbye(self) -> None:
        exchange = Exchange(self._now(), "goodbye", GOODBYES[0], "quiet")
        self.said_goodbye = True
        for goodbye in GOODBYES:
            self._play(self.voices.speech(goodbye, JOE))
            # Misheard, "goodbye" gets a reply and the listener listens again: it is put another way.
            if self._take(exchange, is_listening, GOODBYE_S) is None:
                break
        if not self.ended:
            self.error(f"the listener did not end within {GOODBYE_S:g} s of 'goodbye' put {len(GOODBYES)} ways")
        exchange.seconds = round(self._now() - exchange.at_s, 1)
        self.exchanges.append(exchange)
        if not self.as_json:
            print(_describe(exchange), flush=True)

    def _done(self, exchange: Exchange, ok: bool) -> tuple[Exchange, bool]:
        exchange.seconds = round(self._now() - exchange.at_s, 1)
        self.exchanges.append(exchange)
        if not ok and not self.ended:
            self.error(f"the listener did not listen again within {LISTEN_AGAIN_S:g} s: {_describe(exchange).strip()}")
        if not self.as_json:
            print(_describe(exchange), flush=True)
        return exchange, ok

    def _take(self, exchange: Exchange, until: Callable[[dict], bool], timeout: float) -> dict | None:
        """The listener's lines into `exchange` until one satisfies `until`: that line, or None when
        `timeout` passes or the listener's output ends first."""
        deadline = time.monotonic() + timeout
        while not self.ended and (left := deadline - time.monotonic()) > 0:
            try:
                line = self.listener.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self.ended = True
                return None
            status = line.get("status", "")
            if is_reply(line):
                exchange.replies.append(line)
            elif status.startswith("Cannot speak"):
                self.error(status)
            if until(line):
                return line
        return None

    def _play(self, samples: np.ndarray) -> None:
        """Play 16 kHz samples into the virtual microphone; returns once they have been played."""
        player = subprocess.Popen(
            [
                "pacat", "--playback", f"--device={MIC_FEED}", "--raw", "--format=float32le",
                f"--rate={SPEECH_RATE}", "--channels=1", "--latency-msec=50",
            ],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            _, err = player.communicate(np.asarray(samples, dtype="<f4").tobytes(), len(samples) / SPEECH_RATE + 10)
        except subprocess.TimeoutExpired:
            player.kill()
            player.wait()
            raise AudioError("pacat did not finish playing into the virtual microphone") from None
        if player.returncode != 0:
            raise AudioError(f"pacat could not play into the virtual microphone: {err.decode(errors='replace').strip()}")

    def _numbers(self, seconds: float, startup: float, sampler: Sampler, warm_at: float | None) -> dict:
        samples = sampler.samples
        replies = [reply for exchange in self.exchanges for reply in exchange.replies]
        if warm_at is None:  # shorter than a cycle: from the first reply on
            warm_at = next((e.at_s + e.seconds for e in self.exchanges if e.replies), 0.0)
        warm = [s for s in samples if s[0] >= warm_at] or samples[-1:]
        memory = {
            "interval_s": sampler.interval,
            "samples": [[t, mb] for t, mb, _ in samples],
            "warm_at_s": warm[0][0] if warm else None,
            "warm_mb": warm[0][1] if warm else None,
            "end_mb": samples[-1][1] if samples else None,
            "peak_mb": max((mb for _, mb, _ in samples), default=None),
            "growth_mb": round(warm[-1][1] - warm[0][1], 1) if warm else None,
            "trend_mb_per_hour": trend(warm),
            # The first long answer ("tell me more" on a whole section) raises memory once, to a
            # level it then keeps; it may come cycles after the first. The second half of the run
            # tells a high-water mark from a leak.
            "second_half_trend_mb_per_hour": trend([s for s in warm if s[0] >= warm[-1][0] / 2]),
        }
        elapsed = samples[-1][0] if samples else 0.0
        return {
            "seconds": seconds,
            "engine": self.engine,
            "startup_s": round(startup, 1),
            "elapsed_s": elapsed,
            "exchanges": [asdict(e) for e in self.exchanges],
            "counts": {
                "exchanges": dict(Counter(e.kind for e in self.exchanges)),
                "replies": dict(Counter(r.get("outcome") for r in replies)),
                "answered_topics": sum(1 for r in replies if r.get("intent")),
                "stops_said": sum(e.stopped is not None for e in self.exchanges),
                "stopped": sum(e.stopped is True for e in self.exchanges),
            },
            "memory": memory,
            "cpu_s": samples[-1][2] if samples else None,
            "cpu_percent": round(100 * samples[-1][2] / elapsed, 1) if samples and elapsed else None,
            "errors": self.errors,
        }


def _describe(exchange: Exchange) -> str:
    said = f'"{exchange.said}"' if exchange.said else ""
    what = f"{exchange.kind} {said} ({exchange.condition})".replace("  ", " ")
    heard = "; ".join(
        f'heard "{r.get("transcript", "")}" -> {r.get("intent") or r.get("action") or r.get("outcome")}' for r in exchange.replies
    )
    stopped = {None: "", True: ", stopped by voice", False: ", NOT stopped by voice"}[exchange.stopped]
    return f"  {exchange.at_s:7.1f} s  {what}: {heard or 'no reply'}{stopped} [{exchange.seconds:g} s]"


def run_soak(seconds: float, as_json: bool = False, engine: str = "auto", cache: Path | None = None) -> dict:
    """Run the soak for `seconds` (then say goodbye); print each exchange as it happens and a summary
    (or, with `as_json`, one JSON object at the end); return the numbers."""
    check_virtual_microphone()
    soak = _Soak(VoiceCache(cache), _engine(engine), as_json)
    if not as_json:
        print(f"soak: `assistant listen --engine {soak.engine}` for {seconds:g} s on the virtual microphone", flush=True)
    numbers = soak.run(seconds)
    if as_json:
        print(json.dumps(numbers, ensure_ascii=False))
    else:
        _print_summary(numbers)
    return numbers


def _print_summary(numbers: dict) -> None:
    counts, memory = numbers["counts"], numbers["memory"]
    kinds = ", ".join(f"{n} {kind}" for kind, n in counts["exchanges"].items())
    outcomes = ", ".join(f"{n} {outcome}" for outcome, n in counts["replies"].items())
    print(
        f"{numbers['elapsed_s']:g} s, listener started in {numbers['startup_s']:g} s; exchanges: {kinds}\n"
        f"replies: {outcomes or 'none'}; {counts['answered_topics']} on a topic; 'stop' said over "
        f"{counts['stops_said']} answers stopped {counts['stopped']} of them"
    )
    samples = memory["samples"]
    step = max(1, len(samples) // 12)
    shown = samples[::step] + ([samples[-1]] if samples and (len(samples) - 1) % step else [])
    print("resident memory of the listener (MB): " + ", ".join(f"{mb:g} at {t:g} s" for t, mb in shown))
    if memory["warm_mb"] is not None:
        slope = memory["trend_mb_per_hour"]
        print(
            f"  from {memory['warm_mb']:g} MB at {memory['warm_at_s']:g} s (after the first cycle, or the first reply) "
            f"to {memory['end_mb']:g} MB: growth {memory['growth_mb']:+g} MB, peak {memory['peak_mb']:g} MB, "
            + (f"trend {slope:+g} MB/hour" if slope is not None else f"no trend over less than {TREND_S:g} s")
        )
        late = memory["second_half_trend_mb_per_hour"]
        if late is not None:
            print(f"  over the second half of the run: trend {late:+g} MB/hour")
    print(f"listener CPU: {numbers['cpu_s']} s ({numbers['cpu_percent']}% of one core)")
    errors = numbers["errors"]
    print(f"errors: {len(errors)}" + "".join(f"\n  at {e['at_s']:g} s: {e['error']}" for e in errors))
