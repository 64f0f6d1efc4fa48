"""Security headers, the refusal of control characters in any input, and the
community-scoped access rule for organizer views."""

import json
import re
from functools import wraps

from flask import abort, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .communities.models import Community
from .errors import DomainError
from .extensions import db

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "geolocation=(), microphone=()"),
)


# Pages whose answers are the signed-in user's own: never kept by a cache or the browser.
PRIVATE_PREFIXES = ("/console", "/admin", "/login", "/account", "/logout")
HSTS = "max-age=31536000; includeSubDomains"


def fixed_security_headers(config) -> tuple:
    """The headers every answer carries under ``config`` (the vote's fast path sends these)."""
    if config.get("SESSION_COOKIE_SECURE"):
        return (*SECURITY_HEADERS, ("Strict-Transport-Security", HSTS))
    return SECURITY_HEADERS


def set_security_headers(response):
    """Applied to every response (and sent by the vote API's fast path)."""
    # Secure cookies mean the site is served over HTTPS only: browsers learn it (HSTS).
    for name, value in fixed_security_headers(current_app.config):
        response.headers.setdefault(name, value)
    if request.path.startswith(PRIVATE_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------- control characters

# C0 and C1 control characters and DEL, except tab, line feed and carriage return. PostgreSQL
# refuses a NUL in text (the request would end in a 500) and SQLite stores it silently; none of
# them belongs in anything a person types.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_JSON_CHECKED = 1024 * 1024  # larger bodies are refused by their views anyway
MAX_JSON_DEPTH = 64


class ControlCharacters(DomainError):
    """Input carrying control characters: 400, before any view reads it."""

    status_code = 400

    def __init__(self):
        super().__init__(
            _l("The request contains control characters (such as a NUL byte). Please remove them."),
            code="control_characters",
        )


def _json_texts(value, depth: int = 0):
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_texts(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _json_texts(item, depth + 1)


def _request_texts():
    yield request.path
    for source in (request.args, request.form):
        for name, values in source.lists():
            yield name
            yield from values
    for name, upload in request.files.items(multi=True):
        yield name
        yield upload.filename or ""
    if request.is_json and (request.content_length or 0) <= MAX_JSON_CHECKED:
        try:
            body = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):
            return  # the view refuses what is not JSON, with its own message
        yield from _json_texts(body)


def refuse_control_characters() -> None:
    """Before every request: refuse (400, translated) control characters anywhere in the path,
    the query, the form (names, values and file names) or a JSON body, so that none reaches the
    database or a page. Tab, line feed and carriage return are text (multi-line fields)."""
    for text in _request_texts():
        if isinstance(text, str) and CONTROL_CHARACTERS.search(text):
            raise ControlCharacters()


def private_page(response):
    """A blueprint's after_request for pages reached through personal voting links and the
    consoles beside them: the address (which may carry a secret) never goes to other sites,
    and no copy is kept in caches or the browser's history."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def community_required(*roles: str):
    """Guard an organizer view taking ``slug``: log in, then hold one of ``roles`` there
    (any role at all when none is named).

    The view receives the loaded ``community`` instead of the slug. Anonymous users are sent to
    the login page; users without a role in that community get 403.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, slug: str, **kwargs):
            community = db.session.scalar(db.select(Community).filter_by(slug=slug))
            if community is None:
                abort(404)
            if not current_user.has_role(community.id, *roles):
                abort(403)
            g.community = community
            return view(*args, community=community, **kwargs)

        return wrapped

    return decorator


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
