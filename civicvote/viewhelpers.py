"""The one way a view runs a service: try it; on a domain error roll back and show the message.

Services commit (or roll back) themselves and views never commit (tests/foundation/
test_transactions.py); a service that refuses raises :class:`~civicvote.errors.DomainError`.
:func:`try_service` is the view's side of that convention; :func:`run_console_action` and
:func:`form_page_action` build the usual console POST (flash, then redirect or re-render) on it.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import flash, redirect, request

from .errors import DomainError
from .extensions import db

T = TypeVar("T")


def try_service(call: Callable[[], T], *, field=None) -> tuple[T | None, int | None]:
    """Run ``call`` (a service call); return ``(its result, None)``.

    On a DomainError the session is rolled back, the message is shown (added to the errors of
    the form ``field`` when one is given, else flashed as an error) and ``(None, status)`` is
    returned with the error's 4xx status, for the view to re-render or redirect.
    """
    try:
        return call(), None
    except DomainError as error:
        db.session.rollback()
        if field is not None:
            field.errors = [*field.errors, str(error.message)]  # a tuple until validated
        else:
            flash(str(error.message), "error")
        return None, error.status_code


def run_console_action(perform: Callable[[], str | None], done_url: str | Callable[[], str]):
    """Run one console POST: ``perform`` returns a success message, None when its form did not
    validate, or raises DomainError when the domain refuses.

    Returns ``(redirect, None)`` on success (the message flashed; ``done_url`` may be a function,
    called then), else ``(None, status)`` for re-rendering the page with the refusal flashed
    (4xx) or the form's errors shown (422).
    """
    message, refused = try_service(perform)
    if refused:
        return None, refused
    if message:
        flash(message, "success")
        return redirect(done_url() if callable(done_url) else done_url), None
    return None, 422


def form_page_action(perform: Callable[[], str | None], done_url: str | Callable[[], str]):
    """:func:`run_console_action` for a page that shows its form on GET: ``(None, 200)`` then."""
    if request.method != "POST":
        return None, 200
    return run_console_action(perform, done_url)
