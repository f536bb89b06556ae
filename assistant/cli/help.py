"""How commands present themselves in --help: a one-line description, examples, and defaults."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks, and shows an option's default where argparse holds a real
    one (options whose default comes from the config file say so in their own help)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            action.option_strings
            and "default" not in text
            and action.default not in (None, False, True, argparse.SUPPRESS)
        ):
            text += " (default: %(default)s)"
        return text


def add_command(
    commands: argparse._SubParsersAction, name: str, summary: str, *examples: str, notes: str = ""
) -> argparse.ArgumentParser:
    """A command with `summary` as its one-line description and `examples` (command lines) as
    its epilog, after `notes` when given."""
    epilog = f"{notes}\n\n" if notes else ""
    epilog += ("examples:\n" if len(examples) > 1 else "example:\n") + "\n".join(f"  {line}" for line in examples)
    return commands.add_parser(
        name, help=summary, description=summary[0].upper() + summary[1:] + ".", epilog=epilog,
        formatter_class=HelpFormatter,
    )  # fmt: skip


def subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command's parser under `parser`, at any depth (`models install` too)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += [sub, *subcommands(sub)]
    return found
