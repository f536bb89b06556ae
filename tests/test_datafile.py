"""The data files. YAML is read as plain text, numbers, lists and mappings only: what else YAML can
express (aliases that multiply, tags that construct objects, dates) is refused as file:line or
read as text, never a traceback. A TOML file that cannot be read is an error naming it and the fix."""

import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import datafile
from assistant.dialogue import Commands
from assistant.errors import AudioError, ModelError, OverlayError, SpeechError
from assistant.intents import GUIDE_FILE, Language, load_intents
from assistant.lexicon import Lexicon

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "overlay.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def billion_laughs(levels: int = 9) -> str:
    """An overlay of about 1 KB whose lists, with their aliases expanded, hold 10**levels strings."""
    lines = ["out_of_scope:", "  - &l0 [" + ", ".join(["lol"] * 10) + "]"]
    for level in range(1, levels):
        lines.append(f"  - &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_its_first_anchor_in_one_line_without_running_out_of_memory(tmp_path):
    overlay = write(tmp_path, billion_laughs())
    assert overlay.stat().st_size < 1100

    def limit_memory():
        # Expanded, the aliases would need 8 GB of list slots: stop at 4 GB instead of swapping.
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    result = subprocess.run(
        [sys.executable, "-m", "assistant", "--guide", str(GUIDE_FILE), "--overlay", str(overlay), "topics"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, preexec_fn=limit_memory,
    )  # fmt: skip

    assert result.returncode != 0
    assert result.stderr.splitlines() == [f"assistant: {overlay}:2: anchor &l0 is not supported; data files use no anchors or aliases"]


REFUSED = [
    pytest.param("intents:\n  x: &self\n    loop: *self\n", 2, "anchor &self", id="recursive-alias"),
    pytest.param("out_of_scope:\n  - *nowhere\n", 2, "alias *nowhere", id="alias"),
    pytest.param("out_of_scope:\n  - what is it\n  - !!python/object/apply:os.system [ls]\n", 3, "tag '!!python/object/apply:os.system'", id="python-object"),
    pytest.param("out_of_scope:\n  - !foo bar\n", 2, "tag '!foo'", id="local-tag"),
    pytest.param("not_covered:\n  - !!binary aGVsbG8=\n", 2, "tag '!!binary'", id="binary"),
    pytest.param("not_covered: !!set {cost: null}\n", 1, "tag '!!set'", id="tagged-mapping"),
    pytest.param("out_of_scope: [a]\n---\nnot_covered: [b]\n", 2, "a second document", id="two-documents"),
    pytest.param("intents:\n  ? [a, b]\n  : c\n", 2, "a key must be text, not a list", id="list-as-key"),
]  # fmt: skip


@pytest.mark.parametrize("text, line, problem", REFUSED)
def test_an_overlay_with_what_data_files_do_not_use_is_refused_with_file_and_line(tmp_path, text, line, problem):
    overlay = write(tmp_path, text)
    with pytest.raises(OverlayError) as caught:
        load_intents(GUIDE_FILE, overlay)
    message = str(caught.value)
    assert message.startswith(f"{overlay}:{line}: ")
    assert problem in message


@pytest.mark.parametrize(
    "depth, problem",
    [(990, "'out_of_scope' must be a list of non-empty text"), (5000, "not valid YAML (exceeded maximum nesting depth)")],
)
def test_deep_nesting_gets_a_file_and_line_error_not_a_recursion_error(tmp_path, depth, problem):
    overlay = write(tmp_path, "out_of_scope: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(OverlayError, match=f"^{re.escape(f'{overlay}:1: {problem}')}"):
        load_intents(GUIDE_FILE, overlay)


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(lambda path: load_intents(GUIDE_FILE, path), id="overlay"),
        pytest.param(Language.from_file, id="language"),
        pytest.param(Commands.from_file, id="commands"),
        pytest.param(datafile.load, id="datafile"),
    ],
)
def test_every_data_file_refuses_an_anchor_and_a_tag(tmp_path, load):
    for text, problem in [("stopwords: &words [a, an]\n", "anchor &words"), ("stopwords: [a, !!binary YW4=]\n", "tag '!!binary'")]:
        path = write(tmp_path, text, "data.yaml")
        with pytest.raises(OverlayError, match=f"^{re.escape(f'{path}:1: {problem}')}"):
            load(path)


def test_the_pronunciation_lexicon_refuses_an_anchor_as_a_speech_error(tmp_path):
    path = write(tmp_path, "version: 1\nentries:\n  - &e {written: CRS, say: see are ess}\n", "pronunciation.yaml")
    with pytest.raises(SpeechError, match=f"^{re.escape(f'{path}:3: anchor &e')}"):
        Lexicon.from_file(path)


def test_date_like_and_boolean_like_samples_stay_text(tmp_path):
    overlay = write(
        tmp_path,
        "intents:\n  car-t-cell-therapy-meaning:\n    samples:\n"
        "      - 2024-13-45\n      - 2024-01-01\n      - 2024-01-01 10:00:00\n      - yes\n      - off\n",
    )
    samples = load_intents(GUIDE_FILE, overlay)["car-t-cell-therapy-meaning"].samples
    assert samples[-5:] == ["2024-13-45", "2024-01-01", "2024-01-01 10:00:00", "yes", "off"]


def test_plain_numbers_and_nulls_are_read_as_such_and_quoted_ones_as_text(tmp_path):
    path = write(tmp_path, "a: [38.0, 100, 0x10, ~, '38.0', \"100\", 0x_, ._]\nb:\n")
    data = datafile.load(path)
    assert data["a"] == [38.0, 100, 16, None, "38.0", "100", "0x_", "._"]
    assert [type(v) for v in data["a"][:3]] == [float, int, int]
    assert data["b"] is None
    assert data.key_lines == {"a": 1, "b": 2} and data["a"].line == 1


def test_the_shipped_data_files_load_with_their_numbers():
    from assistant.safety import SAFETY_FILE

    temperature = datafile.load(SAFETY_FILE)["temperature"]
    assert isinstance(temperature["celsius"], float) and isinstance(temperature["fahrenheit"], float)


def test_a_toml_file_that_cannot_be_read_raises_the_given_error_naming_it_and_the_fix(tmp_path):
    broken = tmp_path / "tones.toml"
    broken.write_text("[beep\n", encoding="utf-8")
    with pytest.raises(AudioError, match=r"cannot read the tones '.*tones.toml': .*line 1.*; restore it"):
        datafile.read_toml(broken, AudioError, "the tones", "restore it")
    missing = tmp_path / "registry.toml"
    with pytest.raises(ModelError, match=r"^model registry '.*registry.toml' not found; reinstall$"):
        datafile.read_toml(missing, ModelError, "model registry", "fix it", missing="reinstall")
    with pytest.raises(ModelError, match=r"cannot read model registry '.*': No such file or directory; fix it"):
        datafile.read_toml(missing, ModelError, "model registry", "fix it")
    broken.write_bytes(b"name = '\xff'\n")
    with pytest.raises(AudioError, match="cannot read the tones .*utf-8"):
        datafile.read_toml(broken, AudioError, "the tones", "restore it")
