"""The home page and the language switcher."""

from flask import current_app, redirect, render_template, request, url_for

from ..communities.services import list_communities
from ..i18n import LOCALE_COOKIE
from . import bp


@bp.get("/")
def index():
    return render_template("main/index.html", communities=list_communities())


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the visitor's language; a link, so it works without JavaScript."""
    target = request.args.get("next", "")
    # Only same-site paths: never an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LOCALE_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],  # like every cookie of ours
        )
    return response


@bp.get("/healthz")
def healthz():
    """A trivial endpoint for load balancers and for the load benchmark's baseline."""
    return {"status": "ok"}
