"""The soak benchmark: the hands-free loop on a virtual microphone, its memory, answers and errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def soak(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", "bench", "--soak", *args],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_soak_without_a_virtual_microphone_says_how_to_get_one(tmp_path):
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path / 'no-server'}"}
    result = soak(env, "5")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no-server" in result.stderr and "scripts/soak.py" in result.stderr


@pytest.mark.heavy
def test_a_short_soak_reports_memory_answers_and_no_errors(pulse_server, tmp_path):
    pytest.importorskip("piper", reason="the soak's questions are spoken by Piper (scripts/setup --piper)")
    env = {**pulse_server.client_env(), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = soak(env, "20", "--json", "--engine", "pocketsphinx", "--cache", str(tmp_path / "voices"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    numbers = json.loads(result.stdout)
    assert numbers["errors"] == []
    memory = numbers["memory"]
    # A sample a second while the listener listened; once it has answered, each the size of a
    # process with a recognizer and a voice loaded.
    assert len(memory["samples"]) >= 15
    assert all(mb > 50 for t, mb in memory["samples"] if t >= memory["warm_at_s"])
    assert memory["warm_mb"] <= memory["peak_mb"]
    exchanges = numbers["exchanges"]
    assert exchanges[0]["kind"] == "question" and exchanges[-1]["kind"] == "goodbye"
    replies = [reply for exchange in exchanges[:-1] for reply in exchange["replies"]]
    assert all(reply["transcript"] for reply in replies) and any(reply["answer"] for reply in replies)
    assert exchanges[-1]["replies"][-1]["action"] == "goodbye"
