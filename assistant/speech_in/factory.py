"""Choosing a speech recognizer engine: the one place that decides between Vosk and PocketSphinx."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from ..errors import InputError, ModelError
from ..settings import RECOGNIZER_ENGINES as ENGINES
from .pocketsphinx_engine import PocketSphinxRecognizer
from .transcript import Recognizer
from .vosk_engine import VoskRecognizer

_LOGGER = logging.getLogger(__name__)


def make_recognizer(
    engine: str = "auto",
    phrases: Sequence[str] = (),
    model_path: str | Path | None = None,
    open_vocabulary: bool = False,
    answers: Sequence[str] = (),
) -> Recognizer:
    """The recognizer for an engine name: "vosk", "pocketsphinx", or "auto".

    "auto" takes Vosk when an English Vosk model is installed (or `model_path` names one) and
    PocketSphinx otherwise, saying once how to install the better model. A Vosk recognizer with
    a grammar also runs the open pass (`Transcript.open_text`); PocketSphinx needs none, as its
    domain model already backs off to general English. `answers`: the yes and no phrases among
    `phrases`, which PocketSphinx leans towards after a question back (`Recognizer.expect_answer`).
    """
    from ..lexicon import lexicon_respellings
    from ..models import find_model, install_hint

    if engine not in ENGINES:
        raise InputError(f"unknown speech recognizer {engine!r}; use one of: {', '.join(ENGINES)}")
    if engine != "pocketsphinx":
        path = find_model(model_path)
        if path is not None:
            return VoskRecognizer(path, phrases, open_vocabulary=open_vocabulary, open_pass=True)
        if engine == "vosk":
            raise ModelError(f"no English Vosk model is installed; {install_hint()}")
        _LOGGER.info("recognizing speech with PocketSphinx; for better recognition %s", install_hint())
    return PocketSphinxRecognizer(phrases, open_vocabulary=open_vocabulary, respellings=lexicon_respellings(), answers=answers)
