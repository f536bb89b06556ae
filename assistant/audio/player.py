"""Playback: the speaker, one sound at a time, stoppable at once."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Iterable

import numpy as np

from ..errors import AudioError
from .devices import _BLOCK_SECONDS, _LIST_HINT, Device, _find, _open, _sd, _Stream
from .resample import resample
from .wav import Audio

_LOGGER = logging.getLogger(__name__)

_POLL_SECONDS = 0.05


class Player:
    """Plays sounds on an output device, one at a time, and can be stopped at once.

    Use as a context manager. The PortAudio callback only copies from a buffer the
    playing thread fills, so slow producers cause silence, never a stalled device.
    """

    def __init__(self, device: str | int | None = None, stall_timeout: float = 2.0):
        self.device_spec = device
        """What was asked for: None, an index or part of a name."""
        self.device: Device | None = None
        """The device found when opened."""
        self.stall_timeout = stall_timeout
        """Seconds without a callback after which the device counts as gone."""
        self.last_played_at = 0.0
        """`time.monotonic()` when the last sound written so far will have left the speaker."""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._finished = threading.Event()
        self._play_lock = threading.Lock()
        self._buffer_lock = threading.Lock()
        self._pending: deque[np.ndarray] = deque()
        self._offset = 0
        self._feeding_done = False
        self._drained = False
        self._last_callback = 0.0
        self._playing = False
        self._sd = None
        self._latency = 0.0

    @property
    def rate(self) -> int:
        """The device's sample rate; sounds are resampled to it."""
        if self.device is None:
            raise AudioError("the player is not open; use it in a `with` block")
        return self.device.default_rate

    @property
    def is_playing(self) -> bool:
        """Whether a `play` or `play_stream` call is under way."""
        return self._playing

    def __enter__(self) -> Player:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        self.device = _find(self.device_spec, "output")
        _LOGGER.debug("speaker: %s", self.device.describe())

    def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """End the current playback within a block (about 20 ms); safe from any thread."""
        self._stop.set()
        self._wake.set()

    def play(self, audio: Audio) -> None:
        """Play a sound and return when it has been heard or `stop` was called."""
        self.play_stream([audio])

    def play_stream(self, chunks: Iterable[Audio]) -> None:
        """Play sounds back to back as the iterable produces them.

        Returns when the last one has been heard, or soon after `stop`; a producer
        that is still working when `stop` comes is asked for nothing more.
        """
        sd = self._sd = _sd()
        with self._play_lock:
            self._stop.clear()
            self._wake.clear()
            self._finished.clear()
            with self._buffer_lock:
                self._pending.clear()
                self._offset = 0
                self._feeding_done = False
                self._drained = False
            stream: _Stream | None = None
            self._playing = True
            try:
                for chunk in chunks:
                    if self._stop.is_set():
                        break
                    samples = resample(chunk.samples, chunk.rate, self.rate)
                    if not len(samples):
                        continue
                    with self._buffer_lock:
                        self._pending.append(samples)
                    if stream is None:
                        stream = self._start(sd)
                    else:
                        self._check_alive()
                with self._buffer_lock:
                    self._feeding_done = True
                if stream is not None:
                    self._wait()
            finally:
                self._playing = False
                if stream is not None:
                    stream.close(abort=self._stop.is_set() or not self._finished.is_set())

    def _start(self, sd) -> _Stream:
        device = self.device
        if device is None:
            raise AudioError("the player is not open; use it in a `with` block")
        stream, _channels = _open(
            sd, sd.OutputStream, device, "output",
            samplerate=device.default_rate,
            blocksize=round(device.default_rate * _BLOCK_SECONDS),
            callback=self._callback,
            finished_callback=self._on_finished,
        )  # fmt: skip
        self._latency = float(stream.stream.latency)
        self._last_callback = time.monotonic()
        try:
            stream.stream.start()
        except sd.PortAudioError as exc:
            stream.close(abort=True)
            raise AudioError(f"cannot start playing on {device.name!r}: {exc}; {_LIST_HINT}") from None
        return stream

    def _on_finished(self) -> None:
        self._finished.set()
        self._wake.set()

    def _check_alive(self) -> None:
        # PortAudio ends the stream by itself when the device fails.
        failed = self._finished.is_set() and not self._drained and not self._stop.is_set()
        if failed or time.monotonic() - self._last_callback > self.stall_timeout:
            name = self.device.name if self.device else "?"
            raise AudioError(
                f"the speaker {name!r} stopped playing; check it is still plugged in and the sound server "
                f"is running ({_LIST_HINT})"
            )

    def _wait(self) -> None:
        while not self._finished.is_set() and not self._stop.is_set():
            self._wake.wait(_POLL_SECONDS)
            self._wake.clear()
            self._check_alive()
        self._check_alive()

    def _callback(self, outdata, frames, time_info, status) -> None:
        now = time.monotonic()
        self._last_callback = now
        if self._stop.is_set():
            outdata.fill(0)
            raise self._sd.CallbackAbort
        filled = 0
        with self._buffer_lock:
            while filled < frames and self._pending:
                head = self._pending[0]
                take = min(frames - filled, len(head) - self._offset)
                outdata[filled : filled + take] = head[self._offset : self._offset + take, None]
                filled += take
                self._offset += take
                if self._offset >= len(head):
                    self._pending.popleft()
                    self._offset = 0
            done = self._feeding_done and not self._pending
        outdata[filled:] = 0
        if filled:
            ahead = time_info.outputBufferDacTime - time_info.currentTime
            self.last_played_at = now + (ahead if ahead > 0 else self._latency) + filled / self.rate
        # Some servers (PulseAudio through ALSA) drop what they still hold when the
        # stream ends, so keep sending silence until the last sound has been heard.
        if done and now >= self.last_played_at:
            self._drained = True
            raise self._sd.CallbackStop
