"""Sound devices through PortAudio: finding them, and opening streams on them.

Holds what the player and the microphone share: the sounddevice import (with ALSA's
own error printing quieted), device listing and lookup, and the counted stream.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Literal

from ..errors import AudioError

_LOGGER = logging.getLogger(__name__)

Kind = Literal["input", "output"]

_LIST_HINT = "`assistant devices` lists them"
_BLOCK_SECONDS = 0.02  # length of a stream's blocks, playing and recording
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
