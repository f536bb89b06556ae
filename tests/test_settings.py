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
from assistant.settings import KEYS, Settings, VoiceSettings, load_settings

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
    pytest.param('[voice]\nremember = "no"\n', '[voice] remember = "no" is not true or false, e.g. remember = false', id="remember-text"),
    pytest.param("[voice]\nspeed = 1\n", "unknown [voice] key 'speed'; known keys: rate, volume, voice, engine, output_device, remember", id="key-unknown"),
    pytest.param("[listen]\npush_to_talk = 1\n", "[listen] push_to_talk = 1 is not true or false, e.g. push_to_talk = true", id="push-to-talk-number"),
    pytest.param("[listen]\ninput_device = true\n", "[listen] input_device = true is not a microphone's name", id="input-device-boolean"),
    pytest.param("[listen]\ntrailing_silence = 9\n", "[listen] trailing_silence = 9: out of range; use 0.2 to 5.0 seconds", id="trailing-silence-out-of-range"),
    pytest.param('[listen]\nwake = " "\n', '[listen] wake = " ": no words; give the words that must start each question', id="wake-blank"),
    pytest.param("[listen]\ntones = 0\n", "[listen] tones = 0 is not true or false, e.g. tones = false", id="tones-number"),
    # true names no port: only false (no page) is a boolean captions_page may hold.
    pytest.param("[listen]\ncaptions_page = true\n", "[listen] captions_page = true is not a port number (0 picks a free one) or false", id="captions-page-true"),
    pytest.param("[listen]\ncaptions_page = 70000\n", "[listen] captions_page = 70000: not a port; use 1 to 65535, 0 for any free port", id="captions-page-not-a-port"),
    pytest.param('[recognizer]\nengine = "kaldi"\n', '[recognizer] engine = "kaldi": not a recognizer; use one of: auto, vosk, pocketsphinx', id="recognizer-unknown"),
    pytest.param("[recognizer]\nmodel = 5\n", '[recognizer] model = 5 is not a Vosk model folder in quotes', id="model-number"),
    pytest.param("[[voice]]\nrate = 150\n", "'voice' must be one table; write a [voice] line, then its keys (not [[voice]])", id="array-of-tables"),
    pytest.param("[voise]\nrate = 100\n", "unknown table [voise]; the file's tables are [voice], [listen], [recognizer]", id="table-misspelled"),
    pytest.param("rate = 100\n", "unknown key 'rate' outside a table; the file's tables are [voice], [listen], [recognizer]", id="key-outside-table"),
    pytest.param("[voice]\nrate =\n", "Invalid value (at line 2, column 7); fix or delete it", id="not-toml"),
]  # fmt: skip


def settings(path: Path, **flags: object) -> Settings:
    """The settings of the config file at `path` and `flags`, with no remembered voice."""
    return load_settings(flags, path=path, state=path.parent / "no-state.json")


@pytest.mark.parametrize("text, problem", BAD_CONFIGS)
def test_a_bad_config_is_refused_naming_the_file_the_key_and_the_fix(tmp_path, text, problem):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        settings(path)
    assert f"'{path}'" in str(caught.value)
    assert problem in str(caught.value)


def test_a_bad_value_on_the_command_line_names_the_option(tmp_path):
    with pytest.raises(InputError, match=r"--trailing-silence 0.05: out of range; use 0.2 to 5.0 seconds"):
        settings(tmp_path / "config.toml", trailing_silence=0.05)
    with pytest.raises(InputError, match=r"--captions-page 70000: not a port"):
        settings(tmp_path / "config.toml", captions_page=70000)
    with pytest.raises(InputError, match=r"^--rate 300: speaking rate 300 is out of range; use 100 to 240$"):
        settings(tmp_path / "config.toml", rate=300)


def test_a_config_that_is_a_folder_or_not_utf8_is_refused(tmp_path):
    folder = tmp_path / "config.toml"
    folder.mkdir()
    with pytest.raises(InputError, match="Is a directory; make it a readable file or delete it"):
        settings(folder)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('[voice]\nvoice = "fran\xe7ais"\n'.encode("latin-1"))
    with pytest.raises(InputError, match="save it as UTF-8 text"):
        settings(latin1)


GOOD_CONFIG = """\
[voice]
rate = 120
volume = 1
voice = "en-gb"
engine = "piper"
output_device = "USB Audio"
remember = false

[listen]
input_device = 3
wake = "hello helper"
push_to_talk = true
trailing_silence = 0.8
tones = false
captions_page = 8080

[recognizer]
engine = "vosk"
model = "~/models/vosk-model-small-en-us-0.15"
noise_suppression = false
"""


def test_every_key_of_a_good_config_is_read_and_flags_override_it(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(GOOD_CONFIG, encoding="utf-8")
    read = settings(path)
    assert read.voice == VoiceSettings(rate=120, volume=1, voice="en-gb", engine="piper")
    assert (read.output_device, read.remember, read.input_device) == ("USB Audio", False, 3)
    assert (read.wake, read.push_to_talk, read.trailing_silence) == ("hello helper", True, 0.8)
    assert (read.tones, read.captions_page, read.recognizer) == (False, 8080, "vosk")
    assert read.model == Path.home() / "models" / "vosk-model-small-en-us-0.15" and read.noise_suppression is False
    assert read.config == path
    assert {str(read.origins[key.path]) for key in KEYS} == {f"config file ({path})"}
    flagged = settings(path, rate=200, volume=None, engine="pocketsphinx", captions_page=0)
    assert flagged.voice == VoiceSettings(rate=200, volume=1, voice="en-gb", engine="piper")
    assert (flagged.recognizer, flagged.captions_page) == ("pocketsphinx", 0)
    assert str(flagged.origins["voice.rate"]) == "command line (--rate)"
    assert str(flagged.origins["recognizer.engine"]) == "command line (--engine)"
    assert str(flagged.origins["voice.volume"]) == f"config file ({path})"


def test_captions_page_false_is_no_page(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[listen]\ncaptions_page = false\n", encoding="utf-8")
    assert settings(path).captions_page is None


def test_every_key_is_documented_in_the_readme_with_its_option():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    config_section = readme.partition("## Config file")[2].partition("\n## ")[0]
    rows = {line.split("|")[1].strip(): line for line in config_section.splitlines() if line.startswith("| `")}
    assert set(rows) == {f"`{key.path}`" for key in KEYS}
    for key in KEYS:
        assert f"`{key.flag}" in rows[f"`{key.path}`"], f"the README's row of {key.path} lacks {key.flag}"


def test_every_key_is_in_the_schema_beside_the_parser():
    schema = load_settings.__doc__
    for key in KEYS:
        table = schema.partition(f"[{key.table}]")[2].partition("[")[0]
        assert f"\n        {key.name} = " in table, f"{key.path} is missing from load_settings' schema"


def test_without_a_config_file_the_defaults_apply(tmp_path):
    read = settings(tmp_path / "config.toml")
    assert read == Settings(origins=read.origins)
    assert read.config is None
    assert {read.origins[key.path].source for key in KEYS} == {"default"}


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


def test_a_damaged_or_unwritable_state_file_never_stops_the_assistant(tmp_path, caplog):
    from assistant.state import remember_voice, remembered_voice

    state = tmp_path / "voice.json"
    for damaged in ("{not json", "[1, 2]", '{"rate": {"value": 150.5, "over": 150}}', '{"rate": {"value": 999, "over": 150}}'):
        state.write_text(damaged, encoding="utf-8")
        assert load_settings({}, path=tmp_path / "config.toml", state=state).voice == VoiceSettings()
    assert "ignoring the remembered" in caplog.text
    remember_voice(VoiceSettings(rate=130), VoiceSettings(), state)
    assert remembered_voice(VoiceSettings(), state)[0] == {"rate": 130}
    # Back at the configured rate: nothing is left to remember.
    remember_voice(VoiceSettings(), VoiceSettings(), state)
    assert remembered_voice(VoiceSettings(), state)[0] == {}
    # A file where the state folder should be: a warning, and the voice as it was.
    blocked = tmp_path / "blocked"
    blocked.write_text("", encoding="utf-8")
    remember_voice(VoiceSettings(rate=130), VoiceSettings(), blocked / "voice.json")
    assert "cannot keep the voice's rate and volume" in caplog.text
