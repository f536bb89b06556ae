"""Command line: `assistant ask|chat|listen|topics|bench|say|devices|config|models|service`. The
only place errors become messages and exit codes.

- `parser`: the commands and their options, `help`: how they present themselves in --help;
- `commands`: what each command does, `models`: the `models` commands, `service`: the `service`
  commands (starting `listen` at login);
- `output`: where answers go: printed, spoken, or written to a file;
- `streams`: stdin, stdout and arguments that survive bytes not in the locale's encoding, `memory`:
  fewer malloc arenas, so that a long session's memory stays level.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
from typing import TextIO

from ..errors import AssistantError
from .memory import fewer_malloc_arenas
from .parser import build_parser
from .streams import forgive_bad_bytes

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    forgive_bad_bytes()
    fewer_malloc_arenas()
    try:
        status = _run(argv)
        # Output still in the buffer is written here, where a closed pipe can still be caught
        # (stdout is None when the command was started with it closed).
        if sys.stdout is not None:
            sys.stdout.flush()
        return status
    except BrokenPipeError:
        if not _reader_gone(sys.stdout):
            raise
        # The reader of the output has stopped (`assistant topics | head -1`): end quietly, as a
        # command killed by SIGPIPE does, with stdout on devnull so that exit flushes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except AssistantError as err:
        print(f"assistant: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


def _reader_gone(stream: TextIO) -> bool:
    """Whether `stream` is a pipe or socket whose other end has closed; a broken pipe elsewhere
    (to a player process, say) is a fault to report, not the end of the output."""
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLERR)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False
