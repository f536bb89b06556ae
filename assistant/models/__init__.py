"""Speech models: the registry of known models, finding an installed one, and installing one.

- `registry`: the models the assistant knows how to download (shipped as package data);
- `layout`: whether a folder holds a model Vosk can load;
- `locate`: where models live and which one to use;
- `download`: the resumable download of a model archive;
- `folder`: the folder installs go to: one install at a time, and what a killed install left;
- `install`: unpacking or copying a model into place;
- `checksums`: the checksums of a download, and of an installed model's files;
- `verify`: checking an installed model's layout and checksums.

Nothing here touches the network except `install_model`, which only the explicit
`assistant models install NAME` command calls. Every other path works offline.

A model is found, in this order (`find_model`):

1. an explicitly given path (`--model PATH`);
2. the path in the environment variable ``ASSISTANT_VOSK_MODEL``;
3. a model directory inside the user data directory (``platformdirs.user_data_dir("car-t-assistant")/models``,
   `resources.user_models_dir`);
4. a model directory where Vosk's own tools put them: inside ``$VOSK_MODEL_PATH``, then ``~/.cache/vosk``.

Installs go to the directory given with ``--dir``, else to the user data directory; never into the
source tree or site-packages. They are unpacked into a hidden staging directory beside the
destination and renamed into place only once complete, so an interrupted or failed install never
leaves a half model; one install runs at a time per folder, and each records the size and SHA-256
of every file of the model in ``.assistant-manifest.json`` inside it for `verify_models`.
"""

from .download import TextProgress
from .install import install_from, install_model
from .layout import inspect_model, usable_layout
from .locate import ENV_VAR, default_install_dir, find_model, install_hint, list_models, model_search_path
from .registry import Registry, load_registry
from .verify import verify_models

__all__ = [
    "ENV_VAR",
    "Registry",
    "TextProgress",
    "default_install_dir",
    "find_model",
    "inspect_model",
    "install_from",
    "install_hint",
    "install_model",
    "list_models",
    "load_registry",
    "model_search_path",
    "usable_layout",
    "verify_models",
]
