"""The hands-free listener as a process of its own, watched from outside: `assistant listen
--json` with its lines read as they come, and its resident memory and CPU time sampled from /proc."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

TREND_S = 600.0
"""Shortest span over which a trend of memory is given: over less, start-up growth hides it."""


class ListenerProcess:
    """`assistant listen --json` in a process of its own, its lines read as they come."""

    def __init__(self, engine: str, errors: Callable[[str], None]):
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "listen", "--json", "--engine", engine],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: queue.Queue = queue.Queue()
        """Its JSON lines, then None when its output ends."""
        self._error = errors
        threading.Thread(target=self._read_stdout, name="soak-stdout", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="soak-stderr", daemon=True).start()

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            try:
                self.lines.put(json.loads(line))
            except json.JSONDecodeError:
                self._error(f"not a JSON line on stdout: {line.rstrip()!r}")
        self.lines.put(None)

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self._error(f"stderr: {line.rstrip()}")

    def end(self) -> int:
        """Its exit status, ending it first if it still runs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


class Sampler:
    """Samples a process's resident memory and CPU time at a fixed interval, from /proc."""

    def __init__(self, pid: int, origin: float, interval: float):
        self.pid, self.origin, self.interval = pid, origin, interval
        self.samples: list[tuple[float, float, float]] = []
        """(seconds since origin, resident MB, CPU seconds)."""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-memory", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            sample = self._sample()
            if sample is None:
                return
            self.samples.append(sample)
            if self._done.wait(self.interval):
                return

    def _sample(self) -> tuple[float, float, float] | None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None)
        if rss is None:  # a process that has exited but not been waited for
            return None
        # utime and stime are fields 14 and 15; the command name before them may hold spaces.
        utime, stime = stat.rsplit(")", 1)[1].split()[11:13]
        cpu = (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")
        return round(time.monotonic() - self.origin, 1), round(int(rss) / 1024, 1), round(cpu, 2)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(5)


def is_listening(line: dict) -> bool:
    return line.get("status", "").startswith("Listening.")


def is_reply(line: dict) -> bool:
    return "status" not in line


def trend(samples: list[tuple[float, float, float]]) -> float | None:
    """Least-squares slope of resident memory, in MB per hour."""
    if len(samples) < 2 or samples[-1][0] - samples[0][0] < TREND_S:
        return None
    times, mb = np.array([s[0] for s in samples]), np.array([s[1] for s in samples])
    return round(float(np.polyfit(times, mb, 1)[0]) * 3600, 1)
