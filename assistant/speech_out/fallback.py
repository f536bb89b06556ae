"""The rule for speaking in a conversation, where every answer is also shown as text."""

from __future__ import annotations

from typing import Callable

from ..errors import AudioError, SpeechError


def speak_or_show(
    speak: Callable[[], None],
    stop: Callable[[], None],
    cannot_speak: Callable[[SpeechError | AudioError], None],
) -> bool:
    """Speak an answer; Ctrl-C silences it; on a speech error the conversation goes on as text.

    `speak` says the answer, `stop` silences it when Ctrl-C interrupts, and `cannot_speak` tells
    the user why speech failed. Returns False after such a failure: the caller speaks no more
    this session and shows answers as text only.
    """
    try:
        speak()
    except KeyboardInterrupt:
        # Ctrl-C silences the answer; the conversation goes on.
        stop()
    except (SpeechError, AudioError) as err:
        cannot_speak(err)
        return False
    return True
