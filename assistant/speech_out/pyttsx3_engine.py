"""The pyttsx3 engine: eSpeak NG on Linux, turning one sentence at a time into audio."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path

from .. import audio
from ..errors import AudioError, SpeechError
from ..settings import VoiceSettings

_LOGGER = logging.getLogger(__name__)

# eSpeak NG needs milliseconds per sentence; this only catches a wedged engine.
_ESPEAK_ATTEMPTS = 3
_ESPEAK_TIMEOUT = 30.0
_INSTALL_ESPEAK = "install eSpeak NG with: sudo apt-get install espeak-ng"


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
                # Its own file, as long as the sentence: not a question to hold to a question's length.
                return audio.read_wav(path, max_seconds=None)
            except AudioError as err:
                raise SpeechError(f"eSpeak NG wrote no usable audio for {text!r} ({err})") from err
