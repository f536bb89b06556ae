"""WAV files and sound in memory: reading any common WAV format, writing 16-bit PCM.

Formats and conversion only; no devices.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

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


MAX_QUESTION_SECONDS = 60.0
"""Longest sound `read_wav` reads unless told otherwise. A spoken question takes a few seconds;
a minute leaves room for a slow speaker and the silence around them. Without a limit a stream
without end (`--audio /dev/zero` after a WAV header, a pipe) is read until memory runs out."""

_FORMAT_PCM = 0x0001
_FORMAT_FLOAT = 0x0003
_FORMAT_EXTENSIBLE = 0xFFFE
_SUPPORTED = "8-bit unsigned, 16-, 24- or 32-bit PCM, or 32- or 64-bit float"
# Writers that cannot seek back to fill in the size of the audio (sox or arecord writing to a
# pipe, ffmpeg) leave one of these in its place; the audio then runs to the end of the file.
_UNKNOWN_SIZES = (0, 0x7FFFF000, 0x7FFFFF00, 0x7FFFFFFF, 0xFFFFFFFF)
_MAX_RATE = 384_000
"""Highest sample rate read: with the length limit it bounds the memory a file can take."""
_MAX_FORMAT_BYTES = 1024
"""Longest format chunk read; real ones are 16 to 40 bytes."""
_BLOCK_BYTES = 1 << 20
"""Bytes of audio decoded at a time: a file is never held whole, only its mono samples."""


@dataclass(frozen=True)
class _Format:
    """What a WAV file's format chunk says about its samples."""

    kind: str
    """Sample encoding: "u8", "i16", "i24", "i32", "f32" or "f64"."""
    channels: int
    """Interleaved channels per frame."""
    rate: int
    """Frames per second."""

    @property
    def frame_bytes(self) -> int:
        """Bytes of one frame: one sample of every channel."""
        return self.channels * _SAMPLE_BYTES[self.kind]


_SAMPLE_BYTES = {"u8": 1, "i16": 2, "i24": 3, "i32": 4, "f32": 4, "f64": 8}


def read_wav(path: str | Path, max_seconds: float | None = MAX_QUESTION_SECONDS) -> Audio:
    """Read a WAV file of any rate and channel count, downmixed to mono float32.

    A file longer than `max_seconds` (None: no limit) is refused from its header before its
    samples are read; audio of unknown length (a pipe, a streaming writer's header) is read no
    further than the limit.
    """
    path = Path(path)

    def fail(problem: str, fix: str = "give a mono or stereo .wav file") -> AudioError:
        return AudioError(f"cannot read '{path}': {problem}; {fix}")

    try:
        with path.open("rb") as stream:
            form, size = _header(stream, fail)
            samples = _samples(stream, form, size, max_seconds, fail)
    except FileNotFoundError:
        raise fail("no such file", "check the path") from None
    except IsADirectoryError:
        raise fail("it is a folder, not a file", "give the path of a .wav file") from None
    except OSError as exc:
        raise fail(exc.strerror or str(exc), "check the file's permissions") from None
    return Audio(samples, form.rate)


def _header(stream: BinaryIO, fail: Callable[..., AudioError]) -> tuple[_Format, int | None]:
    """The format, and the size in bytes of the audio (None: to the end of the file), leaving
    `stream` at the first byte of the audio."""
    riff = stream.read(12)
    if not riff:
        raise fail("the file is empty")
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise fail("not a WAV file (RIFF/WAVE header missing)", f"convert it to WAV ({_SUPPORTED})")
    form: _Format | None = None
    while len(head := stream.read(8)) == 8:
        chunk_id = head[:4]
        (size,) = struct.unpack_from("<I", head, 4)
        if chunk_id == b"data":
            if form is None:
                raise fail("the format ('fmt ') chunk is missing or comes after the audio", "record or export it again")
            return form, None if size in _UNKNOWN_SIZES else size
        skip = size + (size & 1)  # chunks are padded to an even length
        if chunk_id == b"fmt ":
            if size > _MAX_FORMAT_BYTES:
                raise fail(f"the format chunk claims {size} bytes", "record or export it again")
            body = stream.read(size)
            if len(body) < size:
                break
            form = _format(body, fail)
            skip -= size
        _skip(stream, skip)
    if form is None:
        raise fail("the format ('fmt ') chunk is missing or truncated", "record or export it again")
    raise fail("the audio ('data') chunk is missing or truncated", "record or export it again")


def _format(fmt: bytes, fail: Callable[..., AudioError]) -> _Format:
    if len(fmt) < 16:
        raise fail("the format chunk is too short", "record or export it again")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _FORMAT_EXTENSIBLE:
        if len(fmt) < 40:
            raise fail("the extensible format chunk is too short", "record or export it again")
        # The sub-format GUID starts with the plain format tag.
        (tag,) = struct.unpack_from("<H", fmt, 24)
    if channels < 1 or not 1 <= rate <= _MAX_RATE:
        raise fail(f"the header says {channels} channels at {rate} Hz", "record or export it again")
    kind = {
        (_FORMAT_PCM, 8): "u8",
        (_FORMAT_PCM, 16): "i16",
        (_FORMAT_PCM, 24): "i24",
        (_FORMAT_PCM, 32): "i32",
        (_FORMAT_FLOAT, 32): "f32",
        (_FORMAT_FLOAT, 64): "f64",
    }.get((tag, bits))
    if kind is None:
        name = {_FORMAT_PCM: "PCM", _FORMAT_FLOAT: "float"}.get(tag, f"format code {tag:#06x}")
        raise fail(f"{bits}-bit {name} audio is not supported", f"convert it to {_SUPPORTED} WAV")
    form = _Format(kind, channels, rate)
    if block_align not in (0, form.frame_bytes):
        raise fail(f"block size {block_align} does not match {channels} x {bits} bits", "record or export it again")
    return form


def _samples(
    stream: BinaryIO, form: _Format, size: int | None, max_seconds: float | None, fail: Callable[..., AudioError]
) -> np.ndarray:
    """The mono samples of `size` bytes of audio (None: up to the end), decoded block by block."""

    def too_long(seconds: float | None) -> AudioError:
        # Rounded up, so that a file just over the limit does not seem to be within it.
        length = f"{math.ceil(seconds * 10) / 10:g} s" if seconds is not None else f"more than {max_seconds:g} s"
        return fail(
            f"it lasts {length}, and a question may last at most {max_seconds:g} s",
            f"cut the question out of it (e.g. sox in.wav out.wav trim 0 {max_seconds:g})",
        )

    frame_bytes = form.frame_bytes
    max_frames = None if max_seconds is None else math.floor(max_seconds * form.rate)
    if size is not None and max_frames is not None and size // frame_bytes > max_frames:
        raise too_long(size // frame_bytes / form.rate)
    block_bytes = max(1, _BLOCK_BYTES // frame_bytes) * frame_bytes
    blocks: list[np.ndarray] = []
    frames = read = 0
    while size is None or read < size:
        raw = stream.read(block_bytes if size is None else min(block_bytes, size - read))
        if not raw:
            break
        read += len(raw)
        # Only the last block can end in part of a frame, which is dropped.
        usable = len(raw) - len(raw) % frame_bytes
        blocks.append(_decode(memoryview(raw)[:usable], form))
        frames += usable // frame_bytes
        if max_frames is not None and frames > max_frames:
            raise too_long(None)
    if size is not None and read < size:
        raise fail(f"the file is truncated ({read} of {size} bytes of audio present)", "record or export it again")
    if frames == 0:
        raise fail("it contains no audio", "record it again")
    return np.concatenate(blocks)


def _skip(stream: BinaryIO, count: int) -> None:
    if stream.seekable():
        stream.seek(count, io.SEEK_CUR)
        return
    while count > 0 and (got := len(stream.read(min(count, _BLOCK_BYTES)))):
        count -= got


def _decode(raw: memoryview, form: _Format) -> np.ndarray:
    kind = form.kind
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
        # Rounding to float32 once and then scaling by a power of two is exact.
        values = np.frombuffer(raw, "<i4").astype(np.float32) / 2147483648.0
    else:
        values = np.frombuffer(raw, "<f4" if kind == "f32" else "<f8").astype(np.float32)
        values = np.clip(np.nan_to_num(values), -1.0, 1.0)
    if form.channels > 1:
        values = values.reshape(-1, form.channels).mean(axis=1, dtype=np.float32)
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
