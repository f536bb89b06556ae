"""Audio stage: WAV files, resampling, and the speaker and microphone through PortAudio.

Everything inside the assistant is mono float32 in -1..1. Speech recognition runs at
16 kHz; the devices run at whatever rate they prefer and are resampled to and from it.

wav.py holds sound in memory and WAV files, resample.py the resampler, devices.py
device discovery and the streams, player.py the speaker, microphone.py the
microphone.
"""

from .devices import Device, find_device, list_devices, refresh_devices
from .microphone import Microphone
from .player import Player
from .resample import Resampler, resample
from .wav import SPEECH_RATE, Audio, read_wav, read_wav_16k, to_pcm16, write_wav

__all__ = [
    "SPEECH_RATE",
    "Audio",
    "Device",
    "Microphone",
    "Player",
    "Resampler",
    "find_device",
    "list_devices",
    "read_wav",
    "read_wav_16k",
    "refresh_devices",
    "resample",
    "to_pcm16",
    "write_wav",
]
