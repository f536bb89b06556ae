"""Installing a speech model: unpacking an archive or copying a folder, and placing it.

A model is unpacked (or copied) into a hidden staging directory beside the destination and
renamed into place only once complete, so an interrupted or failed install never leaves a half model.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

from ..errors import ModelError
from .download import Progress, archive_problem, download
from .layout import inspect_model
from .locate import default_install_dir
from .registry import SAFE_NAME, Registry, load_registry

_LOGGER = logging.getLogger(__name__)


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
        raise layout.error(
            f"'{source}'",
            "nothing was installed. Use an official model archive from https://alphacephei.com/vosk/models",
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
    if not SAFE_NAME.fullmatch(name):
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
        raise layout.error(f"'{source}'", "nothing was installed")
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
        problem = archive_problem(source, entry.size, entry.sha256)
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
