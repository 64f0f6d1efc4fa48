"""Domain errors raised by services and state rules; views turn them into 4xx responses."""

from flask_babel import lazy_ngettext


class DomainError(Exception):
    """A request the domain refuses. ``message`` is already translated (or lazily translatable)."""

    status_code = 422

    def __init__(self, message, *, code: str = "invalid"):
        super().__init__(str(message))
        self.message = message
        self.code = code


class InvalidTransition(DomainError):
    """A state change that the object's state machine does not allow."""

    status_code = 409


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


def too_long(limit: int, *, code: str = "invalid") -> DomainError:
    """The error for a text over ``limit`` characters: one wording everywhere."""
    return DomainError(
        lazy_ngettext(
            "This text is too long (at most %(num)d character).",
            "This text is too long (at most %(num)d characters).",
            limit,
        ),
        code=code,
    )
