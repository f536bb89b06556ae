"""Recording: the microphone, as mono float32 blocks at the recognizers' rate."""

from __future__ import annotations

import logging
import queue
import time
from typing import Iterator

import numpy as np

from ..errors import AudioError
from .devices import _BLOCK_SECONDS, _LIST_HINT, Device, _find, _open, _sd, _Stream
from .resample import Resampler
from .wav import SPEECH_RATE

_LOGGER = logging.getLogger(__name__)


_ENDED = object()


class Microphone:
    """Records from an input device as mono float32 blocks at 16 kHz.

    Use as a context manager. The stream runs at the device's own rate; its callback
    only copies into a queue, and `read` resamples in the reading thread.
    """

    def __init__(
        self,
        device: str | int | None = None,
        rate: int = SPEECH_RATE,
        block_seconds: float = _BLOCK_SECONDS,
        max_queued_seconds: float = 10.0,
    ):
        self.device_spec = device
        """What was asked for: None, an index or part of a name."""
        self.device: Device | None = None
        """The device found when opened."""
        self.rate = rate
        """Rate of the blocks `read` returns."""
        self.block_seconds = block_seconds
        """Length of the device's blocks."""
        self.max_queued_seconds = max_queued_seconds
        """How much unread sound to keep before dropping the oldest."""
        self._queue: queue.Queue = queue.Queue()
        self._stream: _Stream | None = None
        self._resampler: Resampler | None = None
        self._channels = 1

    def __enter__(self) -> Microphone:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        sd = _sd()
        self.device = device = _find(self.device_spec, "input")
        _LOGGER.debug("microphone: %s", device.describe())
        blocksize = max(1, round(device.default_rate * self.block_seconds))
        self._queue = queue.Queue(maxsize=max(1, round(self.max_queued_seconds / self.block_seconds)))
        self._resampler = Resampler(device.default_rate, self.rate)
        self._stream, self._channels = _open(
            sd, sd.InputStream, device, "input",
            samplerate=device.default_rate, blocksize=blocksize,
            callback=self._callback, finished_callback=self._on_finished,
        )  # fmt: skip
        try:
            self._stream.stream.start()
        except sd.PortAudioError as exc:
            self.close()
            raise AudioError(f"cannot start recording from {device.name!r}: {exc}; {_LIST_HINT}") from None

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close(abort=True)

    def _on_finished(self) -> None:
        # Wakes a reader in another thread: None when closed here, _ENDED when the device failed.
        self._put(None if self._stream is None else _ENDED)

    def _callback(self, indata, frames, time_info, status) -> None:
        block = indata[:, 0].copy() if self._channels == 1 else indata.mean(axis=1, dtype=np.float32)
        self._put(block)

    def _put(self, item) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                pass
            try:
                self._queue.get_nowait()  # the newest sound matters most to a listener
            except queue.Empty:
                pass

    def clear(self) -> None:
        """Forget what was recorded but not read yet, e.g. the assistant's own voice."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def read(self, timeout: float = 2.0) -> np.ndarray:
        """The next block of sound (about `block_seconds` long) at `rate`."""
        block = self._next(timeout)
        if block is None:
            raise AudioError("the microphone is not open; use it in a `with` block")
        return block

    def frames(self, timeout: float = 2.0) -> Iterator[np.ndarray]:
        """Blocks of sound as they are recorded, until the microphone is closed."""
        while (block := self._next(timeout)) is not None:
            yield block

    def _next(self, timeout: float) -> np.ndarray | None:
        deadline = time.monotonic() + timeout
        while self._stream is not None and self._resampler is not None:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = _ENDED
            if item is _ENDED:
                name = self.device.name if self.device else "?"
                raise AudioError(
                    f"the microphone {name!r} stopped sending sound; check it is still plugged in and the "
                    f"sound server is running ({_LIST_HINT})"
                )
            if item is None:
                break
            out = self._resampler.process(item)
            if len(out):
                return out
        return None
