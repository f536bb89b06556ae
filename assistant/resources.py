"""Where the assistant's files live.

- Data that ships with it (the guide, the overlay, word lists, question sets, the model registry,
  the systemd service's template, the tones) is package data: the wheel carries the repository's
  ``intents/``, ``models/``, ``service/`` and ``sounds/`` as ``assistant/data/intents`` and so on.
  A source checkout (an editable install) reads the same folders at the top of the repository.
- The captions page's HTML, CSS and script live beside its server, in ``assistant/captions/``.
- The user's own files are in the platform's folders (on Linux, following XDG): the config file,
  a cache that can always be deleted, installed speech models, and the state the assistant keeps
  between runs (the rate and volume last asked for by voice).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import platformdirs

APP_NAME = "car-t-assistant"

_CHECKOUT = Path(__file__).resolve().parent.parent


def _data_folder(name: str) -> Path:
    packaged = resources.files(__package__) / "data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return _CHECKOUT / name


def intents_file(name: str) -> Path:
    """A file of the shipped ``intents/`` folder, such as "car-t-guide.txt" or "questions/dev.tsv"."""
    return _data_folder("intents") / name


def models_file(name: str) -> Path:
    """A file of the shipped ``models/`` folder: "registry.toml" (the downloadable speech models) or
    the settings of a bundled recognizer ("pocketsphinx.toml")."""
    return _data_folder("models") / name


def service_template() -> Path:
    """The template of the systemd user service that starts `assistant listen` at login."""
    return _data_folder("service") / "car-t-assistant.service"


def sounds_file(name: str) -> Path:
    """A file of the shipped ``sounds/`` folder: "tones.toml" (the tones of `listen`)."""
    return _data_folder("sounds") / name


def captions_file(name: str) -> Path:
    """A file of the captions page ("page.html", "page.css", "page.js"), shipped beside its server."""
    return Path(str(resources.files(f"{__package__}.captions") / name))


def registry_file() -> Path:
    """The registry of downloadable speech models."""
    return models_file("registry.toml")


def config_file() -> Path:
    """The user's config file (``~/.config/car-t-assistant/config.toml`` on Linux)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def cache_dir() -> Path:
    """Files the assistant can always make again (``~/.cache/car-t-assistant`` on Linux)."""
    return Path(platformdirs.user_cache_dir(APP_NAME))


def user_models_dir() -> Path:
    """Where `assistant models install` puts speech models (``~/.local/share/car-t-assistant/models``)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "models"


def state_file() -> Path:
    """What the assistant keeps between runs (``~/.local/state/car-t-assistant/voice.json``); not
    the config file, which is the user's to write."""
    return Path(platformdirs.user_state_dir(APP_NAME)) / "voice.json"


def systemd_user_dir() -> Path:
    """Where systemd looks for the user's own units (``~/.config/systemd/user``)."""
    return Path(platformdirs.user_config_dir()) / "systemd" / "user"
