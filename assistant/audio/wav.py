"""WAV files and sound in memory: reading any common WAV format, writing 16-bit PCM.

Formats and conversion only; no devices.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AudioError
from .resample import resample

SPEECH_RATE = 16000
"""Sample rate the recognizers expect."""


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
