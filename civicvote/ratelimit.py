"""A limit on failed attempts, applied directly on the application's rate-limit storage.

Flask-Limiter's decorator resolves its limits, checks exemptions and keeps per-request state on
every call; on the vote API, the busiest endpoint, that cost about as much CPU as casting the
vote. :class:`FailureLimit` applies the same rule as ``@limiter.limit(..., deduct_when=...)``:
an address that has used up its failures is refused (429 with Retry-After) before anything is
looked up, and each failure counts. It uses the storage and strategy Flask-Limiter was configured
with (Redis in production, so every worker sees the same counts) and the same keys.
"""

import time
from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from limits import parse_many

from .errors import DomainError
from .extensions import limiter


class TooManyAttempts(DomainError):
    """Too many failed attempts from this address: 429, retry after ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, retry_after: int):
        super().__init__(
            _l("Too many attempts. Please wait a minute and try again."), code="too_many_requests"
        )
        self.retry_after = retry_after


@lru_cache(maxsize=64)
def _limits(text: str) -> tuple:
    return tuple(parse_many(text))


class FailureLimit:
    """Failures allowed per client address on one endpoint (``scope``), as configured under
    ``config_key`` (for example "30 per minute"; several limits separated by ";")."""

    def __init__(self, scope: str, config_key: str, default: str):
        self.scope, self.config_key, self.default = scope, config_key, default

    def _checks(self, address: str | None):
        keys = (address or get_remote_address(), self.scope)
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
        if prefix:
            keys = (prefix, *keys)
        for item in _limits(current_app.config.get(self.config_key, self.default)):
            yield item, keys

    def check(self, address: str | None = None) -> None:
        """Raise TooManyAttempts if this address (by default the request's) has no failures
        left."""
        if not limiter.enabled:
            return
        for item, keys in self._checks(address):
            if not limiter.limiter.test(item, *keys):
                reset_at, _remaining = limiter.limiter.get_window_stats(item, *keys)
                raise TooManyAttempts(max(1, int(reset_at - time.time())))

    def count_failure(self, address: str | None = None) -> None:
        """Count one failed attempt of this address (by default the request's)."""
        if not limiter.enabled:
            return
        for item, keys in self._checks(address):
            limiter.limiter.hit(item, *keys)
