"""The spoken benchmark's room: what else a microphone by a hospital bed hears, and the stream it
hears when a question is asked in it.

Everything is made here, from seeded random numbers, tones and synthesized talkers (nothing is
downloaded), so a run hears exactly the same noise as the last:

- babble: several talkers at once;
- a TV: one talker at a time over music (chords), through a small loudspeaker;
- a fan with mains hum: filtered noise and hum harmonics;
- monitor beeps: a short tone every second;
- a reverberant room: a hard-walled single room, the talker about 1.7 m from the microphone.

Each noise track is `NOISE_SECONDS` long, at unit mean power, and wraps round seamlessly; `mix`
adds it to a question at a signal-to-noise ratio.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..audio import SPEECH_RATE
from ..errors import AudioError
from ..intents import GUIDE_FILE
from ..knowledge import Guide

PAD_BEFORE = 0.5
"""Seconds of silence (or noise alone) before each question."""
PAD_AFTER = 1.0
"""Seconds of silence (or noise alone) after each question that the recognizer hears when the
endpointer has not ended the question before; beyond them the endpointer alone goes on
listening, to time its decision (see `ask_spoken`)."""
NOISE_SECONDS = 40.0
SEED = 1729
BABBLE_TALKERS = 6

ROOM_SIZE = (5.0, 4.0, 3.0)
"""A single hospital room, in metres."""
ROOM_TALKER = (1.5, 2.0, 1.1)
"""The patient's mouth, sitting up in bed."""
ROOM_MICROPHONE = (3.2, 2.6, 0.9)
"""The assistant on the over-bed table."""
ROOM_NOISE = (4.3, 0.7, 1.5)
"""Visitors talking by the door."""
ROOM_RT60 = 0.7
"""Reverberation time in seconds (hard walls, floor and ceiling), from which the walls' absorption
follows by Sabine's formula; `decay_time` measures it in the responses."""

MAINS_HZ = 60.0
BEEP_PERIOD = 1.0
BEEP_SECONDS = 0.15
BEEP_HZ = 880.0


def babble_sentences(count: int = BABBLE_TALKERS) -> list[str]:
    """Evenly spaced guide sentences of 12 to 30 words, one per background talker."""
    guide = Guide.from_file(GUIDE_FILE)
    sentences = [s for section in guide.sections for s in section.sentences if 12 <= len(s.split()) <= 30]
    step = len(sentences) / count
    return [sentences[int(i * step)] for i in range(count)]


def _unit(track: np.ndarray) -> np.ndarray:
    track = np.asarray(track, dtype=np.float64)
    return (track / np.sqrt(np.mean(track * track))).astype(np.float32)


def _track_length(seconds: float) -> int:
    return int(seconds * SPEECH_RATE)


def _talk(utterances: Sequence[np.ndarray], length: int, rng: np.random.Generator, order: Sequence[int]) -> np.ndarray:
    """The utterances in `order`, each at unit power, over and over with short random pauses."""
    parts, filled, turn = [], 0, 0
    while filled < length:
        talker = np.asarray(utterances[order[turn % len(order)]], dtype=np.float64)
        pause = np.zeros(int(rng.uniform(0.1, 0.6) * SPEECH_RATE))
        parts += [talker / np.sqrt(np.mean(talker * talker)), pause]
        filled += len(talker) + len(pause)
        turn += 1
    return np.concatenate(parts)[:length]


def make_babble(utterances: Sequence[np.ndarray], seconds: float = NOISE_SECONDS, seed: int = SEED) -> np.ndarray:
    """Several talkers at once: each utterance repeated with short random pauses, started at a
    random point, all summed."""
    rng = np.random.default_rng(seed)
    length = _track_length(seconds)
    total = np.zeros(length)
    for index in range(len(utterances)):
        total += np.roll(_talk(utterances, length, rng, [index]), int(rng.integers(length)))
    return _unit(total)


def _shape(track: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """`track` filtered by a gain per rfft bin: circular, so the track still wraps round seamlessly."""
    return np.fft.irfft(np.fft.rfft(track) * gain, n=len(track))


def fan_hum(seconds: float = NOISE_SECONDS, seed: int = SEED) -> np.ndarray:
    """A ventilation fan's rumble (noise rolling off 6 dB an octave above 300 Hz, nothing below
    40 Hz) with mains hum (MAINS_HZ and its harmonics) 6 dB below it."""
    rng = np.random.default_rng((seed, 1))
    length = _track_length(seconds)
    hz = np.fft.rfftfreq(length, 1 / SPEECH_RATE)
    gain = (hz > 40) / np.sqrt(1 + (hz / 300) ** 2)
    fan = _unit(_shape(rng.standard_normal(length), gain))
    t = np.arange(length) / SPEECH_RATE
    hum = sum(np.sin(2 * np.pi * MAINS_HZ * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 8))
    return _unit(fan + 0.5 * _unit(hum))


def monitor_beeps(seconds: float = NOISE_SECONDS) -> np.ndarray:
    """A patient monitor's pulse tone: BEEP_SECONDS of BEEP_HZ (with a weaker octave) every BEEP_PERIOD."""
    beep_length = int(BEEP_SECONDS * SPEECH_RATE)
    t = np.arange(beep_length) / SPEECH_RATE
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms on and off, without clicks
    beep = ramp * (np.sin(2 * np.pi * BEEP_HZ * t) + 0.3 * np.sin(4 * np.pi * BEEP_HZ * t))
    period = np.zeros(int(BEEP_PERIOD * SPEECH_RATE))
    period[:beep_length] = beep
    return _unit(np.tile(period, int(round(seconds / BEEP_PERIOD))))


def _note(hz: float, seconds: float, decay: float) -> np.ndarray:
    """A plucked or held note: five harmonics, fading by `decay` per second."""
    t = np.arange(int(seconds * SPEECH_RATE)) / SPEECH_RATE
    tone = sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, 6))
    return tone * np.exp(-decay * t) * np.minimum(1.0, t / 0.005)


def chords(seconds: float = NOISE_SECONDS, seed: int = SEED) -> np.ndarray:
    """Music: a I-V-vi-IV progression in C, two seconds a chord, held softly with its root in the
    bass, and a random chord tone plucked every quarter of a second."""
    rng = np.random.default_rng((seed, 2))
    length = _track_length(seconds)
    music = np.zeros(length + 2 * SPEECH_RATE)
    progression = [(0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)]  # semitones above middle C
    pitch = lambda semitone: 261.63 * 2 ** (semitone / 12)  # noqa: E731
    bar = 2 * SPEECH_RATE
    for start in range(0, length, bar):
        chord = progression[(start // bar) % len(progression)]
        for semitone in chord:
            held = _note(pitch(semitone), 2.0, 1.0)
            music[start : start + len(held)] += 0.3 * held
        bass = _note(pitch(chord[0] - 24), 2.0, 1.5)
        music[start : start + len(bass)] += 0.6 * bass
        for beat in range(start, start + bar, SPEECH_RATE // 4):
            plucked = _note(pitch(int(rng.choice(chord)) + 12 * int(rng.integers(0, 2))), 0.5, 6.0)
            music[beat : beat + len(plucked)] += 0.4 * plucked
    music[: 2 * SPEECH_RATE] += music[length:]  # notes ringing past the end wrap round to the start
    return _unit(music[:length])


def television(utterances: Sequence[np.ndarray], seconds: float = NOISE_SECONDS, seed: int = SEED) -> np.ndarray:
    """A TV: the talkers one at a time, with music 6 dB below them, through a small loudspeaker
    (nothing below 200 Hz or above 5 kHz)."""
    rng = np.random.default_rng((seed, 3))
    length = _track_length(seconds)
    speech = _unit(_talk(utterances, length, rng, rng.permutation(len(utterances))))
    mixed = speech + 0.5 * chords(seconds, seed)
    hz = np.fft.rfftfreq(length, 1 / SPEECH_RATE)
    return _unit(_shape(mixed, (hz >= 200) & (hz <= 5000)))


# ---------------------------------------------------------------------------
# The reverberant room
# ---------------------------------------------------------------------------


def room_distance() -> float:
    """Metres from the talker to the microphone."""
    return float(np.linalg.norm(np.subtract(ROOM_TALKER, ROOM_MICROPHONE)))


def room_responses() -> tuple[np.ndarray, np.ndarray]:
    """Impulse responses of the room at the microphone, from the talker and from the noise, each
    starting at its direct sound (the same moment as the dry sound)."""
    try:
        import pyroomacoustics as pra
    except ImportError as err:
        raise AudioError(
            f"the spoken benchmark's reverberant room needs pyroomacoustics ({err}); install it with: pip install -e '.[bench]'"
        ) from err
    absorption, max_order = pra.inverse_sabine(ROOM_RT60, ROOM_SIZE)
    room = pra.ShoeBox(ROOM_SIZE, fs=SPEECH_RATE, materials=pra.Material(absorption), max_order=max_order)
    room.add_source(ROOM_TALKER)
    room.add_source(ROOM_NOISE)
    room.add_microphone(ROOM_MICROPHONE)
    room.compute_rir()
    # pyroomacoustics puts each arrival through a fractional-delay filter of 81 taps, centred.
    taps = pra.constants.get("frac_delay_length") // 2
    responses = []
    for response in (np.asarray(r, dtype=np.float64) for r in room.rir[0]):
        responses.append(response[max(0, int(np.argmax(np.abs(response))) - taps) :])
    return responses[0], responses[1]


def decay_time(response: np.ndarray) -> float:
    """RT60 in seconds: from the fall of the backward-integrated energy from -5 to -25 dB (T20)."""
    energy = np.cumsum(np.asarray(response, dtype=np.float64)[::-1] ** 2)[::-1]
    level = 10 * np.log10(energy / energy[0] + 1e-300)
    start, end = int(np.argmax(level <= -5)), int(np.argmax(level <= -25))
    slope = np.polyfit(np.arange(start, end) / SPEECH_RATE, level[start:end], 1)[0]
    return -60.0 / slope


def reverberate(track: np.ndarray, response: np.ndarray, circular: bool = False) -> np.ndarray:
    """`track` as heard through `response`, the same length: cut at its end, or with the tail
    wrapped round to the start (`circular`, for noise tracks)."""
    n = len(track) if circular else len(track) + len(response) - 1
    size = n if circular else 1 << (n - 1).bit_length()
    heard = np.fft.irfft(np.fft.rfft(track, size) * np.fft.rfft(response[:size], size), size)
    return heard[: len(track)]


def mix(
    speech: np.ndarray,
    noise: np.ndarray | None,
    snr: float | None,
    tail: float,
    offset: int = 0,
    response: np.ndarray | None = None,
) -> np.ndarray:
    """The stream a microphone would hear: PAD_BEFORE, the speech, PAD_AFTER and `tail` more
    seconds; heard through the room's `response` when one is given (scaled back to the dry
    speech's power over the speech); with `noise` (unit power, read from `offset` on, wrapping
    round) throughout at `snr` dB below the speech's mean power; silence around it when `snr` is None."""
    before, after = int(PAD_BEFORE * SPEECH_RATE), int((PAD_AFTER + tail) * SPEECH_RATE)
    speech = np.asarray(speech, dtype=np.float64)
    stream = np.concatenate([np.zeros(before), speech, np.zeros(after)])
    power = np.mean(speech * speech)
    if response is not None:
        stream = reverberate(stream, response)
        stream *= np.sqrt(power / np.mean(stream[before : before + len(speech)] ** 2))
    if snr is not None:
        if noise is None:
            raise ValueError("a noisy condition needs noise")
        stream += np.sqrt(power / 10 ** (snr / 10)) * np.take(noise, np.arange(offset, offset + len(stream)), mode="wrap")
    peak = np.max(np.abs(stream))
    # A sum louder than full scale would clip at the microphone; scaling keeps the SNR.
    return (stream * (0.99 / peak if peak > 0.99 else 1.0)).astype(np.float32)


def make_noise(kind: str, talkers: Sequence[np.ndarray] = (), room_noise: np.ndarray | None = None) -> np.ndarray:
    """The track of one kind of noise (conditions.NOISES but quiet), from the talkers' speech;
    "room" is babble heard through `room_noise`, the room's response from where it is made."""
    if kind == "babble":
        return make_babble(talkers)
    if kind == "tv":
        return television(talkers)
    if kind == "fan":
        return fan_hum()
    if kind == "beeps":
        return monitor_beeps()
    if kind == "room" and room_noise is not None:
        return _unit(reverberate(make_babble(talkers), room_noise, circular=True))
    raise ValueError(f"no noise track for {kind!r}")
