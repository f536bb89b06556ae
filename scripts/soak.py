"""Run the soak benchmark on a private PulseAudio server, started for it and stopped afterwards.

Usage: .venv/bin/python scripts/soak.py SECONDS [bench options, e.g. --json --engine pocketsphinx]

`assistant bench --soak SECONDS` needs a PulseAudio server with a virtual microphone and speaker
in its environment; this starts the one the tests use (tests/pulse.py), in a temporary folder, so
that the soak neither needs nor disturbs a desktop's sound, and passes its variables on.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import pulse  # noqa: E402 - tests/pulse.py, found through the path above


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    reason = pulse.available()
    if reason:
        print(f"soak: no PulseAudio server for the virtual microphone: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="assistant-soak-") as folder, pulse.running(Path(folder)) as server:
        command = [sys.executable, "-m", "assistant", "bench", "--soak", *argv]
        bench = subprocess.Popen(command, env=server.client_env(), stdin=subprocess.DEVNULL, cwd=ROOT)
        try:
            return bench.wait()
        except KeyboardInterrupt:
            # A Ctrl-C at the terminal reaches the bench too; an interrupt sent to this process alone
            # is passed on. Either way the bench ends its listener and prints its numbers so far.
            try:
                return bench.wait(5)
            except subprocess.TimeoutExpired:
                bench.send_signal(signal.SIGINT)
                return bench.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
