"""The read-only JSON API under /api/v1 (casting endpoints are added by the ballots area).

Every GET answer carries a strong ETag and honours If-None-Match (304), and is readable from any
origin (CORS), since it is open data.
"""

from flask import Blueprint, abort, make_response, request

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL


@bp.url_value_preprocessor
def bounded_ids(endpoint, values):
    """An id no row can have is simply not found (the database would refuse to compare it)."""
    if values and any(isinstance(v, int) and v > MAX_ID for v in values.values()):
        abort(404)


@bp.before_request
def preflight():
    """CORS preflight of the read-only endpoints: 204 with the allowed methods and headers."""
    if request.method == "OPTIONS":
        return make_response("", 204)
    return None


@bp.after_request
def open_data_headers(response):
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match, Content-Type"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
    if (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not response.direct_passthrough
    ):
        response.headers.setdefault("Cache-Control", "no-cache")
        response.add_etag()
        response.make_conditional(request)
    return response


from . import (  # noqa: E402, F401
    allocation,
    audit,
    ballots,
    communities,
    needs,
    openapi,
    projects,
    proposals,
    rounds,
)
