"""Band-limited resampling between sample rates, whole or streamed block by block."""

from __future__ import annotations

import math

import numpy as np

from ..errors import AudioError

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
