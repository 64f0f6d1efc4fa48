"""Keep voter cards, receipts and tracking codes out of every log line.

A log line pairs what it holds with the client's address and the time: a card token or code
there lets whoever reads the logs vote (or prove who voted when), a receipt code links a client
to its counted ballot. So these are replaced by ``…`` wherever they could appear:

* paths that carry one: ``/v/<token>`` (the card's QR link), ``/api/v1/receipts/<code>``,
  ``/needs/track/<code>`` (a resident's need);
* query parameters named ``code``, ``token``, ``credential``, ``receipt``, ``key``
  (``/receipts?code=…``, the desk's scans);
* a database error's ``Key (column)=(value)`` detail (a receipt code in a unique violation).
  SQL parameters are never written (the engine is made with ``hide_parameters``: config.py).

gunicorn's access and error logs (``civicvote serve`` sets ``logger_class``), the application's
own log (Flask's handler) and the development server's request log (``civicvote demo``) all go
through :func:`redact`.
"""

import logging
import re

from gunicorn.glogging import Logger

_PATTERNS = (
    (re.compile(r"(/v/)[^\s/?#\"']+"), r"\1…"),
    (re.compile(r"(/api/v1/receipts/)[^\s/?#\"']+"), r"\1…"),
    (re.compile(r"(/needs/track/)[^\s/?#\"']+"), r"\1…"),
    (
        re.compile(
            r"((?:^|[?&;\s])(?:code|token|credential|receipt|key)=)[^\s&;#\"']*", re.IGNORECASE
        ),
        r"\1…",
    ),
    (re.compile(r"(Key \([^)]*\)=\()[^)]*(\))"), r"\1…\2"),
)


def redact(text: str) -> str:
    """``text`` with every card token, code, receipt and tracking code replaced by ``…``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and its traceback) through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record is left to the formatter
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install(handler: logging.Handler) -> None:
    """Put the redacting filter on ``handler`` (once)."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())


class RedactingGunicornLogger(Logger):
    """gunicorn's logger with secrets removed from every access-log atom and error-log line."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                install(handler)

    def atoms(self, resp, req, environ, request_time):
        values = super().atoms(resp, req, environ, request_time)
        for key, value in values.items():
            if isinstance(value, str):
                values[key] = redact(value)
        return values


def install_log_redaction() -> None:
    """Redact the application's log (Flask's handler and the root's) and the development
    server's request log (records of the ``werkzeug`` logger)."""
    from flask.logging import default_handler

    install(default_handler)
    for handler in logging.getLogger().handlers:
        install(handler)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug.filters):
        werkzeug.addFilter(RedactingFilter())
