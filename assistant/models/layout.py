"""Verifying speech models: whether a folder holds what Vosk needs to load it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from .registry import Registry


@dataclass(frozen=True)
class ModelLayout:
    """What a directory holds, judged by the files a Vosk model needs to load."""

    path: Path
    """The directory inspected."""
    problems: tuple[str, ...]
    """Why Vosk could not load it; empty for a complete model."""
    graph: str | None
    """"static" (graph/HCLG.fst), "lookahead" (graph/HCLr.fst + graph/Gr.fst) or None when missing."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def runtime_grammar(self) -> bool:
        """Vosk composes a run-time grammar only with a lookahead graph; a static HCLG ignores it."""
        return self.graph == "lookahead"

    def error(self, given: str, fix: str) -> ModelError:
        """The error for an incomplete model: `given` names what the user gave, `fix` says what to do."""
        return ModelError(f"{given} is not a usable Vosk model ({'; '.join(self.problems)}); {fix}")

    def to_dict(self) -> dict:
        return {
            "name": self.path.name,
            "path": str(self.path),
            "ok": self.ok,
            "problems": list(self.problems),
            "graph": self.graph,
            "runtime_grammar": self.runtime_grammar,
        }


_IVECTOR_FILES = ("final.dubm", "final.mat", "global_cmvn.stats", "online_cmvn.conf", "splice.conf")


def inspect_model(path: Path) -> ModelLayout:
    """Check `path` against the layout Vosk loads (am/, conf/, graph/, optional ivector/).

    Mirrors what the Vosk library requires of a model directory: the acoustic model
    am/final.mdl, the decoder options conf/model.conf, a feature config (conf/mfcc.conf or
    conf/fbank.conf), and a graph: graph/HCLG.fst, or graph/HCLr.fst + graph/Gr.fst +
    graph/disambig_tid.int. When an i-vector extractor (ivector/final.ie) is present its
    companion files must be too. Required files must not be empty (a sign of a cut-off copy).
    """
    path = Path(path)
    if not path.is_dir():
        reason = "does not exist" if not path.exists() else "is not a directory"
        return ModelLayout(path, (f"'{path}' {reason}",), None)
    problems: list[str] = []

    def present(rel: str) -> bool:
        return (path / rel).is_file()

    def require(*rels: str) -> None:
        for rel in rels:
            if not present(rel):
                problems.append(f"{rel} missing")
            elif (path / rel).stat().st_size == 0:
                problems.append(f"{rel} is empty")

    require("am/final.mdl", "conf/model.conf")
    if not (present("conf/mfcc.conf") or present("conf/fbank.conf")):
        problems.append("feature config missing (conf/mfcc.conf or conf/fbank.conf)")
    graph: str | None = None
    # Vosk prefers HCLG.fst when both kinds of graph are present, so check it first too.
    if present("graph/HCLG.fst"):
        graph = "static"
        require("graph/HCLG.fst")
    elif present("graph/HCLr.fst") or present("graph/Gr.fst"):
        graph = "lookahead"
        require("graph/HCLr.fst", "graph/Gr.fst", "graph/disambig_tid.int")
    else:
        problems.append("decoding graph missing (graph/HCLG.fst, or graph/HCLr.fst + graph/Gr.fst)")
    if present("ivector/final.ie"):
        require(*(f"ivector/{name}" for name in _IVECTOR_FILES))
    return ModelLayout(path, tuple(problems), graph)


# locate.py checks the models it finds with the function above; the one below needs locate.py in
# turn, so it imports it when called (at the top of the module the import would be circular).


def usable_layout(path: Path, source: str = "model", registry: Registry | None = None) -> ModelLayout:
    """The layout of a model folder, or ModelError naming what is missing and the fix."""
    layout = inspect_model(path)
    if not layout.ok:
        from .locate import install_hint

        raise layout.error(
            f"{source} '{path}'", f"give the directory that holds am/, conf/ and graph/, or {install_hint(registry)}"
        )
    return layout
