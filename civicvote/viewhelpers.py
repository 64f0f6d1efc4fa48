"""Small helpers shared by the organizer consoles' views."""

from collections.abc import Callable

from flask import flash, redirect

from .errors import DomainError
from .extensions import db


def run_console_action(perform: Callable[[], str | None], done_url: str):
    """Run one console POST: ``perform`` returns a success message, None when its form did not
    validate, or raises DomainError when the domain refuses.

    Returns ``(redirect, None)`` on success (the message flashed), else ``(None, status)`` for
    re-rendering the page with the refusal flashed (4xx) or the form's errors shown (422).
    """
    try:
        message = perform()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return None, error.status_code
    if message:
        flash(message, "success")
        return redirect(done_url), None
    return None, 422
