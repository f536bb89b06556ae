"""Checksums: of a downloaded archive, and of every file of an installed model.

An install records the size and SHA-256 of each file of the model in a manifest inside the model
folder, ``.assistant-manifest.json``; `assistant models verify` compares the files with it, which
finds a file cut short or overwritten that the layout check (names, non-empty) lets through.

Manifest schema (JSON)::

    {"format": 1,
     "files": {"am/final.mdl": {"size": 600000, "sha256": "<64 hex digits>"}, ...}}

Paths are relative to the model folder, with "/" between parts; the manifest does not list itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

MANIFEST_NAME = ".assistant-manifest.json"
_FORMAT = 1


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at `path`, in lower-case hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _model_files(root: Path) -> list[str]:
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            rel = (Path(folder) / name).relative_to(root).as_posix()
            if rel != MANIFEST_NAME:
                found.append(rel)
    return sorted(found)


def write_manifest(root: Path) -> None:
    """Record the size and SHA-256 of every file under `root` in `root`'s manifest."""
    files = {
        rel: {"size": (root / rel).stat().st_size, "sha256": file_sha256(root / rel)} for rel in _model_files(root)
    }
    (root / MANIFEST_NAME).write_text(json.dumps({"format": _FORMAT, "files": files}, indent=1), encoding="utf-8")


def check_manifest(root: Path) -> tuple[str, ...] | None:
    """How the files under `root` differ from its manifest; None when it has no manifest.

    A model installed before manifests were recorded, or copied into place by hand, has none.
    """
    path = root / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        recorded = {rel: (int(f["size"]), str(f["sha256"])) for rel, f in files.items()}
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
        return (f"{MANIFEST_NAME} is unreadable ({err!r}); install the model again",)
    problems = []
    for rel, (size, sha256) in sorted(recorded.items()):
        file = root / rel
        if not file.is_file():
            problems.append(f"{rel} missing")
        elif (actual := file.stat().st_size) != size:
            problems.append(f"{rel} has {actual} bytes, {size} when installed")
        elif file_sha256(file) != sha256:
            problems.append(f"{rel} differs from the installed file (SHA-256 changed)")
    return tuple(problems)
