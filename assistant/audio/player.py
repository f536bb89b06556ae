"""Playback: the speaker, one sound at a time, stoppable at once, opened again when it stalls."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..errors import AudioError
from .devices import _BLOCK_SECONDS, _LIST_HINT, Device, _find, _open, _sd, _Stream, refresh_devices
from .resample import resample
from .wav import Audio

_LOGGER = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
# A speaker plugged in again, or a sound server coming back, needs a moment before it opens.
_REOPEN_PAUSE = 0.5


@dataclass
class _Queued:
    """A sound given to the player, kept until all of it has been heard."""

    samples: np.ndarray
    """Mono, at the device's rate."""
    heard_by: float | None = None
    """`time.monotonic()` when its last sample will have left the speaker; None until all of it is written."""


class Player:
    """Plays sounds on an output device, one at a time, and can be stopped at once.

    Use as a context manager. The PortAudio callback only copies from a buffer the
    playing thread fills, so slow producers cause silence, never a stalled device.
    A device that stalls or fails while playing is opened again, and the sound that
    was not yet heard in full is played again from its start (a sentence, for the
    speaker), before the player gives up with an AudioError.
    """

    def __init__(self, device: str | int | None = None, stall_timeout: float = 2.0, reopen_attempts: int = 2):
        self.device_spec = device
        """What was asked for: None, an index or part of a name."""
        self.device: Device | None = None
        """The device found when opened."""
        self.stall_timeout = stall_timeout
        """Seconds without a callback after which the device counts as stalled."""
        self.reopen_attempts = reopen_attempts
        """How many times one `play_stream` opens a stalled or failed device again before it raises."""
        self.last_played_at = 0.0
        """`time.monotonic()` when the last sound written so far will have left the speaker."""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._finished = threading.Event()
        self._play_lock = threading.Lock()
        self._buffer_lock = threading.Lock()
        self._pending: deque[_Queued] = deque()
        self._index = 0
        self._offset = 0
        self._feeding_done = False
        self._drained = False
        self._last_callback = 0.0
        self._playing = False
        self._sd = None
        self._latency = 0.0
        self._stream: _Stream | None = None
        self._generation = 0
        self._reopened = 0

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
                self._index = self._offset = 0
                self._feeding_done = False
                self._drained = False
            self._reopened = 0
            self._playing = True
            try:
                for chunk in chunks:
                    if self._stop.is_set():
                        break
                    samples = resample(chunk.samples, chunk.rate, self.rate)
                    if not len(samples):
                        continue
                    with self._buffer_lock:
                        self._pending.append(_Queued(samples))
                    if self._stream is None:
                        self._stream = self._start(sd)
                    else:
                        self._keep_playing(sd)
                with self._buffer_lock:
                    self._feeding_done = True
                if self._stream is not None:
                    self._wait(sd)
            finally:
                self._playing = False
                self._close_stream(abort=self._stop.is_set() or not self._finished.is_set())

    def _close_stream(self, abort: bool) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close(abort=abort)

    def _start(self, sd) -> _Stream:
        device = self.device
        if device is None:
            raise AudioError("the player is not open; use it in a `with` block")
        self._generation += 1
        generation = self._generation
        stream, _channels = _open(
            sd, sd.OutputStream, device, "output",
            samplerate=device.default_rate,
            blocksize=round(device.default_rate * _BLOCK_SECONDS),
            callback=self._callback,
            # A stream closed after a stall may still report its end: only the current one counts.
            finished_callback=lambda: self._on_finished(generation),
        )  # fmt: skip
        self._latency = float(stream.stream.latency)
        self._last_callback = time.monotonic()
        try:
            stream.stream.start()
        except sd.PortAudioError as exc:
            stream.close(abort=True)
            raise AudioError(f"cannot start playing on {device.name!r}: {exc}; {_LIST_HINT}") from None
        return stream

    def _on_finished(self, generation: int) -> None:
        if generation == self._generation:
            self._finished.set()
            self._wake.set()

    def _failure(self) -> AudioError | None:
        """Why the device is not playing as it should, or None."""
        if self._stop.is_set():
            return None
        with self._buffer_lock:
            heard_all = self._feeding_done and not self._pending
        if self._finished.is_set():
            # PortAudio ends the stream by itself when the device fails.
            failed = not self._drained and not heard_all
        else:
            failed = time.monotonic() - self._last_callback > self.stall_timeout
        if not failed:
            return None
        name = self.device.name if self.device else "?"
        return AudioError(
            f"the speaker {name!r} stopped playing; check it is still plugged in and the sound server "
            f"is running ({_LIST_HINT})"
        )

    def _keep_playing(self, sd) -> None:
        """Open the device again if it stalled or failed, up to `reopen_attempts` times in one
        `play_stream`; then raise why it stopped."""
        error = self._failure()
        while error is not None:
            if self._reopened >= self.reopen_attempts:
                raise error
            self._reopened += 1
            _LOGGER.warning("%s; opening it again (%d of %d)", error, self._reopened, self.reopen_attempts)
            self._close_stream(abort=True)
            if self._stop.wait(_REOPEN_PAUSE):
                return
            try:
                self._reopen(sd)
                error = None
            except (AudioError, sd.PortAudioError) as err:
                _LOGGER.debug("opening the speaker again failed: %s", err)

    def _reopen(self, sd) -> None:
        rate = self.rate
        refresh_devices()  # a speaker plugged in again can come back under another number
        self.open()
        with self._buffer_lock:
            # What was on its way to the speaker when it stalled is lost, so the first sound not
            # yet heard in full is played again from its start.
            for queued in self._pending:
                if self.rate != rate:
                    queued.samples = resample(queued.samples, rate, self.rate)
                queued.heard_by = None
            self._index = self._offset = 0
            self._drained = False
        self._finished.clear()
        self._stream = self._start(sd)

    def _wait(self, sd) -> None:
        while not self._stop.is_set():
            self._wake.wait(_POLL_SECONDS)
            self._wake.clear()
            self._keep_playing(sd)
            # Once _keep_playing has passed, a finished stream is one that played everything.
            if self._finished.is_set():
                return

    def _callback(self, outdata, frames, time_info, status) -> None:
        now = time.monotonic()
        self._last_callback = now
        if self._stop.is_set():
            outdata.fill(0)
            raise self._sd.CallbackAbort
        ahead = time_info.outputBufferDacTime - time_info.currentTime
        heard_at = now + (ahead if ahead > 0 else self._latency)  # when this block's first sample is heard
        filled = 0
        with self._buffer_lock:
            while filled < frames and self._index < len(self._pending):
                queued = self._pending[self._index]
                take = min(frames - filled, len(queued.samples) - self._offset)
                outdata[filled : filled + take] = queued.samples[self._offset : self._offset + take, None]
                filled += take
                self._offset += take
                if self._offset >= len(queued.samples):
                    queued.heard_by = heard_at + filled / self.rate
                    self._index += 1
                    self._offset = 0
            while self._index and self._pending[0].heard_by <= now:
                self._pending.popleft()
                self._index -= 1
            done = self._feeding_done and self._index == len(self._pending)
        outdata[filled:] = 0
        if filled:
            self.last_played_at = heard_at + filled / self.rate
        # Some servers (PulseAudio through ALSA) drop what they still hold when the
        # stream ends, so keep sending silence until the last sound has been heard.
        if done and now >= self.last_played_at:
            self._drained = True
            raise self._sd.CallbackStop
