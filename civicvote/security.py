"""Security headers and the community-scoped access rule for organizer views."""

from functools import wraps

from flask import abort, g, request
from flask_login import current_user, login_required

from .communities.models import Community
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


def set_security_headers(response):
    """Applied to every response (and sent by the vote API's fast path)."""
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    if request.path.startswith(("/console", "/admin", "/login")):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


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
