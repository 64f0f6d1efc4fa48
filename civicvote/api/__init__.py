"""The read-only JSON API under /api/v1 (casting endpoints are added by the ballots area)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import communities, needs, proposals, rounds  # noqa: E402, F401
