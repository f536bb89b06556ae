"""Where the command line's answers go: printed as text or JSON lines, spoken, or written to a file."""

from __future__ import annotations

import logging
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..dialogue import Reply, Session

_LOGGER = logging.getLogger(__name__)


@dataclass
class Output:
    """Where replies go: printed as text or JSON lines, and spoken unless told not to."""

    json: bool
    speak: bool
    output_device: str | None = None
    out: Path | None = None
    _speaker: object | None = None
    _stack: ExitStack | None = None

    def __enter__(self) -> Output:
        self._stack = ExitStack()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._stack:
            self._stack.close()

    def show(self, reply: Reply, session: Session, transcript: str | None = None) -> None:
        if self.json:
            print(reply.to_json(transcript), flush=True)
        elif reply.answer:
            print(reply.answer, flush=True)
        if self.out and reply.answer:
            self._write(reply, session)
        elif self.speak and reply.answer:
            self.say(reply.answer, session)

    def say(self, text: str, session: Session) -> None:
        """Speak text; when speech is impossible, say why once and go on with text only."""
        from ..speech_out import speak_or_show

        def stop() -> None:
            if self._speaker:
                self._speaker.stop()

        def cannot_speak(err: Exception) -> None:
            print(f"assistant: cannot speak: {err}. Showing answers as text only.", file=sys.stderr)

        if not speak_or_show(lambda: self._open_speaker().speak(text, session.voice), stop, cannot_speak):
            self.speak = False

    def _open_speaker(self):
        if self._speaker is None:
            from ..speech_out import Speaker  # speech engines load only when something is spoken

            self._speaker = self._stack.enter_context(Speaker(self.output_device))
        return self._speaker

    def _write(self, reply: Reply, session: Session) -> None:
        from ..audio import write_wav
        from ..speech_out import Speaker

        sound = Speaker(self.output_device).synthesize(reply.answer, session.voice)
        write_wav(self.out, sound.samples, sound.rate)
        _LOGGER.info("answer written to %s (%.1f s)", self.out, sound.duration)
