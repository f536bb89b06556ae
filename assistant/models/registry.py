"""The registry of downloadable speech models, shipped with the assistant (`resources.registry_file`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import resources
from ..datafile import read_toml
from ..errors import ModelError

ENGINES = ("vosk",)
"""Recognizers whose models the registry lists: PocketSphinx's model comes inside its package."""

_SHA256 = re.compile(r"[0-9a-f]{64}")
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""A model directory name: letters, digits, ".", "_" and "-", never a path."""


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
    """The known models, read from the shipped ``registry.toml``."""

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
        data = read_toml(
            path, ModelError, "model registry", "fix the file",
            missing="restore models/registry.toml of the source, or reinstall the assistant",
        )  # fmt: skip
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
    if not SAFE_NAME.fullmatch(raw["name"]):
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
    """The registry at `path`, by default the one shipped with the assistant."""
    return Registry.from_file(Path(path) if path else resources.registry_file())
