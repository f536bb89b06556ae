"""`assistant service install|remove`: a systemd user service that starts `assistant listen` at login.

The unit is the shipped template (``resources.service_template()``) with the command that runs this
very installation of the assistant, so that it starts the same code and Python the install was
made with, whether from a virtual environment, pipx or a system package.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import ServiceError
from ..resources import service_template, systemd_user_dir
from .help import add_command

UNIT = "car-t-assistant.service"
"""The unit's file name, and its name for systemctl and journalctl."""
_PLACEHOLDER = "@EXEC_START@"


def add_service_command(commands: argparse._SubParsersAction) -> None:
    service = add_command(
        commands, "service", "start listening at login, as a systemd user service",
        "assistant service install", "assistant service remove",
    )  # fmt: skip
    service.set_defaults(run=lambda _args: service.print_help() or 2)
    actions = service.add_subparsers(title="actions", metavar="ACTION", help="what to do with the service")

    install = add_command(
        actions, "install", "install and enable the service that runs 'assistant listen' from login, restarts "
        "it on failure and logs to the journal",
        "assistant service install", "assistant --config /etc/car-t-assistant.toml service install",
        "assistant service install --print",
        notes="The service runs 'assistant listen' with the settings of the config file; --config, --guide\n"
        "and --overlay given here are passed on to it. Without a user systemd (a container, an SSH\n"
        "session without a login), the unit is written and the commands that enable it are shown.",
    )  # fmt: skip
    install.add_argument("--print", dest="print_only", action="store_true",
                         help="show the unit that would be installed, and change nothing")  # fmt: skip
    install.set_defaults(run=_run_install)

    remove = add_command(
        actions, "remove", "stop and remove the service", "assistant service remove",
    )  # fmt: skip
    remove.set_defaults(run=_run_remove)


def unit_path() -> Path:
    """Where the unit is installed: the user's own units folder (``~/.config/systemd/user``)."""
    return systemd_user_dir() / UNIT


def render_unit(args: argparse.Namespace) -> str:
    """The unit's text: the template with the command that runs `listen` with this installation."""
    entry = Path(sys.executable).absolute().parent / "assistant"
    # The console script beside this interpreter is this installation's own; `python -m assistant`
    # is the same program when there is none (run from a checkout, say).
    command = [str(entry)] if os.access(entry, os.X_OK) else [str(Path(sys.executable).absolute()), "-m", "assistant"]
    for option in ("config", "guide", "overlay"):
        value = getattr(args, option, None)
        if value is not None:
            command += [f"--{option}", str(Path(value).expanduser().absolute())]
    command.append("listen")
    return service_template().read_text(encoding="utf-8").replace(_PLACEHOLDER, " ".join(map(_systemd_quote, command)))


def _systemd_quote(word: str) -> str:
    """A word of ExecStart as systemd reads it: % and $ would be specifiers and variables."""
    word = word.replace("%", "%%").replace("$", "$$")
    if word and not any(c.isspace() or c in "\"'\\;" for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def user_systemd() -> bool:
    """Whether a systemd user manager answers here (not in most containers, nor in an SSH
    session of a user who is not logged in)."""
    if shutil.which("systemctl") is None:
        return False
    try:
        result = subprocess.run(["systemctl", "--user", "show-environment"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _systemctl(*words: str) -> None:
    try:
        result = subprocess.run(["systemctl", "--user", *words], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ServiceError(f"'systemctl --user {' '.join(words)}' failed: {err}; run it yourself to see why") from None
    if result.returncode != 0:
        why = result.stderr.strip() or f"exit status {result.returncode}"
        raise ServiceError(f"'systemctl --user {' '.join(words)}' failed: {why}; run it yourself to see why")


def _run_install(args: argparse.Namespace) -> int:
    text = render_unit(args)
    if args.print_only:
        print(f"# {unit_path()}")
        print(text, end="")
        return 0
    path = unit_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{UNIT}.new")
        staged.write_text(text, encoding="utf-8")
        # Renamed into place: systemd never reads half a unit.
        os.replace(staged, path)
    except OSError as err:
        raise ServiceError(
            f"cannot write the service to '{path}': {err.strerror or err}; check that the folder is yours and writable"
        ) from None
    print(f"wrote {path}")
    if not user_systemd():
        print("no systemd user manager answers here; in a login session of this user, run:\n"
              f"  systemctl --user daemon-reload && systemctl --user enable {UNIT}")  # fmt: skip
        return 0
    _systemctl("daemon-reload")
    _systemctl("enable", UNIT)
    print(f"enabled: it starts at login. Start it now with 'systemctl --user start {UNIT}'; "
          f"its log: 'journalctl --user -u {UNIT}'")  # fmt: skip
    return 0


def _run_remove(args: argparse.Namespace) -> int:
    path = unit_path()
    # `enable` links the unit into default.target.wants; without systemctl that link is removed by hand.
    link = path.parent / "default.target.wants" / UNIT
    if not path.exists() and not link.is_symlink():
        print(f"no service installed at {path}")
        return 0
    reachable = user_systemd()
    if reachable:
        _systemctl("disable", "--now", UNIT)
    for file in (link, path):
        try:
            file.unlink(missing_ok=True)
        except OSError as err:
            raise ServiceError(f"cannot remove '{file}': {err.strerror or err}; remove it by hand") from None
    print(f"removed {path}")
    if reachable:
        _systemctl("daemon-reload")
    return 0
