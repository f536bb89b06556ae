import json
import resource
import shutil
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pulse
from assistant import audio
from assistant.audio import Audio, Microphone, Player, Resampler, read_wav, resample, to_pcm16, write_wav
from assistant.audio.wav import MAX_QUESTION_SECONDS
from assistant.errors import AudioError

# ---------------------------------------------------------------------------
# WAV files built byte by byte, independently of the reader
# ---------------------------------------------------------------------------

PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(round(seconds * rate)) / rate)).astype(np.float32)


def encode(samples: np.ndarray, tag: int, bits: int) -> bytes:
    if tag == FLOAT:
        return samples.astype("<f4" if bits == 32 else "<f8").tobytes()
    if bits == 8:
        return np.round(samples * 127 + 128).astype(np.uint8).tobytes()
    full = np.round(samples.astype(np.float64) * (2 ** (bits - 1) - 1)).astype("<i8")
    raw = full.view(np.uint8).reshape(-1, 8)[:, : bits // 8]  # little-endian low bytes
    return raw.tobytes()


def fmt_chunk(tag: int, channels: int, rate: int, bits: int, extensible: bool = False) -> bytes:
    align = channels * bits // 8
    plain = struct.pack("<HHIIHH", EXTENSIBLE if extensible else tag, channels, rate, rate * align, align, bits)
    if not extensible:
        return plain
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    return plain + struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + guid_tail


def fmt16(rate: int) -> bytes:
    return chunk(b"fmt ", fmt_chunk(PCM, 1, rate, 16))


def chunk(name: bytes, body: bytes, size: int | None = None) -> bytes:
    padding = b"\x00" if len(body) % 2 else b""
    return name + struct.pack("<I", len(body) if size is None else size) + body + padding


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def wav_bytes(samples: np.ndarray, rate: int, tag: int = PCM, bits: int = 16, extensible: bool = False) -> bytes:
    """A mono WAV file; a 2-D `samples` array gives one channel per column."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    data = encode(samples.reshape(-1), tag, bits)
    return riff(chunk(b"fmt ", fmt_chunk(tag, channels, rate, bits, extensible)), chunk(b"data", data))


FORMATS = [
    pytest.param(PCM, 8, False, 1 / 64, id="pcm8-unsigned"),
    pytest.param(PCM, 16, False, 1e-4, id="pcm16"),
    pytest.param(PCM, 24, False, 1e-6, id="pcm24"),
    pytest.param(PCM, 32, False, 1e-6, id="pcm32"),
    pytest.param(FLOAT, 32, False, 1e-7, id="float32"),
    pytest.param(FLOAT, 64, False, 1e-7, id="float64"),
    pytest.param(PCM, 16, True, 1e-4, id="extensible-pcm16"),
    pytest.param(PCM, 24, True, 1e-6, id="extensible-pcm24"),
    pytest.param(FLOAT, 32, True, 1e-7, id="extensible-float32"),
]


@pytest.mark.parametrize("tag, bits, extensible, tolerance", FORMATS)
@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_read_wav_decodes_every_supported_format(tmp_path, tag, bits, extensible, tolerance, rate):
    expected = np.concatenate([tone(440, 0.25, rate, 0.9), np.linspace(-0.99, 0.99, 101, dtype=np.float32)])
    path = tmp_path / "sound.wav"
    path.write_bytes(wav_bytes(expected, rate, tag, bits, extensible))

    result = read_wav(path)

    assert result.rate == rate
    assert result.samples.dtype == np.float32
    assert len(result.samples) == len(expected)
    assert result.duration == pytest.approx(len(expected) / rate)
    assert np.max(np.abs(result.samples - expected)) < tolerance


def test_read_wav_pcm_extremes_map_to_minus_one_and_nearly_one(tmp_path):
    path = tmp_path / "extremes.wav"
    path.write_bytes(riff(fmt16(8000), chunk(b"data", struct.pack("<hhh", -32768, 0, 32767))))
    assert read_wav(path).samples.tolist() == pytest.approx([-1.0, 0.0, 32767 / 32768])


def test_read_wav_mixes_stereo_down_to_mono(tmp_path):
    left = np.full(1000, 0.5, dtype=np.float32)
    right = np.full(1000, -0.1, dtype=np.float32)
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(np.stack([left, right], axis=1), 48000, PCM, 24))

    result = read_wav(path)

    assert result.rate == 48000
    assert len(result.samples) == 1000
    assert np.allclose(result.samples, 0.2, atol=1e-6)


def test_read_wav_skips_other_chunks_and_their_padding(tmp_path):
    samples = tone(300, 0.1, 16000)
    path = tmp_path / "tagged.wav"
    path.write_bytes(
        riff(
            chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00odd!!"),  # odd length, padded
            fmt16(16000),
            chunk(b"fact", struct.pack("<I", len(samples))),
            chunk(b"data", encode(samples, PCM, 16)),
        )
    )
    assert np.allclose(read_wav(path).samples, samples, atol=1e-4)


@pytest.mark.parametrize(
    "riff_size, data_size",
    [
        pytest.param(0x7FFFF024, 0x7FFFF000, id="sox"),
        pytest.param(0x80000023, 0x7FFFFFFF, id="arecord"),
        pytest.param(0x7FFFFF24, 0x7FFFFF00, id="arecord-older"),
        pytest.param(0xFFFFFFFF, 0xFFFFFFFF, id="ffmpeg"),
        pytest.param(0, 0, id="zero"),
    ],
)
def test_read_wav_accepts_streamed_files_whose_sizes_were_never_filled_in(tmp_path, riff_size, data_size):
    # The header a writer that cannot seek leaves (arecord: aplay.c begin_wave), then the audio.
    samples = tone(300, 0.1, 16000)
    header = b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + fmt16(16000) + b"data" + struct.pack("<I", data_size)
    path = tmp_path / "streamed.wav"
    path.write_bytes(header + encode(samples, PCM, 16))
    result = read_wav(path)
    assert np.allclose(result.samples, samples, atol=1e-4)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")
def test_read_wav_reads_what_sox_writes_into_a_pipe(tmp_path):
    # Into a pipe sox cannot go back to write the sizes: it leaves 0x7FFFF000 in their place.
    written = subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", "-t", "wav", "-", "synth", "1", "sine", "440"],
        capture_output=True, check=True,
    ).stdout
    assert struct.unpack_from("<I", written, 4)[0] > len(written)
    path = tmp_path / "piped.wav"
    path.write_bytes(written)
    result = read_wav(path)
    assert result.rate == 44100
    assert result.duration == pytest.approx(1.0)
    assert dominant_frequency(result.samples, 44100) == pytest.approx(440, abs=2)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")
@pytest.mark.parametrize(
    "options, rate, channels",
    [
        (["-b", "8", "-e", "unsigned-integer"], 11025, 1),
        (["-b", "24", "-e", "signed-integer"], 48000, 2),
        (["-b", "32", "-e", "floating-point"], 44100, 2),
        (["-b", "64", "-e", "floating-point"], 16000, 1),
    ],
    ids=["u8-mono", "s24-stereo", "f32-stereo", "f64-mono"],
)
def test_read_wav_reads_files_written_by_sox(tmp_path, options, rate, channels):
    path = tmp_path / "sox.wav"
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", str(channels), *options, str(path)]
        + ["synth", "0.5", "sine", "1000", "vol", "0.5"],
        check=True,
    )
    result = read_wav(path)
    assert result.rate == rate
    assert result.duration == pytest.approx(0.5, abs=1 / rate)
    assert dominant_frequency(result.samples, rate) == pytest.approx(1000, abs=5)
    assert np.sqrt(np.mean(result.samples**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


# ---------------------------------------------------------------------------
# Bad files
# ---------------------------------------------------------------------------


def good_wav() -> bytes:
    return wav_bytes(tone(440, 0.1, 16000), 16000)


silence = chunk(b"data", b"\x00" * 80)


BAD_FILES = [
    pytest.param(b"", "empty", id="empty"),
    pytest.param(b"ID3\x04\x00\x00\x00\x00\x00\x00 mp3 data follows", "not a WAV file", id="mp3"),
    pytest.param(b"hello, I am a text file\n", "not a WAV file", id="text"),
    pytest.param(good_wav()[:30], "truncated", id="cut-in-format"),
    pytest.param(good_wav()[:1000], "truncated", id="cut-in-audio"),
    pytest.param(riff(fmt16(16000)), "('data') chunk is missing", id="no-data"),
    pytest.param(riff(chunk(b"data", b"\x00\x00" * 10)), "('fmt ') chunk is missing", id="no-format"),
    pytest.param(riff(fmt16(16000), chunk(b"data", b"")), "no audio", id="no-samples"),
    pytest.param(riff(chunk(b"fmt ", fmt_chunk(6, 1, 8000, 8)), silence), "format code 0x0006", id="a-law"),
    pytest.param(riff(chunk(b"fmt ", fmt_chunk(PCM, 1, 8000, 12)), silence), "12-bit PCM", id="12-bit"),
    pytest.param(riff(chunk(b"fmt ", fmt_chunk(PCM, 0, 8000, 16)), silence), "0 channels", id="no-channels"),
]


@pytest.mark.parametrize("content, problem", BAD_FILES)
def test_read_wav_explains_a_bad_file(tmp_path, content, problem):
    path = tmp_path / "question.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError) as caught:
        read_wav(path)
    message = str(caught.value)
    assert f"'{path}'" in message
    assert problem in message
    assert ";" in message  # the problem, then what to do about it


def test_read_wav_reads_a_question_of_the_longest_length_and_refuses_one_frame_more(tmp_path):
    longest = tmp_path / "longest.wav"
    longest.write_bytes(wav_bytes(np.zeros(round(MAX_QUESTION_SECONDS * 8000), np.float32), 8000))
    assert read_wav(longest).duration == MAX_QUESTION_SECONDS
    longer = tmp_path / "longer.wav"
    longer.write_bytes(wav_bytes(np.zeros(round(MAX_QUESTION_SECONDS * 8000) + 1, np.float32), 8000))
    with pytest.raises(AudioError, match=r"it lasts 60\.1 s, and a question may last at most 60 s; cut the question out"):
        read_wav(longer)


def test_read_wav_refuses_a_long_file_from_its_header(tmp_path):
    # Ten minutes of 48 kHz stereo float, as a sparse file: the header alone tells its length.
    path = tmp_path / "ten-minutes.wav"
    audio_bytes = 600 * 48000 * 2 * 4
    header = b"WAVE" + chunk(b"fmt ", fmt_chunk(FLOAT, 2, 48000, 32)) + b"data" + struct.pack("<I", audio_bytes)
    with path.open("wb") as out:
        out.write(b"RIFF" + struct.pack("<I", len(header) + audio_bytes) + header)
        out.truncate(out.tell() + audio_bytes)
    with pytest.raises(AudioError) as caught:
        read_wav(path)
    assert str(caught.value) == (
        f"cannot read '{path}': it lasts 600 s, and a question may last at most 60 s; "
        "cut the question out of it (e.g. sox in.wav out.wav trim 0 60)"
    )


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")
def test_read_wav_stops_reading_a_stream_of_unknown_length_at_the_limit():
    # Two minutes of raw audio through a second sox, which cannot know the length it writes.
    raw = ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", "-t", "raw", "-", "synth", "120", "sine", "440"]
    wav = ["sox", "-t", "raw", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed", "-", "-t", "wav", "-"]
    source = subprocess.Popen(raw, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stream = subprocess.Popen(wav, stdin=source.stdout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    source.stdout.close()
    try:
        with pytest.raises(AudioError, match="it lasts more than 60 s, and a question may last at most 60 s"):
            read_wav(f"/dev/fd/{stream.stdout.fileno()}")
    finally:
        for process in (stream, source):
            process.kill()
            process.wait()


def ask_audio(path: str, stdin=None) -> subprocess.CompletedProcess:
    def limit_memory():
        # Reading without end would take all the memory there is: stop at 4 GB instead.
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    return subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--no-speak", "--engine", "pocketsphinx", "--audio", path],
        stdin=stdin, capture_output=True, text=True, timeout=120, preexec_fn=limit_memory,
    )  # fmt: skip


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")
def test_ask_audio_from_dev_zero_or_an_endless_pipe_gives_one_line():
    zero = ask_audio("/dev/zero")
    assert zero.returncode == 1
    assert zero.stderr.splitlines() == [
        "assistant: cannot read '/dev/zero': not a WAV file (RIFF/WAVE header missing); "
        "convert it to WAV (8-bit unsigned, 16-, 24- or 32-bit PCM, or 32- or 64-bit float)"
    ]
    endless = subprocess.Popen(
        ["sox", "-n", "-r", "48000", "-c", "2", "-t", "wav", "-", "synth", "sine", "440"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        piped = ask_audio("/dev/stdin", stdin=endless.stdout)
    finally:
        endless.kill()
        endless.wait()
    assert piped.returncode == 1
    assert piped.stderr.splitlines() == [
        "assistant: cannot read '/dev/stdin': it lasts more than 60 s, and a question may last at most 60 s; "
        "cut the question out of it (e.g. sox in.wav out.wav trim 0 60)"
    ]


def test_read_wav_explains_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(AudioError, match=r"'.*nowhere\.wav': no such file; check the path"):
        read_wav(tmp_path / "nowhere.wav")
    with pytest.raises(AudioError, match="it is a folder"):
        read_wav(tmp_path)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def test_to_pcm16_scales_and_clips():
    pcm = to_pcm16(np.array([0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0], dtype=np.float32))
    assert struct.unpack("<7h", pcm) == (0, 16384, -16384, 32767, -32767, 32767, -32767)


def test_write_wav_round_trips_through_read_wav(tmp_path):
    samples = tone(523, 0.3, 22050)
    path = tmp_path / "out.wav"
    write_wav(path, samples, 22050)
    result = read_wav(path)
    assert result.rate == 22050
    assert np.max(np.abs(result.samples - samples)) < 1e-4


def test_write_wav_names_an_unwritable_path(tmp_path):
    with pytest.raises(AudioError, match="missing-folder"):
        write_wav(tmp_path / "missing-folder" / "out.wav", np.zeros(10, dtype=np.float32), 16000)


def test_read_wav_16k_resamples(tmp_path):
    path = tmp_path / "cd.wav"
    path.write_bytes(wav_bytes(tone(440, 1.0, 44100), 44100, PCM, 16))
    samples = audio.read_wav_16k(path)
    assert len(samples) == 16000
    assert dominant_frequency(samples, 16000) == pytest.approx(440, abs=2)


# ---------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


RATE_PAIRS = [
    (44100, 16000), (48000, 16000), (22050, 16000), (11025, 16000), (8000, 16000), (16000, 44100), (22050, 48000),
]  # fmt: skip


@pytest.mark.parametrize("src, dst", RATE_PAIRS)
def test_resample_keeps_pitch_duration_loudness_and_timing(src, dst):
    original = tone(440, 1.0, src)
    result = resample(original, src, dst)
    assert result.dtype == np.float32
    assert len(result) == dst
    assert dominant_frequency(result, dst) == pytest.approx(440, abs=2)
    # Sample for sample against the ideal tone at the new rate, edges aside.
    ideal = tone(440, 1.0, dst)
    inner = slice(dst // 20, -dst // 20)
    assert np.max(np.abs(result[inner] - ideal[inner])) < 1e-3


def test_resample_removes_what_the_lower_rate_cannot_hold():
    # 10 kHz does not fit under 16 kHz's 8 kHz Nyquist: without filtering it would fold to 6 kHz.
    result = resample(tone(10000, 1.0, 44100), 44100, 16000)
    assert rms(result[800:-800]) < 1e-3
    kept = resample(tone(3000, 1.0, 44100), 44100, 16000)
    assert rms(kept[800:-800]) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_resample_same_rate_is_a_copy():
    samples = tone(440, 0.1, 16000)
    result = resample(samples, 16000, 16000)
    assert result is not samples
    assert np.array_equal(result, samples)


def test_resampler_in_blocks_matches_resampling_at_once():
    samples = np.random.default_rng(1).uniform(-0.5, 0.5, 44100).astype(np.float32)
    resampler = Resampler(44100, 16000)
    blocks = [resampler.process(samples[i : i + 882]) for i in range(0, len(samples), 882)]
    streamed = np.concatenate([*blocks, resampler.flush()])
    assert np.allclose(streamed, resample(samples, 44100, 16000), atol=1e-6)


def test_resampler_rejects_a_zero_rate():
    with pytest.raises(AudioError, match="0 Hz"):
        Resampler(0, 16000)


# ---------------------------------------------------------------------------
# Devices: with no device at all (PortAudio's answers replaced)
# ---------------------------------------------------------------------------


@pytest.fixture
def no_devices(monkeypatch):
    sd = audio.devices._sd()

    def query_devices(device=None, kind=None):
        if kind is not None:
            raise sd.PortAudioError("Error querying device -1")
        return sd.DeviceList()

    monkeypatch.setattr(sd, "query_devices", query_devices)


def test_microphone_without_any_input_device_says_what_to_do(no_devices):
    with pytest.raises(AudioError) as caught:
        with Microphone():
            pass
    message = str(caught.value)
    assert "no microphone found" in message
    assert "plugged in" in message
    assert "--input-device" in message
    assert "assistant devices" in message


def test_player_without_any_output_device_says_what_to_do(no_devices):
    with pytest.raises(AudioError, match="no speaker found.*--output-device"):
        with Player():
            pass


# ---------------------------------------------------------------------------
# Devices: a private PulseAudio server with a virtual speaker and microphone
# ---------------------------------------------------------------------------


def loud_span(samples: np.ndarray, rate: int, threshold: float = 0.05) -> tuple[int, int]:
    """First and last sample of the part louder than `threshold` (in 5 ms windows)."""
    window = rate // 200
    frames = samples[: len(samples) // window * window].reshape(-1, window)
    loud = np.flatnonzero(np.sqrt(np.mean(frames**2, axis=1)) > threshold)
    assert len(loud), "nothing loud was recorded"
    first = loud[0] * window + int(np.argmax(np.abs(frames[loud[0]]) > threshold))
    last = loud[-1] * window + int(np.flatnonzero(np.abs(frames[loud[-1]]) > threshold)[-1])
    return first, last


@pytest.mark.heavy
def test_devices_are_listed_and_found_by_number_or_name(pulse_server):
    devices = audio.list_devices()
    names = [d.name for d in devices]
    assert "pulse" in names
    default_out = audio.find_device(None, "output")
    assert [d for d in devices if d.index == default_out][0].is_default_output
    pulse_index = names.index("pulse")
    assert audio.find_device("PULSE", "input") == devices[pulse_index].index
    assert audio.find_device(str(devices[pulse_index].index), "output") == devices[pulse_index].index
    with pytest.raises(AudioError) as caught:
        audio.find_device("no such card", "input")
    assert "'no such card'" in str(caught.value)
    assert "'pulse'" in str(caught.value)
    with pytest.raises(AudioError, match="no output device has number 99"):
        audio.find_device(99, "output")


@pytest.mark.heavy
def test_player_plays_a_tone_that_the_speaker_carries(pulse_server):
    sound = Audio(tone(440, 1.0, 22050), 22050)
    with pulse_server.recording() as recorder, Player() as player:
        asked = time.monotonic()
        player.play(sound)
        returned = time.monotonic()
    recorded = recorder.samples()

    first, last = loud_span(recorded, pulse.RATE)
    assert (last - first) / pulse.RATE == pytest.approx(1.0, abs=0.03)
    assert dominant_frequency(recorded[first:last], pulse.RATE) == pytest.approx(440, abs=3)
    assert rms(recorded[first:last]) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)
    # play() returns once the sound has been heard, not when it was handed over.
    assert returned >= recorder.heard_at(last) - 0.1
    assert player.last_played_at == pytest.approx(recorder.heard_at(last), abs=0.1)
    print(f"\nfirst sample heard {recorder.heard_at(first) - asked:.3f} s after play()")


@pytest.mark.heavy
def test_play_stream_plays_chunks_back_to_back(pulse_server):
    def sentences():
        for freq in (330, 550, 770):
            time.sleep(0.05)  # as if synthesizing the next sentence
            yield Audio(tone(freq, 0.4, 16000), 16000)

    with pulse_server.recording() as recorder, Player() as player:
        player.play_stream(sentences())
    recorded = recorder.samples()

    first, last = loud_span(recorded, pulse.RATE)
    assert (last - first) / pulse.RATE == pytest.approx(1.2, abs=0.15)
    thirds = np.array_split(recorded[first:last], 3)
    assert [round(dominant_frequency(part, pulse.RATE), -1) for part in thirds] == [330, 550, 770]


@pytest.mark.heavy
def test_stop_from_another_thread_ends_playback_within_100_ms_and_the_player_plays_again(pulse_server):
    long_tone = Audio(tone(440, 3.0, 16000), 16000)
    with pulse_server.recording() as recorder, Player() as player:
        worker = threading.Thread(target=player.play, args=(long_tone,))
        worker.start()
        time.sleep(0.8)
        stopped = time.monotonic()
        player.stop()
        worker.join(2)
        returned = time.monotonic()
        assert not worker.is_alive()
        assert not player.is_playing
        time.sleep(0.3)
        player.play(Audio(tone(880, 0.3, 16000), 16000))
    recorded = recorder.samples()

    gap = np.flatnonzero(np.sqrt(np.convolve(recorded**2, np.ones(80) / 80, "same")) < 0.01)
    first, last = loud_span(recorded, pulse.RATE)
    silent_after_first = gap[(gap > first) & (gap < last)]
    assert len(silent_after_first), "the second sound followed the first without a pause"
    first_end = silent_after_first[0]
    stop_latency = recorder.heard_at(first_end) - stopped
    print(f"\nstop() to silence: {stop_latency * 1000:.0f} ms; play() returned {(returned - stopped) * 1000:.0f} ms after")
    assert stop_latency < 0.1
    assert returned - stopped < 0.2
    assert dominant_frequency(recorded[first:first_end], pulse.RATE) == pytest.approx(440, abs=3)
    second = recorded[silent_after_first[-1] : last]
    assert dominant_frequency(second, pulse.RATE) == pytest.approx(880, abs=3)
    assert len(second) / pulse.RATE == pytest.approx(0.3, abs=0.05)


@pytest.mark.heavy
def test_microphone_hears_what_is_played_into_it_at_16_khz(pulse_server, tmp_path):
    rng = np.random.default_rng(7)
    # A sweep with noise bursts: any shift or distortion of time shows in the correlation.
    t = np.arange(int(1.5 * 22050)) / 22050
    sweep = 0.4 * np.sin(2 * np.pi * (200 * t + 1000 * t**2))
    sweep[::5000] += rng.uniform(-0.3, 0.3, len(sweep[::5000]))
    source = tmp_path / "sweep.wav"
    write_wav(source, sweep.astype(np.float32), 22050)

    blocks = []
    with Microphone() as mic:
        assert mic.rate == 16000
        player = pulse_server.play_wav_into_mic(source, delay=0.2)
        started = time.monotonic()
        while time.monotonic() - started < 2.2:
            blocks.append(mic.read())
        player.wait(5)
    recorded = np.concatenate(blocks)

    assert all(block.dtype == np.float32 for block in blocks)
    assert 300 <= np.median([len(b) for b in blocks]) <= 480  # 20-30 ms at 16 kHz
    expected = audio.read_wav_16k(source)
    correlation = np.correlate(recorded, expected, "valid")
    lag = int(np.argmax(correlation))
    heard = recorded[lag : lag + len(expected)]
    similarity = float(np.dot(heard, expected) / (np.linalg.norm(heard) * np.linalg.norm(expected)))
    print(f"\nmicrophone: sound found {lag / 16000:.3f} s into the recording, similarity {similarity:.3f}")
    assert similarity > 0.95
    assert rms(heard) == pytest.approx(rms(expected), rel=0.1)


@pytest.mark.heavy
@pytest.mark.parametrize("device", ["speaker", "microphone"])
def test_a_device_that_disappears_raises_instead_of_hanging(tmp_path, device):
    def use_device():
        if device == "speaker":
            with Player() as player:
                player.play(Audio(tone(440, 5.0, 16000), 16000))
        else:
            with Microphone() as mic:
                for _ in mic.frames():
                    pass

    error = pulse.error_when_server_dies(tmp_path / "pulse", use_device, after=0.5)
    assert isinstance(error, AudioError), error
    assert "sound server is running" in str(error)



@pytest.mark.heavy
def test_devices_command_lists_the_servers_devices(pulse_server):
    command = [sys.executable, "-m", "assistant", "devices"]
    env = pulse_server.client_env()
    listing = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert listing.returncode == 0, listing.stderr
    assert "pulse" in listing.stdout
    assert "[default input, default output]" in listing.stdout
    as_json = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, timeout=30)
    devices = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {"pulse", "default"} <= {d["name"] for d in devices}
    assert all(d["default_rate"] > 0 for d in devices)
