"""Command line: `assistant ask|chat|listen|topics|bench|say|devices|models`. The only place
errors become messages and exit codes.

- `parser`: the commands and their options;
- `commands`: what each command does, `models`: the `models` commands;
- `output`: where answers go: printed, spoken, or written to a file.
"""

from __future__ import annotations

import logging
import sys

from ..errors import AssistantError
from .parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug also works after the command ("assistant listen --debug").
    debug = "--debug" in argv
    argv = [arg for arg in argv if arg != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
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
