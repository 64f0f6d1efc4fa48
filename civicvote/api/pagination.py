"""Page through a query for the JSON API: ``?page=N&per_page=M`` (bounded).

Flask-SQLAlchemy's ``db.paginate`` runs the page and the count. The parameters are checked here
first: a bad value answers 422 with our message (``error_out`` would answer 404 instead).
"""

from flask import request, url_for
from flask_babel import gettext as _

from ..errors import DomainError
from ..extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000


def _positive_int(name: str, default: int, upper: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= upper:
        raise DomainError(
            _("%(name)s must be a whole number from 1 to %(max)d.", name=name, max=upper),
            code="bad_pagination",
        )
    return int(raw)


def paginate(query, key: str, serialize, **url_values) -> dict:
    """Run ``query`` one page at a time; the items go under ``key`` with paging metadata."""
    page = db.paginate(
        query,
        page=_positive_int("page", 1, MAX_PAGE),
        per_page=_positive_int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
        max_per_page=MAX_PER_PAGE,
        error_out=False,
    )
    body = {
        key: [serialize(item) for item in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": max(1, page.pages),  # an empty list is one empty page
    }
    if page.has_next:
        body["next"] = url_for(
            request.endpoint, page=page.next_num, per_page=page.per_page, **url_values
        )
    return body
