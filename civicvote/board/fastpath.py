"""A fast path in front of Flask for the board's live polls.

A thousand screens poll ``/c/<slug>/board/live`` every second. Within one snapshot of the board
the answer to a given request (same path, query, cookies and languages) is always the same, so
once Flask has produced it, this WSGI layer replays it: the body and headers of the 200, or a
304 when the poll already holds that ETag. It answers only while the snapshot Flask used is still
this worker's current one (same version, not expired); otherwise the request goes to Flask,
which refreshes the snapshot and the stored answer. Nothing but these polls is touched.
"""

import re
import threading
import time

from . import services

LIVE_PATH = re.compile(r"^/c/([^/]+)/board/live$")
MAX_ENTRIES = 500
ENVIRON_KEY = "civicvote.board.live"  # set by the view: (slug, version)


class LiveFastPath:
    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.answers: dict = {}
        self.lock = threading.Lock()

    @staticmethod
    def _key(environ) -> tuple:
        return (
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_COOKIE", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        )

    @staticmethod
    def _current_version(slug: str):
        entry = services._cache.get(("live", slug))
        if entry is None or entry[0] <= time.monotonic() or entry[1] is None:
            return None
        return entry[1][1]

    def __call__(self, environ, start_response):
        match = LIVE_PATH.match(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        key = self._key(environ)
        stored = self.answers.get(key)
        if stored is not None and stored[0] == self._current_version(match.group(1)):
            _version, etag, headers, body = stored
            if environ.get("HTTP_IF_NONE_MATCH") == etag:
                start_response(
                    "304 NOT MODIFIED",
                    [(k, v) for k, v in headers if k.lower() not in ("content-type",)],
                )
                return [b""]
            start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
            return [body]
        return self._through_flask(environ, start_response, key)

    def _through_flask(self, environ, start_response, key):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        served = environ.get(ENVIRON_KEY)
        if served is None or not captured.get("status", "").startswith("200"):
            return result
        headers = captured["headers"]
        if any(k.lower() == "set-cookie" for k, _ in headers):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        with self.lock:
            if len(self.answers) >= MAX_ENTRIES:
                self.answers.clear()
            self.answers[key] = (served[1], etag, kept, body)
        return [body]


def install(app) -> None:
    """Put the fast path in front of ``app`` (once)."""
    if not isinstance(app.wsgi_app, LiveFastPath):
        app.wsgi_app = LiveFastPath(app.wsgi_app)
