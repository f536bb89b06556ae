"""Any key stops an answer: the terminal is read key by key while an answer plays.

Shared by `listen` and by the typed conversations (`chat`, and `listen` without a microphone).
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading
from typing import Callable

_LOGGER = logging.getLogger(__name__)

_POLL_SECONDS = 0.05


class stop_on_key:
    """While the block runs, the first key pressed calls `stop` (the key is not echoed).

    Keys pressed meanwhile are thrown away when the block ends, so that the key that stopped an
    answer (or a second one, or the rest of an arrow key's escape sequence) does not begin the
    next question. Does nothing when stdin is not a terminal.
    """

    def __init__(self, stop: Callable[[], None]) -> None:
        self.stop = stop
        self._done = threading.Event()
        self._saved = None
        self._thread: threading.Thread | None = None
        self._fd = -1

    def __enter__(self) -> stop_on_key:
        if sys.stdin is None or not sys.stdin.isatty():
            return self
        import termios
        import tty

        self._fd = sys.stdin.fileno()
        try:
            self._saved = termios.tcgetattr(self._fd)
            tty.setcbreak(self._fd)
        except termios.error as err:
            _LOGGER.debug("terminal not switched to key by key: %s", err)
            self._saved = None
            return self
        self._thread = threading.Thread(target=self._watch, name="stop-on-key", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        if self._thread is not None:
            # Joined before the terminal is restored, so that the watcher takes no byte of the next line.
            self._thread.join(timeout=1.0)
        if self._saved is not None:
            import termios

            # TCSAFLUSH: what was typed during the answer is dropped, not handed to the next input().
            termios.tcsetattr(self._fd, termios.TCSAFLUSH, self._saved)

    def _watch(self) -> None:
        while not self._done.is_set():
            ready, _, _ = select.select([self._fd], [], [], _POLL_SECONDS)
            if ready and not self._done.is_set():
                os.read(self._fd, 1)
                _LOGGER.info("a key was pressed: stopping")
                self.stop()
                return
