"""A tiny web server for the captions page, on 127.0.0.1 only, in background threads.

The page asks `/captions.json` every half second for the status line and the last exchanges; it
adds the ones it has not shown yet to a live region, which a screen reader reads out.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import CaptionsError
from ..resources import captions_file

_LOGGER = logging.getLogger(__name__)

HOST = "127.0.0.1"
"""The page is for a screen beside the bed, never for the network."""
KEPT = 5
"""How many exchanges the page keeps."""

# The page's files, with their types; nothing else is served but the captions themselves.
_FILES = {
    "/": ("page.html", "text/html; charset=utf-8"),
    "/page.css": ("page.css", "text/css; charset=utf-8"),
    "/page.js": ("page.js", "text/javascript; charset=utf-8"),
}
_CAPTIONS_PATH = "/captions.json"
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Even a page changed by mistake could load nothing from elsewhere.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}


@dataclass(frozen=True)
class Exchange:
    """One caption of the page: what was heard and what was answered."""

    number: int
    """Counts the exchanges from 1, so that the page adds only those it has not shown yet."""
    heard: str | None
    """What was heard; None for what the assistant said by itself (the greeting)."""
    answer: str
    """What was answered."""
    urgent: bool = False
    """The answer is urgent advice for a red-flag symptom."""


class CaptionsPage:
    """The captions page served on 127.0.0.1; `publish` and `status` update it from any thread.

    Use as a context manager: the server starts on entry and stops on exit.
    """

    def __init__(self, port: int = 0, kept: int = KEPT) -> None:
        self.port = port
        """The port asked for; 0 takes any free one, and `port` is the one taken once started."""
        self._exchanges: deque[Exchange] = deque(maxlen=kept)
        self._status = ""
        self._count = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def __enter__(self) -> CaptionsPage:
        files = {path: (captions_file(name).read_bytes(), kind) for path, (name, kind) in _FILES.items()}
        try:
            self._server = ThreadingHTTPServer((HOST, self.port), _handler(self, files))
        except OSError as err:
            raise CaptionsError(
                f"cannot serve the captions page on {HOST}:{self.port}: {err.strerror or err}; "
                "give another port with --captions-page, or 0 for any free one"
            ) from None
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="captions-page", daemon=True)
        self._thread.start()
        _LOGGER.info("captions page at %s", self.url)
        return self

    def __exit__(self, *exc_info: object) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def publish(self, heard: str | None, answer: str, urgent: bool = False) -> Exchange:
        """Add an exchange; the oldest beyond the kept few drops off the page."""
        with self._lock:
            self._count += 1
            exchange = Exchange(self._count, heard, answer, urgent)
            self._exchanges.append(exchange)
        return exchange

    def status(self, text: str) -> None:
        """Set the line that says what the assistant is doing ("Listening.")."""
        with self._lock:
            self._status = text

    def snapshot(self) -> dict:
        """What `/captions.json` answers: the status line and the kept exchanges, oldest first."""
        with self._lock:
            return {"status": self._status, "exchanges": [asdict(e) for e in self._exchanges]}


def _handler(page: CaptionsPage, files: dict[str, tuple[bytes, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "assistant-captions"
        sys_version = ""

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            # Another site's page could reach this one by giving its own name the address
            # 127.0.0.1 (DNS rebinding); only requests that name this machine are answered.
            host = self.headers.get("Host", "")
            if host not in (f"{HOST}:{page.port}", f"localhost:{page.port}"):
                self._send(HTTPStatus.FORBIDDEN, b"only for this machine\n", "text/plain; charset=utf-8")
                return
            path = self.path.split("?", 1)[0]
            if path == _CAPTIONS_PATH:
                body = json.dumps(page.snapshot(), ensure_ascii=False).encode("utf-8")
                self._send(HTTPStatus.OK, body, "application/json; charset=utf-8")
            elif path in files:
                self._send(HTTPStatus.OK, *files[path])
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

        def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in _HEADERS.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
            # http.server writes each request to stderr, where the captions of the terminal are read.
            _LOGGER.debug("captions page: " + format, *args)

    return Handler
