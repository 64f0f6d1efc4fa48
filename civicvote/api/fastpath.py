"""A fast path in front of Flask for votes cast through the JSON API.

At an assembly hundreds of phones vote in the same minute. Flask's request machinery (URL
routing, request and response objects, every extension's per-request hooks) cost more server CPU
than checking and storing the vote itself. This WSGI layer casts a vote whose body it can read
(a JSON body with a Content-Length within the limit) with the very steps of the view
(:func:`.ballots.cast_from_api`: body checks, ``cast_vote``, limits on refusals) and answers a
cast vote itself, with the view's status, body and headers. A refused or failed vote goes on
to Flask with its body and the refusal, and the view raises that refusal, so every error is
answered by the application's error handlers as before (translated, logged, Retry-After);
nothing is decided twice. Every other request, and a body it cannot read, is Flask's alone.
"""

import io
import json
import re

from ..security import fixed_security_headers
from . import MAX_ID
from .ballots import MAX_VOTE_BODY, REFUSAL_KEY, cast_from_api, parse_body

VOTE_PATH = re.compile(r"^/api/v1/ballots/([1-9][0-9]{0,9})/votes$")
STATUS = {True: "201 CREATED", False: "200 OK"}


class VoteFastPath:
    """Installed by app.register_middleware, which first checks that it stands in for the view
    ENDPOINT: the same route (SAMPLE is a set of its arguments) and METHOD."""

    ENDPOINT = "api.vote"
    METHOD = "POST"
    SAMPLE = {"ballot_id": 12345}

    def __init__(self, app, wsgi_app):
        self.app = app  # for its application context (database, configuration)
        self.wsgi_app = wsgi_app

    @staticmethod
    def route_arguments(path: str) -> dict | None:
        """The view's arguments if this fast path takes ``path``, else None."""
        match = VOTE_PATH.match(path)
        return {"ballot_id": int(match.group(1))} if match else None

    def __call__(self, environ, start_response):
        arguments = self.route_arguments(environ.get("PATH_INFO", ""))
        if (
            arguments is None
            or environ.get("REQUEST_METHOD") != self.METHOD
            or arguments["ballot_id"] > MAX_ID  # Flask answers 404 (see the api blueprint)
            or environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
            != "application/json"
        ):
            return self.wsgi_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return self.wsgi_app(environ, start_response)
        if not 0 < length <= MAX_VOTE_BODY:
            return self.wsgi_app(environ, start_response)
        data = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(data)  # Flask reads it again if the vote goes on
        with self.app.app_context():
            try:
                result = cast_from_api(arguments["ballot_id"], parse_body(data))
            except Exception as refusal:  # answered by the view, re-raised there
                environ[REFUSAL_KEY] = refusal
                result = None
        if result is None:
            return self.wsgi_app(environ, start_response)
        answer = json.dumps({"receipt": result.receipt}, separators=(",", ":")).encode() + b"\n"
        start_response(
            STATUS[result.created],
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(answer))),
                *fixed_security_headers(self.app.config),
            ],
        )
        return [answer]
