"""A private PulseAudio server with a virtual speaker and microphone, for tests.

The server runs in its own runtime folder, so it neither needs nor disturbs a desktop
session. PortAudio reaches it through ALSA's "pulse" plugin (Debian package
libasound2-plugins, which pulseaudio depends on):

- sink "speaker" is the default output; whatever is played there can be recorded
  from its monitor with `Recorder`;
- source "mic" is the default input; it hears whatever is played into sink
  "micfeed" (`play_into_mic`).

A null sink renders in blocks as long as its clients allow (up to 2 s), so the
harness keeps a 10 ms reader on each monitor; without it the virtual microphone
delivers its first samples up to 2 s late, and recordings of the speaker could only
be timed to within a block. A null sink also drops what nobody records, so sound
played into the microphone before a capture stream is open is lost. The speaker
does not rewind: a rewind re-renders audio its monitor has already recorded, so the
start of a new stream would be missing from recordings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np

MONITOR_LATENCY_MS = 10
PLAYBACK_LATENCY_MS = 50
"""Buffer of the player feeding the virtual microphone: long enough never to run dry."""
RATE = 16000
"""Rate of the recordings made from the speaker's monitor."""

_CONFIG = """\
load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
load-module module-null-sink sink_name=speaker rate=48000 norewinds=1 sink_properties=device.description=Speaker
load-module module-null-sink sink_name=micfeed rate=48000 sink_properties=device.description=MicrophoneFeed
load-module module-remap-source source_name=mic master=micfeed.monitor channels=1 channel_map=mono source_properties=device.description=Microphone
set-default-sink speaker
set-default-source mic
"""


def available() -> str | None:
    """Why the harness cannot run here, or None when it can."""
    missing = [tool for tool in ("pulseaudio", "pactl", "parec", "pacat") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (Debian package pulseaudio / pulseaudio-utils)"
    return None


class PulseServer:
    """A PulseAudio daemon with a null speaker and a virtual microphone.

    Start with `start()`, end with `stop()`; every process it starts is ended by PID.
    `env` holds the variables a client process needs to use it.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.socket = self.folder / "native"
        self.env: dict[str, str] = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_RUNTIME_PATH": str(self.folder),
            "XDG_RUNTIME_DIR": str(self.folder),
        }
        self._daemon: subprocess.Popen | None = None
        self._children: list[subprocess.Popen] = []

    def client_env(self) -> dict[str, str]:
        """The current environment plus this server's variables, for subprocesses."""
        return {**os.environ, **self.env}

    def start(self, timeout: float = 10.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "default.pa"
        config.write_text(_CONFIG.format(socket=self.socket))
        log = open(self.folder / "pulseaudio.log", "wb")
        self._daemon = subprocess.Popen(
            [
                "pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--system=false",
                "--disallow-exit", "--log-target=stderr", "-n", "-F", str(config),
            ],
            env={**self.client_env(), "HOME": str(self.folder)},
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._daemon.poll() is not None:
                raise RuntimeError(f"pulseaudio exited at start: {self.log_tail()}")
            if self.socket.exists() and self.pactl("info", check=False).returncode == 0:
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f"pulseaudio did not start within {timeout} s: {self.log_tail()}")
        monitors = ("speaker.monitor", "micfeed.monitor")
        for monitor in monitors:
            self.spawn(self._parec(monitor), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Each sink finishes the 2 s block it began while idle before the new latency
        # applies; wait for that here rather than in the first test.
        probes = [
            self.spawn(self._parec(monitor), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) for monitor in monitors
        ]
        for probe in probes:
            probe.stdout.read1(4)
            probe.terminate()
            probe.wait(5)

    def log_tail(self) -> str:
        path = self.folder / "pulseaudio.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["pactl", *args], env=self.client_env(), capture_output=True, text=True, timeout=10, check=check
        )

    def spawn(self, argv: list[str], **kwargs) -> subprocess.Popen:
        """Start a client process of this server, ended at `stop()` if still running."""
        process = subprocess.Popen(argv, env=self.client_env(), stdin=kwargs.pop("stdin", subprocess.DEVNULL), **kwargs)
        self._children.append(process)
        return process

    def _parec(self, device: str) -> list[str]:
        return [
            "parec", f"--device={device}", "--raw", "--format=float32le", f"--rate={RATE}",
            "--channels=1", f"--latency-msec={MONITOR_LATENCY_MS}",
        ]  # fmt: skip

    def play_into_mic(self, samples: np.ndarray, rate: int, delay: float = 0.0) -> subprocess.Popen:
        """Play mono float samples into the virtual microphone, after `delay` seconds of silence.

        Returns the player process; wait for it to know the sound has been played.
        """
        silence = np.zeros(int(delay * rate), dtype=np.float32)
        data = np.concatenate([silence, np.asarray(samples, dtype=np.float32)]).astype("<f4").tobytes()
        process = self.spawn(
            [
                "pacat", "--playback", "--device=micfeed", "--raw", "--format=float32le",
                f"--rate={rate}", "--channels=1", f"--latency-msec={PLAYBACK_LATENCY_MS}",
            ],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        threading.Thread(target=_feed, args=(process, data), daemon=True).start()
        return process

    def play_wav_into_mic(self, path: Path, delay: float = 0.0) -> subprocess.Popen:
        """Play a WAV file into the virtual microphone, after `delay` seconds of silence."""
        from assistant.audio import read_wav

        audio = read_wav(path)
        return self.play_into_mic(audio.samples, audio.rate, delay)

    def record_speaker(self) -> Recorder:
        """Start recording what is played on the speaker."""
        return Recorder(self.spawn(self._parec("speaker.monitor"), stdout=subprocess.PIPE, stderr=subprocess.PIPE))

    @contextlib.contextmanager
    def recording(self, lead: float = 0.2, tail: float = 0.2) -> Iterator[Recorder]:
        """Record the speaker from `lead` seconds before the block until `tail` seconds after it,
        so that the recorder is running when the first sound comes and the last one is caught."""
        recorder = self.record_speaker()
        time.sleep(lead)
        try:
            yield recorder
        finally:
            time.sleep(tail)
            recorder.stop()

    @contextlib.contextmanager
    def speaker_suspended(self) -> Iterator[None]:
        """Suspend the speaker for the block, as a speaker that stalls: the server stops taking
        what its clients play (their callbacks stop) until it is resumed."""
        self.pactl("suspend-sink", "speaker", "1")
        try:
            yield
        finally:
            self.pactl("suspend-sink", "speaker", "0")

    def kill_daemon(self) -> None:
        """End the server abruptly, as when a sound device disappears."""
        if self._daemon is not None and self._daemon.poll() is None:
            self._daemon.kill()
            self._daemon.wait(5)

    def stop(self) -> None:
        for process in [*self._children, self._daemon]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self._children, self._daemon]:
            if process is None:
                continue
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self._children.clear()
        self._daemon = None


def _feed(process: subprocess.Popen, data: bytes) -> None:
    try:
        process.stdin.write(data)
        process.stdin.close()
    except (BrokenPipeError, ValueError):
        pass


class Recorder:
    """Records a monitor at 16 kHz mono, noting when each piece arrived."""

    def __init__(self, process: subprocess.Popen):
        self._process = process
        self._pieces: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stream = self._process.stdout
        while True:
            piece = stream.read1(4096)
            if not piece:
                return
            with self._lock:
                self._pieces.append((time.monotonic(), piece))

    def stop(self) -> np.ndarray:
        """End the recording and return its samples."""
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait(5)
        self._thread.join(5)
        return self.samples()

    def samples(self) -> np.ndarray:
        with self._lock:
            data = b"".join(piece for _, piece in self._pieces)
        return np.frombuffer(data[: len(data) - len(data) % 4], "<f4").copy()

    def heard_at(self, index: int) -> float:
        """Latest `time.monotonic()` at which sample `index` can have been played.

        A piece arrives once its last sample has been played, so each sample is dated
        back from its piece's arrival; the true time is earlier by the server's delay.
        """
        end = 0
        with self._lock:
            for arrived, piece in self._pieces:
                end += len(piece)
                if end >= 4 * index + 4:
                    return arrived - (end // 4 - 1 - index) / RATE
        raise IndexError(f"sample {index} not recorded")


@contextlib.contextmanager
def running(folder: Path) -> Iterator[PulseServer]:
    """A started server that this process's PortAudio uses until the block ends."""
    from assistant.audio import refresh_devices

    server = PulseServer(folder)
    saved = {name: os.environ.get(name) for name in server.env}
    try:
        server.start()
        os.environ.update(server.env)
        refresh_devices()  # PortAudio only sees the "pulse" devices if it starts after the server
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        refresh_devices()


def error_when_server_dies(folder: Path, use, after: float) -> BaseException | None:
    """Run `use()` against a fresh server, kill the server `after` seconds in, and return what
    `use` raised (None if it returned); fails if `use` is still hanging 5 s later."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            use()
            outcome.append(None)
        except BaseException as err:  # noqa: BLE001 - the caller inspects whatever ended it
            outcome.append(err)

    with running(folder) as server:
        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(after)
        server.kill_daemon()
        worker.join(5)
        assert not worker.is_alive(), "still hanging after the sound server died"
    return outcome[0]
