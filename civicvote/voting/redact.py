"""Keep personal voting links out of logs: ``/v/<token>`` is logged as ``/v/…``.

gunicorn's access log (``civicvote serve`` passes ``--logger-class``) and the development
server's request log (``civicvote demo``) both go through these.
"""

import logging
import re

from gunicorn.glogging import Logger

SECRET_PATH = re.compile(r"/v/[^\s/?\"]+")


def redact(text: str) -> str:
    return SECRET_PATH.sub("/v/…", text)


class RedactingGunicornLogger(Logger):
    """gunicorn's logger with the token of personal links removed from every access-log atom."""

    def atoms(self, resp, req, environ, request_time):
        values = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(values.get(key), str):
                values[key] = redact(values[key])
        return values


class _WerkzeugFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if "/v/" in str(record.msg) or any("/v/" in str(arg) for arg in record.args or ()):
            record.msg = redact(record.getMessage())
            record.args = ()
        return True


def install_werkzeug_filter() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _WerkzeugFilter) for f in logger.filters):
        logger.addFilter(_WerkzeugFilter())
