"""The assistant as a bedside device gets it: an sdist built from the checkout, a wheel built from
that sdist, installed with its extras into a fresh virtual environment and run from another folder.

The dependencies come from .venv/wheelhouse when scripts/setup made it, so that the test runs
without a package index; otherwise pip takes them from the index.
"""

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import read_wav

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
SPOKEN_CRS = ROOT / "tests" / "data" / "audio" / "what_is_cytokine_release_syndrome.wav"
DATA_FILES = [
    "car-t-guide.txt", "overlay.yaml", "language.yaml", "safety.yaml", "commands.yaml",
    "pronunciation.yaml", "questions/dev.tsv", "questions/dev2.tsv", "questions/test.tsv",
]


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # Without build isolation: setuptools comes from the test environment, not from the index.
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)])
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory):
    """The `assistant` command of a fresh environment with the wheel and its piper extra, and the
    environment variables that keep its user folders in a temporary home."""
    _, wheel = dist
    place = tmp_path_factory.mktemp("installed")
    venv = place / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    index = ["--no-index", "--find-links", str(WHEELHOUSE)] if WHEELHOUSE.is_dir() else []
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *index, f"{wheel}[piper]"])
    home = place / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "ASSISTANT_"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}:{env['PATH']}")
    return venv / "bin" / "assistant", env, place / "elsewhere"


def _assistant(installed, *args):
    command, env, cwd = installed
    cwd.mkdir(exist_ok=True)
    return _run([str(command), *args], env=env, cwd=cwd)


def test_sdist_and_wheel_carry_the_data(dist):
    sdist, wheel = dist
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {f"intents/{name}" for name in DATA_FILES} | {"models/registry.toml", "models/pocketsphinx.toml", "LICENSE"} <= names
    assert "service/car-t-assistant.service" in names
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"assistant/data/intents/{name}" for name in DATA_FILES} | {"assistant/data/models/registry.toml", "assistant/data/models/pocketsphinx.toml"} <= names
    assert "assistant/data/service/car-t-assistant.service" in names
    assert {"assistant/data/sounds/tones.toml", "assistant/captions/page.html", "assistant/captions/page.js"} <= names
    assert not any(name.startswith("tests/") for name in names)
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(metadata).decode()
    assert "License-Expression: MIT" in text and "Classifier: " in text and "CAR T-cell therapy voice assistant" in text


def test_installed_package_runs_from_its_own_files(installed):
    command, env, _ = installed
    python = command.parent / "python"
    where = _run([str(python), "-c", "import assistant; print(assistant.__file__)"], env=env, cwd="/").stdout
    assert str(command.parent.parent) in where and str(ROOT) not in where


def test_installed_wheel_lists_topics_and_answers_typed_questions(installed):
    topics = _assistant(installed, "topics").stdout
    assert "cytokine release syndrome" in topics and "leukapheresis" in topics
    reply = json.loads(_assistant(installed, "ask", "--json", "--no-speak", "what is crs").stdout)
    assert reply["intent"] == "cytokine-release-syndrome" and "fever" in reply["answer"]


def test_installed_wheel_speaks_to_a_file(installed, tmp_path):
    out = tmp_path / "hello.wav"
    _assistant(installed, "say", "hello", "--out", str(out))
    speech = read_wav(out)
    loud = np.abs(speech.samples) > 0.05
    assert 0.3 < speech.duration < 3.0 and loud.mean() > 0.05


def test_installed_wheel_hears_a_wav(installed):
    result = _assistant(installed, "ask", "--json", "--no-speak", "--audio", str(SPOKEN_CRS))
    reply = json.loads(result.stdout)
    assert reply["intent"] == "cytokine-release-syndrome" and "cytokine" in reply["transcript"]


def test_installed_wheel_lists_models_from_the_shipped_registry(installed):
    listing = _assistant(installed, "models", "list").stdout
    assert "vosk-model-small-en-us-0.15" in listing


def test_installed_wheel_writes_a_service_that_starts_its_own_command(installed):
    command, env, _ = installed
    unit = _assistant(installed, "service", "install", "--print").stdout
    assert f"ExecStart={command} listen\n" in unit and "WantedBy=default.target" in unit
