"""Fewer malloc arenas, set from inside the process so that it holds however the assistant starts.

glibc gives each thread that allocates at once an arena of its own, up to eight per core, and keeps
what they free. The hands-free loop runs many short-lived threads (capture, recognition, speech,
the "stop" listener), so its resident memory crept up all through a 55-minute soak with the
default (23.8 MB an hour). With two arenas, set here, an hour-long soak grew 2.5 MB from its
third minute to its end (a trend of 1.6 MB an hour, 0.6 in the second half). The environment
variable MALLOC_ARENA_MAX does the same, but only for a process started with it; a person running
`assistant listen` at a terminal does not set it.
"""

from __future__ import annotations

import ctypes
import logging
import os

_LOGGER = logging.getLogger(__name__)

ARENAS = 2
_M_ARENA_MAX = -8
"""mallopt's parameter number for the arena limit, from glibc's malloc.h."""


def fewer_malloc_arenas() -> bool:
    """Limit glibc to ARENAS malloc arenas, unless MALLOC_ARENA_MAX already says how many.

    True when the limit was set here. Elsewhere than on glibc (musl, macOS) nothing changes.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        _LOGGER.debug("no mallopt in this C library: malloc arenas left as they are")
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success.
    return mallopt(_M_ARENA_MAX, ARENAS) == 1
