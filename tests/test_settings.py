"""The user's config file: every key checked for its type, every mistake named with the file,
the key and the fix, and the command line showing it as one line."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.settings import VoiceSettings, load_voice_settings

ROOT = Path(__file__).resolve().parent.parent

BAD_CONFIGS = [
    pytest.param('[voice]\nrate = "fast"\n', 'rate = "fast" is not a whole number', id="rate-text"),
    # eSpeak NG's rate must be an int: a float made every sentence fail, and speech fell back to text.
    pytest.param("[voice]\nrate = 150.5\n", "rate = 150.5 is not a whole number of words per minute, e.g. rate = 150", id="rate-float"),
    pytest.param("[voice]\nrate = true\n", "rate = true is not a whole number", id="rate-boolean"),
    pytest.param("[voice]\nrate = 300\n", "speaking rate 300 is out of range; use 100 to 240", id="rate-out-of-range"),
    pytest.param('[voice]\nvolume = "loud"\n', 'volume = "loud" is not a number, e.g. volume = 0.85', id="volume-text"),
    pytest.param("[voice]\nvoice = 5\n", 'voice = 5 is not a voice name in quotes, e.g. voice = "en-us"', id="voice-number"),
    pytest.param('[voice]\nengine = "espeak"\n', "unknown voice engine 'espeak'; use one of: pyttsx3, piper", id="engine-unknown"),
    pytest.param("[voice]\nspeed = 1\n", "unknown [voice] key 'speed'; known keys: rate, volume, voice, engine", id="key-unknown"),
    pytest.param("[[voice]]\nrate = 150\n", "'voice' must be one table; write a [voice] line, then its keys (not [[voice]])", id="array-of-tables"),
    pytest.param("[voise]\nrate = 100\n", "unknown table [voise]; the file has one table, [voice]", id="table-misspelled"),
    pytest.param("rate = 100\n", "unknown key 'rate' outside a table; the file has one table, [voice]", id="key-outside-table"),
    pytest.param("[voice]\nrate =\n", "Invalid value (at line 2, column 7); fix or delete it", id="not-toml"),
]  # fmt: skip


@pytest.mark.parametrize("text, problem", BAD_CONFIGS)
def test_a_bad_config_is_refused_naming_the_file_the_key_and_the_fix(tmp_path, text, problem):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_voice_settings(path)
    assert f"'{path}'" in str(caught.value)
    assert problem in str(caught.value)


def test_a_config_that_is_a_folder_or_not_utf8_is_refused(tmp_path):
    folder = tmp_path / "config.toml"
    folder.mkdir()
    with pytest.raises(InputError, match="Is a directory; make it a readable file or delete it"):
        load_voice_settings(folder)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('[voice]\nvoice = "fran\xe7ais"\n'.encode("latin-1"))
    with pytest.raises(InputError, match="save it as UTF-8 text"):
        load_voice_settings(latin1)


def test_a_good_config_is_read_and_flags_override_it(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[voice]\nrate = 120\nvolume = 1\nvoice = "en-gb"\nengine = "piper"\n', encoding="utf-8")
    assert load_voice_settings(path) == VoiceSettings(rate=120, volume=1, voice="en-gb", engine="piper")
    assert load_voice_settings(path, rate=200, volume=None) == VoiceSettings(rate=200, volume=1, voice="en-gb", engine="piper")


def test_without_a_config_file_the_defaults_apply(tmp_path):
    assert load_voice_settings(tmp_path / "config.toml") == VoiceSettings()


def ask(config_home: Path, *prefix: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home), "HOME": str(config_home)}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "assistant", "ask", "--no-speak", "what is crs"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )  # fmt: skip


@pytest.mark.parametrize(
    "text, problem",
    [p for p in BAD_CONFIGS if p.id in ("rate-text", "rate-float", "voice-number", "array-of-tables", "table-misspelled")],
)
def test_the_cli_shows_a_bad_config_in_one_line_and_exits_non_zero(tmp_path, text, problem):
    config = tmp_path / "car-t-assistant" / "config.toml"
    config.parent.mkdir()
    config.write_text(text, encoding="utf-8")
    result = ask(tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"assistant: config file '{config}': ")
    assert problem in line


def test_the_cli_shows_a_folder_in_place_of_the_config_in_one_line(tmp_path):
    config = tmp_path / "car-t-assistant" / "config.toml"
    config.mkdir(parents=True)
    result = ask(tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"assistant: cannot read config file '{config}': Is a directory; make it a readable file or delete it"
    ]


def test_the_cli_shows_an_unreadable_config_in_one_line():
    prefix = []
    if os.geteuid() == 0:
        # Root reads any file: drop to nobody to meet "Permission denied".
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    with tempfile.TemporaryDirectory() as home:
        os.chmod(home, 0o755)
        config = Path(home) / "car-t-assistant" / "config.toml"
        config.parent.mkdir(mode=0o755)
        config.write_text("[voice]\nrate = 120\n", encoding="utf-8")
        config.chmod(0)
        result = ask(Path(home), *prefix)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"assistant: cannot read config file '{config}': Permission denied; make it a readable file or delete it"
    ]
