"""Where speech models live, and which installed model to use. Works offline."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .. import resources
from .folder import remove_stale_staging
from .layout import inspect_model, usable_layout
from .registry import ModelEntry, Registry, load_registry

_LOGGER = logging.getLogger(__name__)

ENV_VAR = "ASSISTANT_VOSK_MODEL"

# Vosk model directories are named like vosk-model-small-en-us-0.15 or vosk-model-ru-0.42.
_LANGUAGE_IN_NAME = re.compile(r"vosk-model-(?:small-)?([a-z]{2,3}(?:-[a-z]{2})?)\b")


VOSK_ENV_VAR = "VOSK_MODEL_PATH"
"""Vosk's own variable: a folder holding model folders, which Vosk's tools search too."""


def vosk_folders() -> list[Path]:
    """Where Vosk's own tools look for models and put those they download: ``$VOSK_MODEL_PATH``,
    then ``~/.cache/vosk``."""
    env = os.environ.get(VOSK_ENV_VAR)
    return ([Path(env).expanduser()] if env else []) + [Path.home() / ".cache" / "vosk"]


def _model_containers() -> list[Path]:
    """The folders holding model folders, in search order: ours (where `models install` puts
    them), then Vosk's; those that do not exist are left out."""
    containers = [resources.user_models_dir(), *vosk_folders()]
    return [container for container in dict.fromkeys(containers) if container.is_dir()]


def _children(container: Path) -> list[Path]:
    # Hidden entries are the staging directories of installs in progress.
    return sorted(p for p in container.iterdir() if p.is_dir() and not p.name.startswith("."))


def _env_model() -> Path | None:
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else None


def model_search_path() -> list[Path]:
    """Where `find_model` looks after an explicit path, in order.

    The first item is the model directory named by ``ASSISTANT_VOSK_MODEL`` when that is set;
    the others are directories holding model directories: the user data directory's ``models/``,
    then Vosk's own ``$VOSK_MODEL_PATH`` and ``~/.cache/vosk``, each left out when it does not exist.
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


def find_model(
    explicit: str | Path | None = None, language: str = "en", *, registry: Registry | None = None
) -> Path | None:
    """The model to load: an explicit path, else ``ASSISTANT_VOSK_MODEL``, else an installed model
    (in our models folder, then in Vosk's: ``$VOSK_MODEL_PATH``, ``~/.cache/vosk``).

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
    """The registry's models (installed or not), then installed models the registry does not list.

    Staging folders left in the user's models folder by installs that were killed are removed first.
    """
    registry = registry or load_registry()
    # Only our own folder has staging folders to clean; Vosk's folders are left as Vosk keeps them.
    own = resources.user_models_dir()
    if own.is_dir():
        remove_stale_staging(own)
    installed: dict[str, Path] = {}
    for path in installed_models():
        installed.setdefault(path.name, path)
    statuses = [
        ModelStatus(m.name, m, installed.pop(m.name, None), m.name == registry.default) for m in registry.models
    ]
    statuses.extend(ModelStatus(name, None, path, False) for name, path in installed.items())
    return statuses


def default_install_dir() -> Path:
    """The user data directory's ``models/``.

    Never the source tree or site-packages: those may be read-only, are shared by every user,
    and a reinstall of the package would delete the models.
    """
    return resources.user_models_dir()
