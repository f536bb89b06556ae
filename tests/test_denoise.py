"""Noise suppression before recognition: RNNoise from its pinned library, on real speech and a real fan's noise."""

import logging

import numpy as np
import pytest

from assistant.audio import SPEECH_RATE, read_wav_16k
from assistant.audio.denoise import LAG, NoiseSuppressor, RNNoiseLibrary, noise_suppressor
from assistant.bench.noise import fan_hum
from assistant.errors import AudioError
from test_listen import AUDIO, needs_rnnoise, rnnoise_installed


def snr_db(reference: np.ndarray, signal: np.ndarray) -> float:
    """The signal's ratio of the reference's part to the rest, in dB."""
    gain = np.dot(signal, reference) / np.dot(reference, reference)
    rest = signal - gain * reference
    return float(10 * np.log10(np.sum((gain * reference) ** 2) / np.sum(rest**2)))


@needs_rnnoise
def test_a_fans_noise_is_taken_out_and_the_speech_kept():
    speech = read_wav_16k(AUDIO / "what_is_cytokine_release_syndrome.wav")
    second = np.zeros(SPEECH_RATE, np.float32)
    clean = np.concatenate([second, speech, second])
    fan = fan_hum()[: len(clean)]
    noisy = (clean + fan * np.sqrt(np.mean(speech**2) / np.mean(fan**2) / 10)).astype(np.float32)  # 10 dB
    with NoiseSuppressor() as suppressor:
        # In the microphone's blocks, as the listening loop feeds it.
        out = np.concatenate([suppressor.process(noisy[i : i + 480]) for i in range(0, len(noisy), 480)])
    assert abs(len(out) - len(noisy)) < 2 * LAG
    out = out[LAG:]
    clean, noisy = clean[: len(out)], noisy[: len(out)]
    # Measured: 6.6 dB -> 11.4 dB; the fan alone 20 dB lower (a tenth of the input is kept); the
    # speech 0.4 dB lower.
    assert snr_db(clean, out) > snr_db(clean, noisy) + 3
    fan_alone = slice(len(out) - 12000, len(out) - 2000)
    assert np.mean(noisy[fan_alone] ** 2) / np.mean(out[fan_alone] ** 2) > 50  # 17 dB
    spoken = slice(SPEECH_RATE, SPEECH_RATE + len(speech) - LAG)
    assert 0.5 < np.mean(out[spoken] ** 2) / np.mean(clean[spoken] ** 2) < 2


def test_a_library_not_the_pinned_one_is_refused_with_the_fix(tmp_path):
    pinned = RNNoiseLibrary.from_file()
    other = RNNoiseLibrary(pinned.package, pinned.version, pinned.library, "0" * 64)
    expected = "not the pinned one" if rnnoise_installed() else "not installed"
    with pytest.raises(AudioError, match=f"{expected}.*pip install --no-deps pyrnnoise==0.4.5"):
        other.locate()
    broken = tmp_path / "rnnoise.toml"
    broken.write_text('package = "pyrnnoise"\n', encoding="utf-8")
    with pytest.raises(AudioError, match="does not say where RNNoise is"):
        RNNoiseLibrary.from_file(broken)


def test_without_rnnoise_recognition_goes_on_without_suppression(monkeypatch, caplog):
    def missing(self):
        raise AudioError("noise suppression needs RNNoise, which is not installed")

    monkeypatch.setattr(RNNoiseLibrary, "locate", missing)
    from assistant.audio import denoise

    denoise._library.cache_clear()
    try:
        with caplog.at_level(logging.INFO, logger="assistant.audio.denoise"):
            assert noise_suppressor(True) is None
        assert "without noise suppression" in caplog.text
    finally:
        denoise._library.cache_clear()
    assert noise_suppressor(False) is None
