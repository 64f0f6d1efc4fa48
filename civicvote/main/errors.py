"""Error pages: HTML for people, JSON for the API; never a trace."""

import time
from urllib.parse import urlsplit

from flask import jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_login.utils import login_url
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..extensions import db, limiter

MESSAGES = {
    400: lambda: _("The request could not be understood. Please go back and try again."),
    403: lambda: _("You do not have permission to see this page."),
    404: lambda: _("This page does not exist."),
    405: lambda: _("This action is not allowed here."),
    409: lambda: _("This conflicts with the current state. Please reload and try again."),
    413: lambda: _("The upload is too large."),
    422: lambda: _("The submitted data is not valid."),
    429: lambda: _("Too many attempts. Please wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Please try again."),
    503: lambda: _("The service is busy or restarting. Please try again in a moment."),
}
STORAGE_MESSAGES = {
    "full": lambda: _(
        "The server's storage is full: nothing was saved. Please tell the organizers; "
        "your vote or form can be sent again once they have made room."
    ),
    "readonly": lambda: _(
        "The server cannot save anything at the moment (its storage is read-only): nothing was "
        "saved. Please tell the organizers and try again later."
    ),
}


def storage_fault(error) -> str | None:
    """ "full" or "readonly" when the database refused a write for lack of space or rights."""
    orig = getattr(error, "orig", None)
    name = getattr(orig, "sqlite_errorname", "") or ""
    sqlstate = getattr(orig, "sqlstate", None)
    if name == "SQLITE_FULL" or sqlstate == "53100":  # PostgreSQL: disk_full
        return "full"
    if name.startswith("SQLITE_READONLY") or sqlstate == "25006":  # read_only_sql_transaction
        return "readonly"
    return None


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def error_response(status: int, message: str | None = None, code: str | None = None):
    """A response for ``status`` in the form the client asked for."""
    message = message or MESSAGES.get(status, MESSAGES[400])()
    if wants_json():
        response = jsonify({"error": code or str(status), "message": message})
    else:
        response = make_response(
            render_template("errors/error.html", status=status, message=message)
        )
    response.status_code = status
    return response


def login_needed():
    """Flask-Login's answer to an anonymous request for a page that needs a login.

    A page is sent to the login form (coming back afterwards, ``next``); a script asking for
    JSON (the check-in desk's queue) gets 401 JSON it can act on, rather than a redirect it
    would follow to a login page answering 200 HTML."""
    if wants_json():
        return error_response(
            401, _("Your login has ended. Please log in again."), "login_required"
        )
    return redirect(login_url("accounts.login", next_url=_page_to_return_to()))


def _page_to_return_to() -> str:
    """Where the login form sends the person back to. A form sent after the login ended (the
    desk without JavaScript) returns to the page the form was on, not to its POST-only address,
    which the browser would then open with GET."""
    if request.method in ("GET", "HEAD"):
        return request.url
    referrer = request.referrer
    if referrer and urlsplit(referrer).netloc == request.host:
        return referrer
    return url_for("accounts.console")


def register(app) -> None:
    """Answer every error in the form the client asked for (page or JSON), never with a trace."""
    _register_request_errors(app)
    _register_server_errors(app)


def _register_request_errors(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if request.blueprint == "voting" and not request.cookies and not wants_json():
            # A resident's browser that keeps no cookies: say what to do, not "expired".
            return render_template("voting/no_cookies.html"), 400
        return error_response(
            400, _("The form has expired or was not sent from this site. Please try again."), "csrf"
        )

    @app.errorhandler(DomainError)
    def domain_error(error):
        db.session.rollback()
        response = error_response(error.status_code, str(error.message), error.code)
        if getattr(error, "retry_after", None):  # ratelimit.TooManyAttempts
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error):
        response = error_response(429, None, "too_many_requests")
        breached = limiter.current_limit  # the limit that refused this request
        if breached is not None:
            response.headers["Retry-After"] = str(max(1, breached.reset_at - int(time.time())))
        return response

    @app.errorhandler(HTTPException)
    def http_error(error):
        return error_response(error.code or 500, None, error.name.lower().replace(" ", "_"))


def _register_server_errors(app) -> None:
    def _rollback_quietly() -> None:
        try:
            db.session.rollback()
        except Exception:  # the connection may be gone too; the pool replaces it
            db.session.remove()

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PendingRollbackError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error):
        # A lost or restarting database, or one that cannot write (disk full, read-only):
        # a clear, retryable answer rather than a trace. Nothing of the request was committed.
        _rollback_quietly()
        fault = storage_fault(error)
        if fault:
            app.logger.error("database cannot write (%s): %s", fault, getattr(error, "orig", error))
            status = 507 if fault == "full" else 503
            response = error_response(status, STORAGE_MESSAGES[fault](), f"storage_{fault}")
            response.headers["Retry-After"] = "60"
            return response
        app.logger.warning("database unavailable: %s", getattr(error, "orig", error))
        response = error_response(503, code="unavailable")
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(DBAPIError)
    def database_error(error):
        # Other driver errors count as "unavailable" only when the connection itself was lost.
        if error.connection_invalidated:
            return database_unavailable(error)
        return unexpected(error)

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error")
        db.session.rollback()
        return error_response(500, None, "internal")
