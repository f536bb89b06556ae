"""Audio stage: WAV files, resampling, and the speaker and microphone through PortAudio.

Everything inside the assistant is mono float32 in -1..1. Speech recognition runs at
16 kHz; the devices run at whatever rate they prefer and are resampled to and from it.
"""

from __future__ import annotations

import logging
import math
import queue
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Literal

import numpy as np

from .errors import AudioError

_LOGGER = logging.getLogger(__name__)

SPEECH_RATE = 16000
"""Sample rate the recognizers expect."""

# ---------------------------------------------------------------------------
# Audio in memory and in WAV files
# ---------------------------------------------------------------------------


@dataclass
class Audio:
    """A mono sound in memory."""

    samples: np.ndarray
    """float32 samples in -1..1, one channel."""
    rate: int
    """Samples per second."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate if self.rate else 0.0


_FORMAT_PCM = 0x0001
_FORMAT_FLOAT = 0x0003
_FORMAT_EXTENSIBLE = 0xFFFE
_SUPPORTED = "8-bit unsigned, 16-, 24- or 32-bit PCM, or 32- or 64-bit float"
# Streaming writers (sox or ffmpeg to a pipe) cannot seek back to fill in sizes.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def read_wav(path: str | Path) -> Audio:
    """Read a WAV file of any rate and channel count, downmixed to mono float32."""
    path = Path(path)

    def fail(problem: str, fix: str = "give a mono or stereo .wav file") -> AudioError:
        return AudioError(f"cannot read '{path}': {problem}; {fix}")

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise fail("no such file", "check the path") from None
    except IsADirectoryError:
        raise fail("it is a folder, not a file", "give the path of a .wav file") from None
    except OSError as exc:
        raise fail(exc.strerror or str(exc), "check the file's permissions") from None

    if not data:
        raise fail("the file is empty")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise fail("not a WAV file (RIFF/WAVE header missing)", f"convert it to WAV ({_SUPPORTED})")

    fmt: bytes | None = None
    samples: memoryview | None = None
    pos = 12
    view = memoryview(data)
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if chunk_id == b"data":
            available = len(data) - body
            if size in _UNKNOWN_SIZES:
                size = available
            elif size > available:
                raise fail(
                    f"the file is truncated ({available} of {size} bytes of audio present)",
                    "record or export it again",
                )
            samples = view[body : body + size]
        elif chunk_id == b"fmt ":
            fmt = data[body : body + size]
        if fmt is not None and samples is not None:
            break
        pos = body + size + (size & 1)  # chunks are padded to an even length

    if fmt is None:
        raise fail("the format ('fmt ') chunk is missing or truncated", "record or export it again")
    if samples is None:
        raise fail("the audio ('data') chunk is missing or truncated", "record or export it again")
    if len(fmt) < 16:
        raise fail("the format chunk is too short", "record or export it again")

    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _FORMAT_EXTENSIBLE:
        if len(fmt) < 40:
            raise fail("the extensible format chunk is too short", "record or export it again")
        # The sub-format GUID starts with the plain format tag.
        (tag,) = struct.unpack_from("<H", fmt, 24)
    if channels < 1 or rate < 1:
        raise fail(f"the header says {channels} channels at {rate} Hz", "record or export it again")
    dtype_name = {
        (_FORMAT_PCM, 8): "u8",
        (_FORMAT_PCM, 16): "i16",
        (_FORMAT_PCM, 24): "i24",
        (_FORMAT_PCM, 32): "i32",
        (_FORMAT_FLOAT, 32): "f32",
        (_FORMAT_FLOAT, 64): "f64",
    }.get((tag, bits))
    if dtype_name is None:
        kind = {_FORMAT_PCM: "PCM", _FORMAT_FLOAT: "float"}.get(tag, f"format code {tag:#06x}")
        raise fail(f"{bits}-bit {kind} audio is not supported", f"convert it to {_SUPPORTED} WAV")

    frame_bytes = channels * bits // 8
    if block_align not in (0, frame_bytes):
        raise fail(f"block size {block_align} does not match {channels} x {bits} bits", "record or export it again")
    usable = len(samples) - len(samples) % frame_bytes
    if usable == 0:
        raise fail("it contains no audio", "record it again")
    mono = _decode(samples[:usable], dtype_name, channels)
    return Audio(mono, rate)


def _decode(raw: memoryview, kind: str, channels: int) -> np.ndarray:
    if kind == "u8":
        values = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif kind == "i16":
        values = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif kind == "i24":
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        # Put the 3 bytes in the top of an int32 so its sign bit is the sample's.
        ints = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)
        values = ints.astype(np.float32) / 2147483648.0
    elif kind == "i32":
        values = (np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    else:
        values = np.frombuffer(raw, "<f4" if kind == "f32" else "<f8").astype(np.float32)
        values = np.clip(np.nan_to_num(values), -1.0, 1.0)
    if channels > 1:
        values = values.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(values, dtype=np.float32)


def to_pcm16(samples: np.ndarray) -> bytes:
    """Little-endian 16-bit PCM bytes of float samples (clipped to -1..1)."""
    scaled = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0
    return np.round(scaled).astype("<i2").tobytes()


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Write mono float samples as a 16-bit PCM WAV file."""
    pcm = to_pcm16(samples)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(pcm), b"WAVE",
        b"fmt ", 16, _FORMAT_PCM, 1, rate, rate * 2, 2, 16,
        b"data", len(pcm),
    )  # fmt: skip
    try:
        Path(path).write_bytes(header + pcm)
    except OSError as exc:
        problem = exc.strerror or exc
        raise AudioError(f"cannot write '{path}': {problem}; check the folder exists and is writable") from None


def read_wav_16k(path: str | Path) -> np.ndarray:
    """Read a WAV file as mono float32 at the recognizers' 16 kHz."""
    audio = read_wav(path)
    return resample(audio.samples, audio.rate, SPEECH_RATE)


# ---------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------

# Zero crossings of the sinc on each side: 16 keeps aliasing and ripple far below
# what matters for speech while staying cheap.
_ZERO_CROSSINGS = 16
_KAISER_BETA = 8.0
# Pass band edge as a fraction of the lower Nyquist frequency; the rest is the
# transition band that keeps images and aliases out.
_PASSBAND = 0.9
_BLOCK_OUTPUTS = 8192


class Resampler:
    """Streaming band-limited resampler between two integer rates.

    A windowed-sinc polyphase filter: the output rate divided by the input rate is
    reduced to up/down, and each of the `up` filter phases is tabulated once. Feed
    blocks with `process` and call `flush` at the end; the output is as if the whole
    input had been resampled at once.
    """

    def __init__(self, src_rate: int, dst_rate: int):
        if src_rate <= 0 or dst_rate <= 0:
            raise AudioError(f"cannot resample from {src_rate} Hz to {dst_rate} Hz; rates must be positive")
        g = math.gcd(int(src_rate), int(dst_rate))
        self.up = int(dst_rate) // g
        self.down = int(src_rate) // g
        scale = min(1.0, self.up / self.down) * _PASSBAND
        self.half = math.ceil(_ZERO_CROSSINGS / scale)
        offsets = np.arange(-self.half + 1, self.half + 1)
        phases = np.arange(self.up)[:, None] / self.up
        tau = phases - offsets[None, :]
        x = tau / (self.half + 1)
        window = np.i0(_KAISER_BETA * np.sqrt(np.clip(1.0 - x * x, 0.0, None))) / np.i0(_KAISER_BETA)
        table = scale * np.sinc(scale * tau) * window
        table /= table.sum(axis=1, keepdims=True)  # unity gain at DC for every phase
        self._table = table.astype(np.float32)
        self._offsets = offsets
        # Input before the first sample counts as silence.
        self._buffer = np.zeros(self.half, dtype=np.float32)
        self._buffer_start = -self.half  # input index of _buffer[0]
        self._consumed = 0  # input samples received
        self._produced = 0  # output samples produced

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Resample the next block; returns what can be computed so far."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self.up == self.down:
            return samples.copy()
        self._buffer = np.concatenate([self._buffer, samples])
        self._consumed += len(samples)
        return self._run(self._consumed)

    def flush(self) -> np.ndarray:
        """The remaining output once the input has ended."""
        if self.up == self.down:
            return np.zeros(0, dtype=np.float32)
        total = -(-self._consumed * self.up // self.down)  # ceil
        self._buffer = np.concatenate([self._buffer, np.zeros(self.half, dtype=np.float32)])
        return self._run(self._consumed + self.half, limit=total)

    def _run(self, available: int, limit: int | None = None) -> np.ndarray:
        # Output n sits at input position n*down/up and needs inputs up to its floor + half.
        end = -(-(available - self.half) * self.up // self.down)
        if limit is not None:
            end = min(end, limit)
        outputs = []
        n = self._produced
        while n < end:
            stop = min(end, n + _BLOCK_OUTPUTS)
            index = np.arange(n, stop, dtype=np.int64) * self.down
            base, phase = np.divmod(index, self.up)
            taps = self._buffer[base[:, None] + self._offsets[None, :] - self._buffer_start]
            outputs.append(np.einsum("ij,ij->i", taps, self._table[phase]))
            n = stop
        self._produced = max(n, self._produced)
        # Keep only the history the next output still needs.
        next_base = (self._produced * self.down) // self.up
        drop = next_base - self.half + 1 - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop
        if not outputs:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(outputs).astype(np.float32, copy=False)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample mono float samples from one rate to another, band-limited."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if src_rate == dst_rate:
        return samples.copy()
    resampler = Resampler(src_rate, dst_rate)
    head = resampler.process(samples)
    return np.concatenate([head, resampler.flush()])


# ---------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------

Kind = Literal["input", "output"]

_LIST_HINT = "`assistant devices` lists them"
_open_streams = 0  # PortAudio must not be re-initialized while a stream is open
_streams_lock = threading.Lock()
_alsa_handler = None  # keeps the ctypes callback alive as long as ALSA may call it


def _quiet_alsa() -> None:
    """Send ALSA's own error printing to the debug log instead of the terminal.

    PortAudio probes every ALSA device name when it starts, and ALSA prints a line
    to stderr for each one that does not exist on this machine.
    """
    global _alsa_handler
    if _alsa_handler is not None:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if name is None:
        return
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return
    # The C handler is variadic; the fixed arguments are all it needs to read.
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)

    def handler(file, line, function, err, fmt):
        _LOGGER.debug("ALSA: %s (%s:%d)", (fmt or b"").decode(errors="replace"), (file or b"").decode(), line)

    _alsa_handler = handler_type(handler)
    lib.snd_lib_error_set_handler(_alsa_handler)


def _sd():
    """The sounddevice module, or an AudioError saying how to install PortAudio."""
    _quiet_alsa()
    try:
        import sounddevice
    except OSError as exc:
        raise AudioError(
            f"cannot use sound devices: the PortAudio library is missing ({exc}); "
            "install the Debian package libportaudio2 (scripts/setup does)"
        ) from None
    return sounddevice


@dataclass
class Device:
    """A sound device as PortAudio sees it."""

    index: int
    """PortAudio's number for the device."""
    name: str
    """The device's name, e.g. "pulse" or "USB Audio: - (hw:1,0)"."""
    max_input_channels: int
    """How many channels it can record; 0 for a speaker."""
    max_output_channels: int
    """How many channels it can play; 0 for a microphone."""
    default_rate: int
    """The sample rate the device prefers."""
    is_default_input: bool = False
    """Whether recording uses it when no device is chosen."""
    is_default_output: bool = False
    """Whether playback uses it when no device is chosen."""

    def channels(self, kind: Kind) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels

    def describe(self) -> str:
        """One line for a device listing."""
        roles = [
            role
            for role, on in (("default input", self.is_default_input), ("default output", self.is_default_output))
            if on
        ]
        extra = f"  [{', '.join(roles)}]" if roles else ""
        return (
            f"{self.index:3d}  {self.name}  (in {self.max_input_channels}, out {self.max_output_channels}, "
            f"{self.default_rate} Hz){extra}"
        )


def refresh_devices() -> None:
    """Make PortAudio look for devices again (it only looks once, when it starts).

    Needed when a sound server or device appears after the program started; does
    nothing while a stream is open, because restarting PortAudio would break it.
    """
    sd = _sd()
    with _streams_lock:
        if _open_streams:
            _LOGGER.debug("not refreshing devices: %d stream(s) open", _open_streams)
            return
        # sounddevice has no public rescan; restarting PortAudio is how it is done.
        sd._terminate()
        sd._initialize()


def _default_index(sd, kind: Kind) -> int | None:
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except (sd.PortAudioError, ValueError, KeyError):
        return None


def list_devices() -> list[Device]:
    """Every input and output device PortAudio knows, with the defaults marked."""
    sd = _sd()
    default_in, default_out = _default_index(sd, "input"), _default_index(sd, "output")
    return [
        Device(
            index=int(info["index"]),
            name=str(info["name"]),
            max_input_channels=int(info["max_input_channels"]),
            max_output_channels=int(info["max_output_channels"]),
            default_rate=int(info["default_samplerate"]),
            is_default_input=int(info["index"]) == default_in,
            is_default_output=int(info["index"]) == default_out,
        )
        for info in sd.query_devices()
    ]


def _no_device(kind: Kind) -> AudioError:
    if kind == "input":
        return AudioError(
            "no microphone found: the system lists no sound input device; check a microphone is plugged in "
            f"and switched on, or choose one with --input-device ({_LIST_HINT})"
        )
    return AudioError(
        "no speaker found: the system lists no sound output device; check speakers or headphones are plugged in "
        f"and switched on, or choose one with --output-device ({_LIST_HINT})"
    )


def _choices(devices: list[Device]) -> str:
    return "; ".join(f"{d.index} {d.name!r}" for d in devices)


def find_device(spec: str | int | None, kind: Kind) -> int:
    """The index of the device to use for `kind`.

    `spec` is None (the system's default), an index, or part of a device's name in
    any case. Raises AudioError naming the devices there are when nothing fits.
    """
    return _find(spec, kind).index


def _find(spec: str | int | None, kind: Kind) -> Device:
    option = "--input-device" if kind == "input" else "--output-device"
    candidates = [d for d in list_devices() if d.channels(kind) > 0]
    if not candidates:
        raise _no_device(kind)
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        for device in candidates:
            if device.is_default_input if kind == "input" else device.is_default_output:
                return device
        return candidates[0]
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        for device in candidates:
            if device.index == int(text):
                return device
        raise AudioError(f"no {kind} device has number {text}; {option} takes one of: {_choices(candidates)}")
    wanted = text.casefold()
    exact = [d for d in candidates if d.name.casefold() == wanted]
    if exact:
        return exact[0]
    matches = [d for d in candidates if wanted in d.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AudioError(f"no {kind} device is named like {text!r}; {option} takes one of: {_choices(candidates)}")
    raise AudioError(
        f"several {kind} devices are named like {text!r}: {_choices(matches)}; give more of the name or its number"
    )


class _Stream:
    """Counts an open PortAudio stream so `refresh_devices` leaves it alone."""

    def __init__(self, stream):
        self.stream = stream
        global _open_streams
        with _streams_lock:
            _open_streams += 1

    def close(self, abort: bool) -> None:
        global _open_streams
        try:
            if abort:
                self.stream.abort()
            self.stream.close()
        except Exception as exc:  # a vanished device can fail here too; nothing is left to save
            _LOGGER.debug("closing the audio stream failed: %s", exc)
        finally:
            with _streams_lock:
                _open_streams -= 1


def _open(sd, factory, device: Device, kind: Kind, **kwargs) -> tuple[_Stream, int]:
    """Open a stream with one channel, or with the device's own channels if it refuses."""
    channel_options = [1] + ([min(2, device.channels(kind))] if device.channels(kind) > 1 else [])
    error = None
    for channels in channel_options:
        try:
            return _Stream(factory(device=device.index, channels=channels, dtype="float32", **kwargs)), channels
        except sd.PortAudioError as exc:
            error = exc
    what = "microphone" if kind == "input" else "speaker"
    raise AudioError(
        f"cannot open the {what} {device.index} {device.name!r}: {error}; check it is not in use by another "
        f"program, or choose another with --{kind}-device ({_LIST_HINT})"
    )


# ---------------------------------------------------------------------------
# Playback
# ---------------------------------------------------------------------------

_BLOCK_SECONDS = 0.02
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


# ---------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------


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
