"""Speech models: the registry of known models, finding an installed one, and installing one.

Nothing in this module touches the network except `install_model`, which only the explicit
`assistant models install NAME` command calls. Every other path works offline.

A model is found, in this order (`find_model`):

1. an explicitly given path (`--model PATH`);
2. the path in the environment variable ``ASSISTANT_VOSK_MODEL``;
3. a model directory inside the project's ``models/`` directory;
4. a model directory inside the user data directory (``platformdirs.user_data_dir("car-t-assistant")/models``).

Installs go to the project's ``models/`` directory when it is writable, else to the user data
directory. They are unpacked into a hidden staging directory beside the destination and renamed
into place only once complete, so an interrupted or failed install never leaves a half model.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import platformdirs

from . import __version__
from .errors import ModelError

_LOGGER = logging.getLogger(__name__)

ENV_VAR = "ASSISTANT_VOSK_MODEL"
APP_NAME = "car-t-assistant"
REPO_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
REGISTRY_PATH = REPO_MODELS_DIR / "registry.toml"
ENGINES = ("vosk",)

_CHUNK = 256 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Vosk model directories are named like vosk-model-small-en-us-0.15 or vosk-model-ru-0.42.
_LANGUAGE_IN_NAME = re.compile(r"vosk-model-(?:small-)?([a-z]{2,3}(?:-[a-z]{2})?)\b")

Progress = Callable[[int, "int | None"], None]
"""Called with (bytes done, total bytes or None) while downloading."""


# --- registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelEntry:
    """One downloadable model of the registry."""

    name: str
    """Directory name of the unpacked model, e.g. "vosk-model-small-en-us-0.15"."""
    engine: str
    """Recognizer engine that loads it; only "vosk"."""
    language: str
    """BCP 47 language tag, e.g. "en-US"."""
    url: str
    """Where `assistant models install` downloads the .zip archive from."""
    runtime_grammar: bool
    """Whether the recognizer accepts a grammar at run time (lookahead graph)."""
    size: int | None = None
    """Archive size in bytes, checked after download; None when not known."""
    sha256: str | None = None
    """Archive SHA-256 in lower-case hex, checked after download; None when not known."""
    description: str = ""
    """One line shown by `assistant models list`."""

    @property
    def archive_name(self) -> str:
        return f"{self.name}.zip"


@dataclass(frozen=True)
class Registry:
    """The known models, read from ``models/registry.toml``."""

    path: Path
    """The file the registry was read from (named in error messages)."""
    default: str
    """Name of the model suggested when none is installed."""
    models: tuple[ModelEntry, ...] = field(default_factory=tuple)
    """The entries in file order."""

    @classmethod
    def from_file(cls, path: Path) -> Registry:
        """Read and validate a registry file.

        Schema (TOML)::

            default = "vosk-model-small-en-us-0.15"   # must name one of the models

            [[model]]
            name = "vosk-model-small-en-us-0.15"      # required; letters, digits, ".", "_", "-"
            engine = "vosk"                           # required; one of ENGINES
            language = "en-US"                        # required; BCP 47 tag
            url = "https://.../NAME.zip"              # required; http(s) URL of a .zip archive
            runtime_grammar = true                    # required; lookahead graph (HCLr.fst + Gr.fst)
            size = 41205931                           # optional; archive size in bytes
            sha256 = "..."                            # optional; 64 hex digits
            description = "..."                       # optional; one line for `models list`

        Any problem raises ModelError naming the file and the entry.
        """
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise ModelError(f"model registry '{path}' not found; restore models/registry.toml") from err
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ModelError(f"cannot read model registry '{path}': {err}; fix the file") from err
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: dict, path: Path) -> Registry:
        """Validate parsed registry data; `path` is only used in error messages."""
        unknown = set(data) - {"default", "model"}
        if unknown:
            raise ModelError(f"model registry '{path}': unknown top-level keys {sorted(unknown)}")
        raw_models = data.get("model")
        if not isinstance(raw_models, list) or not raw_models:
            raise ModelError(f"model registry '{path}': no [[model]] entries")
        models = tuple(_entry_from_dict(raw, path, index) for index, raw in enumerate(raw_models, 1))
        names = [m.name for m in models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ModelError(f"model registry '{path}': models listed twice: {', '.join(duplicates)}")
        default = data.get("default")
        if default not in names:
            raise ModelError(
                f"model registry '{path}': default = {default!r} is not one of the models ({', '.join(names)})"
            )
        return cls(path=path, default=default, models=models)

    def get(self, name: str) -> ModelEntry:
        """The entry called `name`; ModelError listing the known names otherwise."""
        for entry in self.models:
            if entry.name == name:
                return entry
        known = ", ".join(m.name for m in self.models)
        raise ModelError(
            f"unknown model {name!r}; known models: {known} "
            "(or install a model you already have with `assistant models install --from ZIP_OR_DIR`)"
        )

    def find(self, name: str) -> ModelEntry | None:
        return next((m for m in self.models if m.name == name), None)


_REQUIRED = {"name": str, "engine": str, "language": str, "url": str, "runtime_grammar": bool}
_OPTIONAL = {"size": int, "sha256": str, "description": str}


def _entry_from_dict(raw: object, path: Path, index: int) -> ModelEntry:
    if not isinstance(raw, dict):
        raise ModelError(f"model registry '{path}': entry {index} is not a table")
    label = f"entry {index} ({raw['name']!r})" if isinstance(raw.get("name"), str) else f"entry {index}"

    def fail(message: str) -> ModelError:
        return ModelError(f"model registry '{path}', {label}: {message}")

    unknown = set(raw) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise fail(f"unknown fields {sorted(unknown)}")
    for key, kind in _REQUIRED.items():
        if key not in raw:
            raise fail(f"missing field {key!r}")
    for key, kind in {**_REQUIRED, **_OPTIONAL}.items():
        # bool is an int in Python; a size of `true` must still be rejected.
        if key in raw and (not isinstance(raw[key], kind) or (kind is int and isinstance(raw[key], bool))):
            raise fail(f"field {key!r} must be {kind.__name__}, not {raw[key]!r}")
    if not _SAFE_NAME.fullmatch(raw["name"]):
        raise fail("name may only use letters, digits, '.', '_' and '-'")
    if raw["engine"] not in ENGINES:
        raise fail(f"engine {raw['engine']!r} is not supported; use one of: {', '.join(ENGINES)}")
    if not raw["url"].startswith(("https://", "http://")) or not raw["url"].endswith(".zip"):
        raise fail(f"url {raw['url']!r} must be an http(s) URL of a .zip archive")
    if "size" in raw and raw["size"] <= 0:
        raise fail(f"size {raw['size']} must be a positive number of bytes")
    if "sha256" in raw and not _SHA256.fullmatch(raw["sha256"]):
        raise fail("sha256 must be 64 lower-case hex digits")
    return ModelEntry(**raw)


def load_registry(path: Path | None = None) -> Registry:
    """The registry at `path`, by default the project's ``models/registry.toml``."""
    return Registry.from_file(Path(path) if path else REGISTRY_PATH)


# --- model layout ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelLayout:
    """What a directory holds, judged by the files a Vosk model needs to load."""

    path: Path
    """The directory inspected."""
    problems: tuple[str, ...]
    """Why Vosk could not load it; empty for a complete model."""
    graph: str | None
    """"static" (graph/HCLG.fst), "lookahead" (graph/HCLr.fst + graph/Gr.fst) or None when missing."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def runtime_grammar(self) -> bool:
        """Vosk composes a run-time grammar only with a lookahead graph; a static HCLG ignores it."""
        return self.graph == "lookahead"

    def to_dict(self) -> dict:
        return {
            "name": self.path.name,
            "path": str(self.path),
            "ok": self.ok,
            "problems": list(self.problems),
            "graph": self.graph,
            "runtime_grammar": self.runtime_grammar,
        }


_IVECTOR_FILES = ("final.dubm", "final.mat", "global_cmvn.stats", "online_cmvn.conf", "splice.conf")


def inspect_model(path: Path) -> ModelLayout:
    """Check `path` against the layout Vosk loads (am/, conf/, graph/, optional ivector/).

    Mirrors what the Vosk library requires of a model directory: the acoustic model
    am/final.mdl, the decoder options conf/model.conf, a feature config (conf/mfcc.conf or
    conf/fbank.conf), and a graph: graph/HCLG.fst, or graph/HCLr.fst + graph/Gr.fst +
    graph/disambig_tid.int. When an i-vector extractor (ivector/final.ie) is present its
    companion files must be too. Required files must not be empty (a sign of a cut-off copy).
    """
    path = Path(path)
    if not path.is_dir():
        reason = "does not exist" if not path.exists() else "is not a directory"
        return ModelLayout(path, (f"'{path}' {reason}",), None)
    problems: list[str] = []

    def present(rel: str) -> bool:
        return (path / rel).is_file()

    def require(*rels: str) -> None:
        for rel in rels:
            if not present(rel):
                problems.append(f"{rel} missing")
            elif (path / rel).stat().st_size == 0:
                problems.append(f"{rel} is empty")

    require("am/final.mdl", "conf/model.conf")
    if not (present("conf/mfcc.conf") or present("conf/fbank.conf")):
        problems.append("feature config missing (conf/mfcc.conf or conf/fbank.conf)")
    graph: str | None = None
    # Vosk prefers HCLG.fst when both kinds of graph are present, so check it first too.
    if present("graph/HCLG.fst"):
        graph = "static"
        require("graph/HCLG.fst")
    elif present("graph/HCLr.fst") or present("graph/Gr.fst"):
        graph = "lookahead"
        require("graph/HCLr.fst", "graph/Gr.fst", "graph/disambig_tid.int")
    else:
        problems.append("decoding graph missing (graph/HCLG.fst, or graph/HCLr.fst + graph/Gr.fst)")
    if present("ivector/final.ie"):
        require(*(f"ivector/{name}" for name in _IVECTOR_FILES))
    return ModelLayout(path, tuple(problems), graph)


# --- where models live ----------------------------------------------------------------------


def user_models_dir() -> Path:
    """``models`` inside the platform's user data directory for the assistant."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "models"


def _model_containers() -> list[Path]:
    return [d for d in (REPO_MODELS_DIR, user_models_dir()) if d.is_dir()]


def _children(container: Path) -> list[Path]:
    # Hidden entries are the staging directories of installs in progress.
    return sorted(p for p in container.iterdir() if p.is_dir() and not p.name.startswith("."))


def _env_model() -> Path | None:
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else None


def model_search_path() -> list[Path]:
    """Where `find_model` looks after an explicit path, in order.

    The first item is the model directory named by ``ASSISTANT_VOSK_MODEL`` when that is set;
    the others are directories holding model directories: the project's ``models/``, then the
    user data directory's ``models/``. Directories that do not exist are left out.
    """
    env = _env_model()
    return ([env] if env else []) + _model_containers()


def installed_models() -> list[Path]:
    """Every candidate model directory on the search path (complete or not), in search order."""
    env = _env_model()
    found = [env] if env else []
    for container in _model_containers():
        found.extend(_children(container))
    return found


def _language_matches(tag: str, wanted: str) -> bool:
    """"en" matches "en-US" and the other way round; "en-US" does not match "en-IN"."""
    have, want = tag.lower().split("-"), wanted.lower().split("-")
    return have[: len(want)] == want or want[: len(have)] == have


def _model_language(path: Path, registry: Registry) -> str | None:
    entry = registry.find(path.name)
    if entry:
        return entry.language
    match = _LANGUAGE_IN_NAME.match(path.name)
    return match.group(1) if match else None


def install_hint(registry: Registry | None = None) -> str:
    """How to get a model, for error messages."""
    registry = registry or load_registry()
    return (
        f"install one with `assistant models install {registry.default}`, or on a device without "
        "internet copy the archive over and run `assistant models install --from ZIP_OR_DIR`"
    )


def usable_layout(path: Path, source: str = "model", registry: Registry | None = None) -> ModelLayout:
    """The layout of a model folder, or ModelError naming what is missing and the fix."""
    layout = inspect_model(path)
    if not layout.ok:
        raise ModelError(
            f"{source} '{path}' is not a usable Vosk model ({'; '.join(layout.problems)}); "
            f"give the directory that holds am/, conf/ and graph/, or {install_hint(registry)}"
        )
    return layout


def find_model(
    explicit: str | Path | None = None, language: str = "en", *, registry: Registry | None = None
) -> Path | None:
    """The model to load: an explicit path, else ``ASSISTANT_VOSK_MODEL``, else an installed model.

    An explicit path or the environment variable must name a complete model (ModelError
    otherwise, naming it and the fix). Installed models are picked only when their language
    (from the registry, else from a "vosk-model-LANG-..." directory name) matches `language`;
    within a directory the registry's default comes first, then the registry's order, then
    other models by name. Returns None when no model is installed.
    """
    registry = registry or load_registry()
    if explicit is not None:
        return usable_layout(Path(explicit).expanduser(), "model", registry).path
    env = _env_model()
    if env:
        return usable_layout(env, ENV_VAR, registry).path
    preferred = [registry.default] + [m.name for m in registry.models if m.name != registry.default]
    order = {name: rank for rank, name in enumerate(preferred)}
    for container in _model_containers():
        candidates = sorted(_children(container), key=lambda p: order.get(p.name, len(order)))
        for candidate in candidates:
            tag = _model_language(candidate, registry)
            if tag is None or not _language_matches(tag, language):
                continue
            layout = inspect_model(candidate)
            if layout.ok:
                _LOGGER.debug("using speech model %s", candidate)
                return candidate
            _LOGGER.warning("skipping incomplete model '%s': %s", candidate, "; ".join(layout.problems))
    return None


@dataclass(frozen=True)
class ModelStatus:
    """A model of the registry or one found installed, as `assistant models list` shows it."""

    name: str
    """Directory name of the model."""
    entry: ModelEntry | None
    """Its registry entry; None for an installed model the registry does not list."""
    path: Path | None
    """Where it is installed (first on the search path); None when not installed."""
    default: bool
    """Whether it is the registry's default model."""

    def to_dict(self) -> dict:
        entry = self.entry
        return {
            "name": self.name,
            "installed": str(self.path) if self.path else None,
            "default": self.default,
            "in_registry": entry is not None,
            "engine": entry.engine if entry else None,
            "language": entry.language if entry else None,
            "size": entry.size if entry else None,
            "runtime_grammar": entry.runtime_grammar if entry else None,
            "url": entry.url if entry else None,
            "description": entry.description if entry else "",
        }


def list_models(registry: Registry | None = None) -> list[ModelStatus]:
    """The registry's models (installed or not), then installed models the registry does not list."""
    registry = registry or load_registry()
    installed: dict[str, Path] = {}
    for path in installed_models():
        installed.setdefault(path.name, path)
    statuses = [
        ModelStatus(m.name, m, installed.pop(m.name, None), m.name == registry.default) for m in registry.models
    ]
    statuses.extend(ModelStatus(name, None, path, False) for name, path in installed.items())
    return statuses


def verify_models(name: str | Path | None = None) -> list[ModelLayout]:
    """Inspect the model called or located at `name`, or every installed model when None."""
    if name is None:
        paths = installed_models()
        if not paths:
            raise ModelError(f"no speech model is installed; {install_hint()}")
    elif Path(name).expanduser().exists() or os.sep in str(name):
        paths = [Path(name).expanduser()]
    else:
        paths = [p for p in installed_models() if p.name == name][:1]
        if not paths:
            places = ", ".join(f"'{p}'" for p in model_search_path()) or "nowhere"
            raise ModelError(f"no installed model named {name!r} (searched {places}); give its path or install it")
    return [inspect_model(p) for p in paths]


def default_install_dir() -> Path:
    """The project's ``models/`` when writable, else the user data directory's ``models/``."""
    if REPO_MODELS_DIR.is_dir() and os.access(REPO_MODELS_DIR, os.W_OK):
        return REPO_MODELS_DIR
    return user_models_dir()


# --- download -------------------------------------------------------------------------------


class TextProgress:
    """A one-line text progress bar, drawn only when the stream is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.enabled = self.stream.isatty()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not self.enabled or (now - self._last_draw < 0.1 and not finished):
            return
        self._last_draw = now
        if total:
            filled = self.width * done // total
            bar = "#" * filled + "." * (self.width - filled)
            line = f"{self.label} [{bar}] {100 * done // total:3d}% {done / 1e6:.1f}/{total / 1e6:.1f} MB"
        else:
            line = f"{self.label} {done / 1e6:.1f} MB"
        self.stream.write("\r" + line)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _archive_problem(path: Path, size: int | None, sha256: str | None) -> str | None:
    """Why the archive at `path` is not the expected one, or None when it matches."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        return f"it has {actual_size} bytes, expected {size}"
    if sha256 is not None:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            return f"its SHA-256 is {digest.hexdigest()}, expected {sha256}"
    return None


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of a Content-Range header such as "bytes 100-199/200"."""
    match = re.fullmatch(r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)", (value or "").strip())
    if not match:
        return None, None
    start, total = match.groups()
    return (int(start) if start else None), (int(total) if total and total != "*" else None)


def download(
    url: str,
    part: Path,
    *,
    size: int | None = None,
    sha256: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download `url` into the file `part`, resuming from what `part` already holds.

    An interrupted transfer keeps `part` so that running again continues where it stopped
    (HTTP Range). A finished file whose size or SHA-256 differs from `size`/`sha256` is deleted
    and raises ModelError. Returns `part`.
    """
    part = Path(part)
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        _LOGGER.info("discarding %s: larger than the expected %d bytes", part, size)
        part.unlink()
        have = 0
    if size is None or have < size:
        _fetch(url, part, have, size, progress or (lambda done, total: None), timeout)
    problem = _archive_problem(part, size, sha256)
    if problem:
        part.unlink()
        raise ModelError(
            f"the download from {url} is not the expected archive: {problem}; it was deleted. "
            "The file on the server may have changed; check the registry entry, or install a "
            "known-good copy with `assistant models install --from ZIP`"
        )
    return part


def _fetch(url: str, part: Path, have: int, size: int | None, progress: Progress, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": f"{APP_NAME}/{__version__}"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    offline_fix = "check the network, or copy the archive to this device and use `assistant models install --from ZIP`"
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:
            _, total = _content_range(err.headers.get("Content-Range"))
            if total == have:
                return  # the part file already holds the whole archive
            part.unlink()
            raise ModelError(
                f"the partial download '{part}' does not fit the file at {url}; it was deleted, run the command again"
            ) from err
        raise ModelError(f"cannot download {url}: the server answered {err.code} {err.reason}; {offline_fix}") from err
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ModelError(f"cannot download {url}: {reason}; {offline_fix}") from err
    with response:
        if have and response.status == 206:
            start, _ = _content_range(response.headers.get("Content-Range"))
            if start != have:
                part.unlink()
                raise ModelError(
                    f"the server resumed {url} at byte {start}, not {have}; deleted '{part}', run the command again"
                )
            mode = "ab"
            _LOGGER.info("resuming %s at byte %d", url, have)
        else:
            mode, have = "wb", 0
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length and length.isdigit() else None
        total = size or expected
        done = have
        try:
            with part.open(mode) as out:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    progress(done, total)
        except (OSError, http.client.HTTPException) as err:
            raise ModelError(
                f"download of {url} stopped at {done} bytes ({err!r}); run the same command again to resume"
            ) from err
    if expected is not None and done < expected:
        raise ModelError(
            f"download of {url} stopped at {done} of {expected} bytes; run the same command again to resume"
        )


# --- install --------------------------------------------------------------------------------


def _model_root(staging: Path) -> Path:
    """The unpacked model: the staging directory itself, or its only subdirectory."""
    if (staging / "am").is_dir():
        return staging
    entries = [p for p in staging.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return staging


def _place(root: Path, final: Path, source: str, force: bool, staging: Path) -> Path:
    """Move the complete model `root` to `final` with renames on one file system."""
    layout = inspect_model(root)
    if not layout.ok:
        raise ModelError(
            f"'{source}' does not hold a complete Vosk model ({'; '.join(layout.problems)}); "
            "nothing was installed. Use an official model archive from https://alphacephei.com/vosk/models"
        )
    if final.exists():
        if not force:
            raise ModelError(f"'{final}' already exists; remove it first or add --force to replace it")
        # Park the old model in the staging directory; the caller deletes it with the rest.
        final.rename(staging / ".replaced")
    root.rename(final)
    _LOGGER.info("installed %s", final)
    return final


def _staging_dir(dest_dir: Path) -> Path:
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".installing-", dir=dest_dir))
    except OSError as err:
        raise ModelError(f"cannot write to '{dest_dir}': {err}; choose another directory with --dir") from err


def _check_name(name: str) -> str:
    if not _SAFE_NAME.fullmatch(name):
        raise ModelError(f"model name {name!r} may only use letters, digits, '.', '_' and '-'; give another --name")
    return name


def _unpack(archive: Path, dest_dir: Path, name: str | None, force: bool) -> Path:
    staging = _staging_dir(dest_dir)
    try:
        unpacked = staging / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    member_path = Path(member)
                    if member_path.is_absolute() or ".." in member_path.parts:
                        raise ModelError(f"'{archive}' contains the unsafe path {member!r}; nothing was installed")
                zf.extractall(unpacked)
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            raise ModelError(
                f"'{archive}' is not a readable zip archive ({err}); nothing was installed. Get a fresh copy"
            ) from err
        except OSError as err:
            raise ModelError(f"cannot unpack '{archive}' into '{dest_dir}': {err}") from err
        root = _model_root(unpacked)
        if name is None:
            name = root.name if root != unpacked else archive.name.removesuffix(".part").removesuffix(".zip")
        return _place(root, dest_dir / _check_name(name), str(archive), force, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_dir(source: Path, dest_dir: Path, name: str, force: bool) -> Path:
    layout = inspect_model(source)
    if not layout.ok:
        raise ModelError(
            f"'{source}' is not a complete Vosk model ({'; '.join(layout.problems)}); nothing was installed"
        )
    final = dest_dir / _check_name(name)
    if final.resolve() == source.resolve():
        raise ModelError(f"'{source}' is already installed there")
    staging = _staging_dir(dest_dir)
    try:
        root = staging / "copy"
        try:
            shutil.copytree(source, root)
        except (OSError, shutil.Error) as err:
            raise ModelError(f"cannot copy '{source}' into '{dest_dir}': {err}") from err
        return _place(root, final, str(source), force, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install_from(
    source: str | Path,
    dest_dir: str | Path | None = None,
    *,
    name: str | None = None,
    force: bool = False,
    registry: Registry | None = None,
) -> Path:
    """Install a model from a local .zip archive or model directory, without any network.

    The model is named `name`, else after the archive's top directory (or the archive's file
    name), or the source directory's name. An archive named like a registry entry
    (e.g. vosk-model-small-en-us-0.15.zip) must match that entry's size and SHA-256.
    Returns the installed directory.
    """
    source = Path(source).expanduser()
    dest_dir = Path(dest_dir).expanduser() if dest_dir else default_install_dir()
    if source.is_dir():
        return _copy_dir(source, dest_dir, name or source.name, force)
    if not source.is_file():
        raise ModelError(f"'{source}' does not exist; give a model .zip archive or a model directory")
    registry = registry or load_registry()
    entry = next((m for m in registry.models if m.archive_name == source.name), None)
    if entry:
        problem = _archive_problem(source, entry.size, entry.sha256)
        if problem:
            raise ModelError(
                f"'{source}' is not the official {entry.archive_name}: {problem}; the copy may be damaged, "
                "copy it again"
            )
    return _unpack(source, dest_dir, name or (entry.name if entry else None), force)


def install_model(
    name: str,
    dest_dir: str | Path | None = None,
    *,
    force: bool = False,
    registry: Registry | None = None,
    progress: Progress | None = None,
) -> Path:
    """Download the registry model `name` and install it; the only function that uses the network.

    A complete model already in place is kept (unless `force`); an incomplete one is replaced.
    The archive is downloaded to ``NAME.zip.part`` beside the destination, so a new attempt
    resumes an interrupted one, and is deleted once unpacked. Returns the installed directory.
    """
    registry = registry or load_registry()
    entry = registry.get(name)
    dest_dir = Path(dest_dir).expanduser() if dest_dir else default_install_dir()
    final = dest_dir / entry.name
    if final.exists():
        if not force and inspect_model(final).ok:
            _LOGGER.info("%s is already installed in %s", entry.name, final)
            return final
        force = True
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelError(f"cannot create '{dest_dir}': {err}; choose another directory with --dir") from err
    part = dest_dir / f"{entry.archive_name}.part"
    download(entry.url, part, size=entry.size, sha256=entry.sha256, progress=progress)
    try:
        installed = _unpack(part, dest_dir, entry.name, force)
    except ModelError:
        # A complete download that does not unpack is useless for resuming.
        part.unlink(missing_ok=True)
        raise
    part.unlink()
    return installed
