"""Limits on failed attempts, applied directly on the application's rate-limit storage.

Flask-Limiter's decorator resolves its limits, checks exemptions and keeps per-request state on
every call; on the vote API, the busiest endpoint, that cost about as much CPU as casting the
vote. :class:`FailureLimit` counts failures under keys the caller chooses, with the storage and
strategy Flask-Limiter was configured with (Redis in production, so every worker sees the same
counts).

Credentials are limited *after* they are looked up, never per client address before: at an
assembly hundreds of phones share the hall's Wi-Fi or a carrier's NAT, and one address's
mistyped codes must not refuse the valid card of the next voter (:func:`refuse_credential`).
"""

import hashlib
import time
from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage

from .errors import DomainError
from .extensions import limiter


class TooManyAttempts(DomainError):
    """Too many failed attempts: 429, retry after ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, retry_after: int):
        super().__init__(
            _l("Too many attempts. Please wait a minute and try again."), code="too_many_requests"
        )
        self.retry_after = retry_after


@lru_cache(maxsize=64)
def _limits(text: str) -> tuple:
    return tuple(parse_many(text))


# When the shared storage (Redis) cannot be reached, failures are counted in this process's
# memory for this long before Redis is tried again: the limits still hold (per process, so as
# many times looser as there are server processes) and no vote or check-in fails for it.
FALLBACK_SECONDS = 30.0


class _Fallback:
    """One application's counting in its own process while the shared storage is away."""

    def __init__(self) -> None:
        self.until = 0.0  # time.monotonic() until which failures are counted here
        # The configured strategy on this process's memory, made at the first failure of the
        # shared storage: limits' MemoryStorage starts a timer thread, which a process whose
        # Redis never fails does not need.
        self.limiter = None


def _on_storage(call):
    """``call(rate_limiter)`` on the shared storage, or on this process's memory while the
    shared storage is unreachable."""
    fallback = current_app.extensions.get("civicvote.ratelimit_fallback")
    if fallback is None:
        fallback = current_app.extensions["civicvote.ratelimit_fallback"] = _Fallback()
    if time.monotonic() >= fallback.until:
        try:
            return call(limiter.limiter)
        except StorageError as error:
            current_app.logger.warning(
                "rate-limit storage unreachable, counting failures in this process for %s s: %s",
                FALLBACK_SECONDS,
                error.storage_error,
            )
            fallback.until = time.monotonic() + FALLBACK_SECONDS
            if fallback.limiter is None:
                fallback.limiter = type(limiter.limiter)(MemoryStorage())
    return call(fallback.limiter)


class FailureLimit:
    """Failures allowed per key within one ``scope``, as configured under ``config_key`` (for
    example "30 per minute"; several limits separated by ";")."""

    def __init__(self, scope: str, config_key: str, default: str):
        self.scope, self.config_key, self.default = scope, config_key, default

    def _checks(self, key: str):
        keys = (self.scope, key)
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
        if prefix:
            keys = (prefix, *keys)
        for item in _limits(current_app.config.get(self.config_key, self.default)):
            yield item, keys

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` has a failure left again, or None while it has one."""
        if not limiter.enabled:
            return None
        for item, keys in self._checks(key):
            if not _on_storage(lambda rate, item=item, keys=keys: rate.test(item, *keys)):
                reset_at, _remaining = _on_storage(
                    lambda rate, item=item, keys=keys: rate.get_window_stats(item, *keys)
                )
                return max(1, int(reset_at - time.time()))
        return None

    def check(self, key: str) -> None:
        """Raise TooManyAttempts if ``key`` has no failures left."""
        wait = self.retry_after(key)
        if wait is not None:
            raise TooManyAttempts(wait)

    def count_failure(self, key: str) -> None:
        """Count one failed attempt of ``key``."""
        if not limiter.enabled:
            return
        for item, keys in self._checks(key):
            _on_storage(lambda rate, item=item, keys=keys: rate.hit(item, *keys))


# The same card or code refused again and again (a phone retrying a mistyped code, a withdrawn
# card): that card or code only.
CODE_FAILURES = FailureLimit("credential.code", "RATELIMIT_CREDENTIAL", "10 per minute")
# All refused credentials of one ballot, from anywhere: bounds the answers a guesser gets per
# ballot and is logged for the organizers. Sized for a hall (a few hundred voters, some of whom
# mistype); a valid card is never refused by it.
BALLOT_FAILURES = FailureLimit(
    "credential.ballot", "RATELIMIT_CREDENTIAL_BALLOT", "600 per minute; 3000 per hour"
)


# The refusals of a card itself (credentials.check_usable, claim_credential); "not checked in"
# and the like refuse a valid card and are not failures.
CARD_REFUSALS = frozenset({"unknown", "revoked", "expired", "claimed"})


def _fingerprint(secret: str) -> str:
    # Keys in Redis never hold a credential in clear.
    return hashlib.sha256(("card-failure:" + (secret or "")).encode()).hexdigest()[:24]


def count_card_failure(ballot_key: str, secret: str) -> None:
    """Count one refused card or code (``secret``) of a ballot, or raise TooManyAttempts when
    that code or that ballot has used up its failures. ``ballot_key`` names the ballot ("link"
    for personal links, which name none)."""
    for limit, key in ((CODE_FAILURES, _fingerprint(secret)), (BALLOT_FAILURES, ballot_key)):
        wait = limit.retry_after(key)
        if wait is not None:
            if limit is BALLOT_FAILURES:
                current_app.logger.warning("ballot %s: too many refused credentials", ballot_key)
            raise TooManyAttempts(wait)
    CODE_FAILURES.count_failure(_fingerprint(secret))
    BALLOT_FAILURES.count_failure(ballot_key)


def refuse_credential(refusal: DomainError, ballot_key: str, secret: str) -> DomainError:
    """The error to raise for a credential that was looked up and refused with ``refusal``:
    429 when its code or ballot has used up its failures, else the refusal (counted).

    Only refused credentials reach this: a valid card was accepted before any limit was
    consulted, so no one else's mistakes can stop it.
    """
    if refusal.code not in CARD_REFUSALS:  # a valid card, refused for another reason
        return refusal
    try:
        count_card_failure(ballot_key, secret)
    except TooManyAttempts as limited:
        return limited
    return refusal
