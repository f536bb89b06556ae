"""The `models` commands: list, install and verify speech models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import InputError
from .help import add_command


def add_models_command(commands: argparse._SubParsersAction) -> None:
    models = add_command(
        commands, "models", "list, install and check speech models",
        "assistant models list", "assistant models install --from /media/usb/vosk-model-small-en-us-0.15.zip",
    )
    models.set_defaults(run=lambda _args: models.print_help() or 2)
    actions = models.add_subparsers(title="actions", metavar="ACTION", help="what to do with the models")

    listing = add_command(actions, "list", "known models and where they are installed", "assistant models list --json")
    listing.add_argument("--json", action="store_true", help="one JSON object per model")
    listing.set_defaults(run=_run_models_list)

    install = add_command(
        actions, "install", "download a known model (the only command that uses the network), or copy one --from a file",
        "assistant models install vosk-model-small-en-us-0.15",
        "assistant models install --from /media/usb/vosk-model-small-en-us-0.15.zip",
    )
    install.add_argument("name", nargs="?", metavar="NAME", help="a model from `assistant models list`")
    install.add_argument(
        "--from", dest="source", type=Path, metavar="ZIP_OR_DIR", help="install from a local .zip or model folder"
    )
    install.add_argument("--name", dest="new_name", metavar="NAME", help="directory name for a model installed --from")
    install.add_argument("--dir", type=Path, metavar="DIR",
                         help="install into this directory (default: ~/.local/share/car-t-assistant/models)")
    install.add_argument("--force", action="store_true", help="replace a model already installed under that name")
    install.set_defaults(run=_run_models_install)

    verify = add_command(
        actions, "verify", "check that installed models are complete and unchanged since they were installed",
        "assistant models verify", "assistant models verify vosk-model-small-en-us-0.15",
    )
    verify.add_argument("name", nargs="?", metavar="NAME_OR_PATH", help="one model (default: every installed one)")
    verify.add_argument("--json", action="store_true", help="one JSON object per model")
    verify.set_defaults(run=_run_models_verify)


def _run_models_list(args: argparse.Namespace) -> int:
    from ..models import list_models

    for status in list_models():
        if args.json:
            print(json.dumps(status.to_dict(), ensure_ascii=False))
            continue
        entry = status.entry
        facts = []
        if entry:
            facts = [entry.language, f"{entry.size / 1e6:.1f} MB download" if entry.size else "size unknown"]
        if entry and entry.runtime_grammar:
            facts.append("runtime grammar")
        where = f"installed in {status.path}" if status.path else "not installed"
        label = f"{status.name} (default)" if status.default else status.name
        print(f"{label}: {', '.join(facts + [where])}")
    return 0


def _run_models_install(args: argparse.Namespace) -> int:
    from ..models import TextProgress, install_from, install_model

    if bool(args.name) == bool(args.source):
        raise InputError("give either a model NAME or --from ZIP_OR_DIR; `assistant models list` shows the names")
    if args.source:
        path = install_from(args.source, args.dir, name=args.new_name, force=args.force)
    else:
        if args.new_name:
            raise InputError("--name is for --from; a downloaded model keeps its registry name")
        progress = TextProgress(args.name)
        try:
            path = install_model(args.name, args.dir, force=args.force, progress=progress)
        finally:
            progress.close()
    print(f"installed {path.name} in {path}")
    return 0


def _run_models_verify(args: argparse.Namespace) -> int:
    from ..models import verify_models

    checks = verify_models(args.name)
    for check in checks:
        if args.json:
            print(json.dumps(check.to_dict(), ensure_ascii=False))
            continue
        if not check.checksums:
            how = "layout only: no checksums were recorded, as it was placed by hand or installed by an older version"
        elif check.ok:
            how = "files match the checksums recorded at install"
        else:
            how = "checked against the checksums recorded at install"
        if check.ok:
            grammar = (
                "accepts a runtime grammar" if check.layout.runtime_grammar else "no runtime grammar (static graph)"
            )
            print(f"ok: {check.path} ({grammar}; {how})")
        else:
            print(f"problems: {check.path}: {'; '.join(check.problems)} ({how})")
    return 0 if all(check.ok for check in checks) else 1
