"""The malloc arena limit, counted by glibc itself (malloc_stats) in a process of its own."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

# Eight threads that each allocate through malloc (blocks over pymalloc's 512 bytes): under glibc a
# thread's first allocation makes an arena of its own until the limit is reached.
_THREADS = """
import ctypes, threading
from assistant.cli.memory import fewer_malloc_arenas
print(fewer_malloc_arenas(), flush=True)
ready = threading.Barrier(8)
def work():
    ready.wait()
    blocks = [bytearray(4096) for _ in range(100)]
    ready.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(None).malloc_stats()
"""


def _arenas(env: dict) -> tuple[str, int]:
    done = subprocess.run([sys.executable, "-c", _THREADS], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr.count("Arena ")


@pytest.fixture
def clean_env() -> dict:
    if not hasattr(ctypes.CDLL(None), "malloc_stats"):
        pytest.skip("not glibc: no malloc_stats to count arenas")
    return {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}


def test_the_limit_holds_for_threads_started_after_it(clean_env):
    said, arenas = _arenas(clean_env)
    assert said == "True"
    assert arenas == 2


def test_a_limit_in_the_environment_is_left_alone(clean_env):
    said, arenas = _arenas({**clean_env, "MALLOC_ARENA_MAX": "3"})
    assert said == "False"
    assert arenas == 3
