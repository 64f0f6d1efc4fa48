"""Static files for slow phone networks: versioned, cached for a year, gzip-compressed.

A resident on 2G must not re-check every CSS file on every page (issue 18). Every
``url_for('static', filename=...)`` gets ``?v=<hash of the content>``; such an answer is
``immutable`` for a year, since a changed file gets a new URL. The files (a few tens of KB) are
read and gzipped once, in memory, when the app starts; a file changed on disk (development) is
read again. Without the right ``v`` an answer is ``no-cache`` with an ETag (304 when unchanged).
"""

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path
from wsgiref.headers import Headers

from .security import SECURITY_HEADERS

PREFIX = "/static/"
YEAR = 365 * 24 * 3600
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class StaticFile:
    mtime: float
    version: str
    content_type: str
    body: bytes
    gzipped: bytes | None


def _read(path: Path) -> StaticFile:
    body = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    gzipped = None
    if content_type.startswith(COMPRESSIBLE):
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
        if content_type.startswith("text/") or content_type == "application/javascript":
            content_type += "; charset=utf-8"
    version = hashlib.sha256(body).hexdigest()[:12]
    return StaticFile(path.stat().st_mtime, version, content_type, body, gzipped)


class StaticFiles:
    """The files under ``root`` by their path relative to it, read again when changed."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.files: dict[str, StaticFile] = {}
        self.lock = threading.Lock()

    def get(self, name: str) -> StaticFile | None:
        """The file ``name`` (``css/app.css``), or None if there is none under the root."""
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        known = self.files.get(name)
        if known is not None and known.mtime == path.stat().st_mtime:
            return known
        with self.lock:
            self.files[name] = fresh = _read(path)
        return fresh

    def version(self, name: str) -> str | None:
        """The content hash that goes into the file's URL."""
        found = self.get(name)
        return found.version if found else None


class StaticMiddleware:
    """Serves GET/HEAD under /static/ from :class:`StaticFiles`; passes everything else on."""

    def __init__(self, wsgi_app, files: StaticFiles):
        self.wsgi_app = wsgi_app
        self.files = files

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if not path.startswith(PREFIX) or method not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        found = self.files.get(path[len(PREFIX) :])
        if found is None:
            return self.wsgi_app(environ, start_response)  # Flask answers 404
        return self._serve(environ, start_response, found, method)

    @staticmethod
    def _serve(environ, start_response, found: StaticFile, method: str):
        versioned = f"v={found.version}" in environ.get("QUERY_STRING", "").split("&")
        headers = Headers(
            [
                *SECURITY_HEADERS,  # as on every answer Flask gives
                ("ETag", f'"{found.version}"'),
                ("Vary", "Accept-Encoding"),
                (
                    "Cache-Control",
                    f"public, max-age={YEAR}, immutable" if versioned else "no-cache",
                ),
            ]
        )
        if f'"{found.version}"' in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 Not Modified", headers.items())
            return [b""]
        body = found.body
        if found.gzipped and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            body = found.gzipped
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = found.content_type
        headers["Content-Length"] = str(len(body))
        start_response("200 OK", headers.items())
        return [b"" if method == "HEAD" else body]


def install(app) -> None:
    """Version every static URL the app builds and serve the files in front of Flask."""
    files = StaticFiles(app.static_folder)

    @app.url_defaults
    def add_version(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = files.version(values["filename"])
            if version:
                values["v"] = version

    app.wsgi_app = StaticMiddleware(app.wsgi_app, files)
