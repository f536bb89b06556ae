"""The folder models are installed into, shared by every install into it.

- One install at a time: an install holds an advisory lock (``flock``) on ``.assistant-install.lock``
  in the folder for as long as it runs, so two installs never write the same ``NAME.zip.part`` or
  rename a model into the same place. A second install fails at once, naming the first, rather than
  waiting: the first may take many minutes (or be stalled on the network) and a silent wait looks
  like a hang; once the first is done, running the second again finds the model installed.
- Staging folders: an install unpacks into a hidden ``.installing-*`` folder. One that is there while
  nobody holds the lock was left by an install whose process is gone (killed, or the machine lost
  power); the next install, or `assistant models list`, removes it.

The lock file is deleted when the install ends; one left by a killed process is harmless, since the
kernel drops a dead process's locks.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ModelError

_LOGGER = logging.getLogger(__name__)

LOCK_NAME = ".assistant-install.lock"
STAGING_PREFIX = ".installing-"


def unwritable(folder: Path, err: OSError) -> ModelError:
    """The error for a folder an install cannot write into."""
    return ModelError(
        f"cannot write to '{folder}' ({err.strerror or err}); make it writable or choose another directory with --dir"
    )


def _try_lock(folder: Path, doing: str) -> int | None:
    """The descriptor of the folder's lock file, locked and naming `doing`; None when another holds it."""
    # fcntl exists on POSIX systems only; imported here so that finding and loading a model works anywhere.
    import fcntl

    path = folder / LOCK_NAME
    while True:
        # Not O_TRUNC: a process that fails to get the lock must not erase the holder's description.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        # The previous holder deletes the file when done; if it did so between our open and our lock,
        # we hold the lock on a deleted file that a third process would not see, so start again.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fd)
        if current is not None and (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"process {os.getpid()}, {doing}".encode(), 0)
            return fd
        os.close(fd)


def _unlock(folder: Path, fd: int) -> None:
    # Deleted while still locked, so that nobody can lock this file after we let go (see _try_lock).
    (folder / LOCK_NAME).unlink(missing_ok=True)
    os.close(fd)


def _holder(folder: Path) -> str:
    try:
        return (folder / LOCK_NAME).read_text(encoding="utf-8", errors="replace").strip() or "just starting"
    except FileNotFoundError:
        return "just finished"


@contextmanager
def claim(folder: Path, doing: str) -> Iterator[None]:
    """Hold `folder`'s install lock while the block runs, creating the folder when needed.

    `doing` says what this install does ("installing NAME from URL"); a second install is refused
    with a ModelError quoting it. Staging folders left by killed installs are removed first.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = _try_lock(folder, doing)
    except OSError as err:
        raise unwritable(folder, err) from err
    if fd is None:
        raise ModelError(
            f"another install into '{folder}' is running ({_holder(folder)}); "
            "wait for it to finish, then run this command again"
        )
    try:
        _remove_staging(folder)
        yield
    finally:
        _unlock(folder, fd)


def staging_dir(folder: Path) -> Path:
    """A new hidden staging folder inside `folder`, which the caller holds (see `claim`)."""
    try:
        return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    except OSError as err:
        raise unwritable(folder, err) from err


def _staging_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob(f"{STAGING_PREFIX}*") if p.is_dir())


def _remove_staging(folder: Path) -> None:
    """Remove every staging folder in `folder`; only call it holding the folder's lock."""
    for path in _staging_dirs(folder):
        _LOGGER.warning("removing '%s', left by an install that stopped before it finished", path)
        shutil.rmtree(path, ignore_errors=True)


def remove_stale_staging(folder: Path) -> None:
    """Remove staging folders left in `folder` by installs whose process is gone.

    Does nothing while an install into `folder` is running, or when `folder` is not writable
    (nothing could be removed from it anyway).
    """
    if not folder.is_dir() or not _staging_dirs(folder):
        return
    try:
        fd = _try_lock(folder, "removing staging folders left by an install that stopped")
    except OSError:
        return
    if fd is None:
        return
    try:
        _remove_staging(folder)
    finally:
        _unlock(folder, fd)
