"""Speech-in stage: 16 kHz mono speech in, partial and final text out.

Two recognizer engines share one small streaming interface (`Recognizer`):

* Vosk (Kaldi) with an English model the user installs; small models accept a runtime
  grammar built from the domain phrases, which steers them toward the guide's vocabulary.
* PocketSphinx, whose wheel carries a US English acoustic model and dictionary, so it works on
  a fresh machine. It gets a trigram model of the domain phrases, built here, that backs off to
  general English words; words missing from its dictionary get pronunciations from eSpeak NG.

A domain-constrained recognizer tends to hear everything as domain words. Each transcript
therefore carries the engine's confidence and the share of its content words that belong to
the domain vocabulary (`Transcript.in_domain`), and Vosk, whose grammar cannot back off to
general English, can add what a second pass without the grammar heard (`Transcript.open_text`),
for the caller to judge what was really asked.

The room holds:

* `transcript.py`: `Word`, `Transcript`, the `Recognizer` interface and `FUNCTION_WORDS`;
* `pronounce.py`: ARPAbet pronunciations from eSpeak NG, and short words spelled out;
* `language_model.py`: the ARPA builder and the PocketSphinx domain model with its dictionary;
* `pocketsphinx_engine.py` and `vosk_engine.py`: the two engines;
* `factory.py`: `make_recognizer`, the one place that picks an engine.

How recognizers split text into words is `text.spoken_words`. When the user has stopped
talking is decided in `endpoint.py`.
"""

from .factory import ENGINES, make_recognizer
from .language_model import GENERAL_WEIGHT, GENERAL_WORDS, build_arpa
from .pocketsphinx_engine import PocketSphinxRecognizer
from .pronounce import espeak_pronunciations, ipa_to_arpabet
from .transcript import FUNCTION_WORDS, Recognizer, Transcript, Word
from .vosk_engine import VoskRecognizer

__all__ = [
    "ENGINES",
    "FUNCTION_WORDS",
    "GENERAL_WEIGHT",
    "GENERAL_WORDS",
    "PocketSphinxRecognizer",
    "Recognizer",
    "Transcript",
    "VoskRecognizer",
    "Word",
    "build_arpa",
    "espeak_pronunciations",
    "ipa_to_arpabet",
    "make_recognizer",
]
