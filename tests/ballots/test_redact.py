"""Personal-link tokens are kept out of the access logs of gunicorn and the development server."""

import logging
from datetime import timedelta

from civicvote.voting.redact import RedactingGunicornLogger, install_werkzeug_filter, redact


def test_redact_removes_the_token_from_paths_and_request_lines():
    assert redact("/v/SECRETTOKEN") == "/v/…"
    assert redact("GET /v/SECRET-123_x?a=1 HTTP/1.1") == "GET /v/…?a=1 HTTP/1.1"
    assert redact("/ballots/3/vote") == "/ballots/3/vote"


def test_werkzeug_request_log_is_redacted(caplog):
    install_werkzeug_filter()
    logger = logging.getLogger("werkzeug")
    disabled, logger.disabled = logger.disabled, False  # Alembic's fileConfig disables it
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            logger.info('%s - - [%s] "%s" %s -', "127.0.0.1", "now", "GET /v/SECRET HTTP/1.1", 302)
    finally:
        logger.disabled = disabled
    assert "SECRET" not in caplog.text and "/v/…" in caplog.text


def test_gunicorn_access_log_atoms_are_redacted():
    # atoms() reads only its arguments, so no configured instance is needed.
    logger = RedactingGunicornLogger.__new__(RedactingGunicornLogger)

    class Response:
        status = "302 FOUND"
        response_length = 0
        headers = ()
        sent = 0

    class Request:
        headers = ()

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/v/SECRET",
        "PATH_INFO": "/v/SECRET",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    atoms = logger.atoms(Response(), Request(), environ, timedelta(seconds=0.01))
    assert "SECRET" not in atoms["r"] and "SECRET" not in atoms["U"]
