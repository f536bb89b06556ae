"""The large-print captions page: what was heard and what was answered, for a bedside screen.

Served on 127.0.0.1 only, from the page's own HTML, CSS and script (package data beside the
server); it loads nothing from anywhere else.
"""

from .server import KEPT, CaptionsPage, Exchange

__all__ = ["KEPT", "CaptionsPage", "Exchange"]
