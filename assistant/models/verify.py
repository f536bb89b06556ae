"""`assistant models verify`: an installed model's layout, and its files against the checksums of its install."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from .checksums import check_manifest
from .layout import ModelLayout, inspect_model
from .locate import install_hint, installed_models, model_search_path


@dataclass(frozen=True)
class ModelCheck:
    """What verifying one model found."""

    layout: ModelLayout
    """The files Vosk needs, judged by their names and that they are not empty."""
    damaged: tuple[str, ...] | None
    """How the files differ from the checksums recorded at install; None when none were recorded
    (a model installed before they were, or placed by hand), so only the layout was checked."""

    @property
    def path(self) -> Path:
        return self.layout.path

    @property
    def checksums(self) -> bool:
        """Whether the files were checked against recorded checksums, not only by layout."""
        return self.damaged is not None

    @property
    def problems(self) -> tuple[str, ...]:
        # A file gone from a checked model is "missing" to both checks; say it once.
        return self.layout.problems + tuple(p for p in self.damaged or () if p not in self.layout.problems)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            **self.layout.to_dict(),
            "ok": self.ok,
            "problems": list(self.problems),
            "checked": "checksums" if self.checksums else "layout",
        }


def verify_model(path: Path) -> ModelCheck:
    """Check the model at `path`: its layout, and its files against its manifest when it has one."""
    layout = inspect_model(path)
    return ModelCheck(layout, check_manifest(path) if path.is_dir() else None)


def verify_models(name: str | Path | None = None) -> list[ModelCheck]:
    """Check the model called or located at `name`, or every installed model when None."""
    if name is None:
        paths = installed_models()
        if not paths:
            raise ModelError(f"no speech model is installed; {install_hint()}")
    elif Path(name).expanduser().exists() or os.sep in str(name):
        paths = [Path(name).expanduser()]
    else:
        paths = [p for p in installed_models() if p.name == name][:1]
        if not paths:
            places = ", ".join(f"'{p}'" for p in model_search_path()) or "nowhere"
            raise ModelError(f"no installed model named {name!r} (searched {places}); give its path or install it")
    return [verify_model(p) for p in paths]
