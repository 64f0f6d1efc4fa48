"""Small helpers shared by the organizer consoles' views."""

from collections.abc import Callable

from flask import flash, redirect, request

from .errors import DomainError
from .extensions import db


def run_console_action(perform: Callable[[], str | None], done_url: str | Callable[[], str]):
    """Run one console POST: ``perform`` returns a success message, None when its form did not
    validate, or raises DomainError when the domain refuses.

    Returns ``(redirect, None)`` on success (the message flashed; ``done_url`` may be a function,
    called then), else ``(None, status)`` for re-rendering the page with the refusal flashed
    (4xx) or the form's errors shown (422).
    """
    try:
        message = perform()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return None, error.status_code
    if message:
        flash(message, "success")
        return redirect(done_url() if callable(done_url) else done_url), None
    return None, 422


def form_page_action(perform: Callable[[], str | None], done_url: str | Callable[[], str]):
    """:func:`run_console_action` for a page that shows its form on GET: ``(None, 200)`` then."""
    if request.method != "POST":
        return None, 200
    return run_console_action(perform, done_url)
