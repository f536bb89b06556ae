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
    """One JSON object per reply instead of the answer's text."""
    speak: bool
    """Speak the answers (turned off when speech turns out impossible)."""
    output_device: str | int | None = None
    """The speaker: part of its name or its number; None for the system's default."""
    out: Path | None = None
    """Write each spoken answer to this WAV file instead of playing it."""
    numbered: bool = False
    """Several answers are written: each to its own file, `out` numbered (answer-1.wav, answer-2.wav)."""
    _speaker: object | None = None
    _stack: ExitStack | None = None

    def __enter__(self) -> Output:
        self._stack = ExitStack()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._stack:
            self._stack.close()

    def show(self, reply: Reply, session: Session, transcript: str | None = None, number: int = 1) -> None:
        """Print a reply, then speak it or write it to a file; `number` counts the replies (from 1),
        for the file's name when they are numbered."""
        if self.json:
            print(reply.to_json(transcript), flush=True)
        elif reply.answer:
            print(reply.answer, flush=True)
        if self.out and reply.answer:
            self._write(reply, session, numbered_path(self.out, number) if self.numbered else self.out)
        elif self.speak and reply.answer:
            self.say(reply.answer, session)

    def say(self, text: str, session: Session) -> None:
        """Speak text, until done or stopped by any key or Ctrl-C; when speech is impossible, say why
        once and go on with text only."""
        from ..keyboard import stop_on_key
        from ..speech_out import speak_or_show

        def stop() -> None:
            if self._speaker:
                self._speaker.stop()

        def cannot_speak(err: Exception) -> None:
            print(f"assistant: cannot speak: {err}. Showing answers as text only.", file=sys.stderr)

        def speak() -> None:
            speaker = self._open_speaker()
            with stop_on_key(speaker.stop):
                speaker.speak(text, session.voice)

        if not speak_or_show(speak, stop, cannot_speak):
            self.speak = False

    def _open_speaker(self):
        if self._speaker is None:
            from ..speech_out import Speaker  # speech engines load only when something is spoken

            self._speaker = self._stack.enter_context(Speaker(self.output_device))
        return self._speaker

    def _write(self, reply: Reply, session: Session, path: Path) -> None:
        from ..audio import write_wav
        from ..speech_out import Speaker

        sound = Speaker(self.output_device).synthesize(reply.answer, session.voice)
        write_wav(path, sound.samples, sound.rate)
        _LOGGER.info("answer written to %s (%.1f s)", path, sound.duration)


def numbered_path(path: Path, number: int) -> Path:
    """`path` with a number before its suffix: answer.wav, 2 -> answer-2.wav."""
    return path.with_name(f"{path.stem}-{number}{path.suffix}")
