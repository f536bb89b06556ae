"""The README's commands once set up: they must start at a bedside without a network."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parent.parent


def _offline(*command, **kwargs):
    """Run a command in a new network namespace, which has no network at all."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("cannot make a network namespace here (unshare -n needs root)")
    return subprocess.run(["unshare", "-n", *command], capture_output=True, text=True, timeout=300, cwd=ROOT, **kwargs)


def test_setup_leaves_a_current_environment_alone_without_network():
    # The extras this suite was installed with (scripts/test): asking for them again is current.
    result = _offline("scripts/setup", "--piper", env={**os.environ, "ASSISTANT_EXTRAS": "test"})
    assert result.returncode == 0, result.stderr
    # Fewer extras than installed are current too: scripts/run asks for none.
    result = _offline("scripts/setup")
    assert result.returncode == 0, result.stderr


def test_run_starts_offline_and_takes_typed_questions_without_a_microphone():
    env = {key: value for key, value in os.environ.items() if not key.startswith("PULSE")}
    result = _offline("scripts/run", "--no-speak", input="what is crs\ngoodbye\n", env=env)
    assert result.returncode == 0, result.stderr
    assert "no microphone" in result.stderr and "Cytokine release syndrome" in result.stdout
