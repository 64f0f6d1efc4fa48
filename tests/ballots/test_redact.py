"""Card tokens and codes, receipts and tracking codes are kept out of every log line."""

import logging
from datetime import timedelta

import pytest

from civicvote.voting.redact import (
    RedactingFilter,
    RedactingGunicornLogger,
    install_log_redaction,
    redact,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/v/SECRETTOKEN", "/v/…"),
        ("GET /v/SECRET-123_x?a=1 HTTP/1.1", "GET /v/…?a=1 HTTP/1.1"),
        ("GET /api/v1/receipts/ABCD2345EF HTTP/1.1", "GET /api/v1/receipts/… HTTP/1.1"),
        ("/receipts?code=ABCD-2345&lang=en", "/receipts?code=…&lang=en"),
        ("/x?lang=en&Token=abc", "/x?lang=en&Token=…"),
        ("/needs/track/N7Q2", "/needs/track/…"),
        (
            'duplicate key "uq" DETAIL:  Key (receipt_code)=(ABCDEF) already exists.',
            'duplicate key "uq" DETAIL:  Key (receipt_code)=(…) already exists.',
        ),
        ("/ballots/3/vote", "/ballots/3/vote"),
        ("/lang/en", "/lang/en"),
    ],
)
def test_redact(line, expected):
    assert redact(line) == expected


def test_werkzeug_request_log_is_redacted(caplog):
    install_log_redaction()
    logger = logging.getLogger("werkzeug")
    disabled, logger.disabled = logger.disabled, False  # Alembic's fileConfig disables it
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            logger.info('%s - - [%s] "%s" %s -', "127.0.0.1", "now", "GET /v/SECRET HTTP/1.1", 302)
    finally:
        logger.disabled = disabled
    assert "SECRET" not in caplog.text and "/v/…" in caplog.text


def test_tracebacks_are_redacted_too():
    try:
        raise ValueError("no ballot for /v/SECRET")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "error on %s", ("/api/v1/receipts/RCPT",), True
        )
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "SECRET" not in text and "RCPT" not in text and "ValueError" in text


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
        "RAW_URI": "/v/SECRET?code=CODE",
        "PATH_INFO": "/v/SECRET",
        "QUERY_STRING": "code=CODE",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "http://x/v/SECRET",
    }
    atoms = logger.atoms(Response(), Request(), environ, timedelta(seconds=0.01))
    assert not any("SECRET" in str(v) or "CODE" in str(v) for v in atoms.values())
