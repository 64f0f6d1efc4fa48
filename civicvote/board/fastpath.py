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

from . import services

LIVE_PATH = re.compile(r"^/c/([^/]+)/board/live$")
MAX_ENTRIES = 500
ENVIRON_KEY = "civicvote.board.live"  # set by the view: (slug, version)


class LiveFastPath:
    """Installed by app.register_middleware, which first checks that it stands in for the view
    ENDPOINT: the same route (SAMPLE is a set of its arguments) and METHOD."""

    ENDPOINT = "board.live"
    METHOD = "GET"
    SAMPLE = {"slug": "a-community"}

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.answers: dict = {}
        self.lock = threading.Lock()

    @staticmethod
    def route_arguments(path: str) -> dict | None:
        """The view's arguments if this fast path takes ``path``, else None."""
        match = LIVE_PATH.match(path)
        return {"slug": match.group(1)} if match else None

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
        """The version of this worker's current snapshot of the board (None if none is)."""
        state = services.fresh_value(services.live_key(slug))
        return state[1] if state is not None else None

    def __call__(self, environ, start_response):
        arguments = self.route_arguments(environ.get("PATH_INFO", ""))
        if arguments is None or environ.get("REQUEST_METHOD") != self.METHOD:
            return self.wsgi_app(environ, start_response)
        key = self._key(environ)
        stored = self.answers.get(key)
        if stored is not None and stored[0] == self._current_version(arguments["slug"]):
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
