"""Speech output: an answer's text made for listening, synthesized sentence by sentence, and played.

The text is split into sentences; each is respelled with the pronunciation lexicon
(intents/pronunciation.yaml, `assistant.lexicon`) and synthesized by pyttsx3 (eSpeak NG on
Linux, `pyttsx3_engine`) or Piper (`piper_engine`). The `speaker` synthesizes ahead while the
player plays what is ready; `speak_or_show` is how a conversation speaks its answers.
"""

from ..knowledge import split_sentences
from .fallback import speak_or_show
from .piper_engine import PiperEngine, piper_voice_file
from .pyttsx3_engine import Pyttsx3Engine
from .speaker import Speaker

__all__ = ["PiperEngine", "Pyttsx3Engine", "Speaker", "piper_voice_file", "speak_or_show", "split_sentences"]
