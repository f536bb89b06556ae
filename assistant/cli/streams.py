"""The standard streams and arguments, made safe for bytes that are not text in the locale's encoding.

Python decodes stdin strictly under most UTF-8 locales, and keeps a bad byte of an argument as a
lone surrogate that no print or speech engine can encode: one stray byte would end the session
with a traceback and lose every answer after it. Here such a byte costs one character (U+FFFD).
"""

from __future__ import annotations

import io
import re
import sys

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def forgive_bad_bytes() -> None:
    """Decode stdin and encode stdout and stderr with replacement instead of failing."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        # Only real text streams: None when a descriptor is closed, something else under a test runner.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


def readable(text: str) -> str:
    """An argument with its undecodable bytes (kept by Python as lone surrogates) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)
