"""Downloading a model archive over HTTP(S), resumable through a ``.part`` file, with a progress bar.

The only network code of the assistant; only `assistant models install NAME` reaches it.
"""

from __future__ import annotations

import http.client
import logging
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from .. import __version__
from ..errors import ModelError
from ..resources import APP_NAME
from .checksums import file_sha256
from .folder import unwritable

_LOGGER = logging.getLogger(__name__)

_CHUNK = 256 * 1024

Progress = Callable[[int, "int | None"], None]
"""Called with (bytes done, total bytes or None) while downloading."""


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


def archive_problem(path: Path, size: int | None, sha256: str | None) -> str | None:
    """Why the archive at `path` is not the expected one, or None when it matches."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        return f"it has {actual_size} bytes, expected {size}"
    if sha256 is not None and (actual_sha256 := file_sha256(path)) != sha256:
        return f"its SHA-256 is {actual_sha256}, expected {sha256}"
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
    problem = archive_problem(part, size, sha256)
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
        done = _receive(response, part, mode, have, total, url, progress)
    if expected is not None and done < expected:
        raise ModelError(
            f"download of {url} stopped at {done} of {expected} bytes; run the same command again to resume"
        )


def _receive(
    response: http.client.HTTPResponse,
    part: Path,
    mode: str,
    done: int,
    total: int | None,
    url: str,
    progress: Progress,
) -> int:
    """Write the body of `response` to `part` (mode "wb" or "ab"); returns the bytes `part` then holds.

    A fault of the network and a fault of the local disk get different messages: the first is
    fixed by running again, the second by making room or choosing another folder first.
    """
    try:
        # Unbuffered: a full disk is reported by the write that meets it, and closing the file has
        # nothing left to write that could fail a second time.
        out = part.open(mode, buffering=0)
    except OSError as err:
        raise unwritable(part.parent, err) from err
    with out:
        while True:
            try:
                chunk = response.read(_CHUNK)
            except (OSError, http.client.HTTPException) as err:
                raise ModelError(
                    f"download of {url} stopped at {done} bytes ({err!r}); run the same command again to resume"
                ) from err
            if not chunk:
                return done
            try:
                _write_all(out, chunk)
            except OSError as err:
                raise ModelError(
                    f"cannot write '{part}' after {done} bytes ({err.strerror or err}); free some space or "
                    "choose another directory with --dir, then run the command again to resume"
                ) from err
            done += len(chunk)
            progress(done, total)


def _write_all(out: BinaryIO, data: bytes) -> None:
    # An unbuffered write may take only part of the data (the last bytes that fit on a disk).
    view = memoryview(data)
    while view:
        view = view[out.write(view) :]
