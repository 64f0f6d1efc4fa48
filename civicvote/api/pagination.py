"""Page through a query for the JSON API: ``?page=N&per_page=M`` (bounded)."""

from flask import request, url_for
from flask_babel import gettext as _

from ..errors import DomainError
from ..extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


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
    page = _positive_int("page", 1, 1_000_000)
    per_page = _positive_int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))
    pages = max(1, -(-total // per_page))
    body = {
        key: [serialize(item) for item in items],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
    }
    if page < pages:
        body["next"] = url_for(request.endpoint, page=page + 1, per_page=per_page, **url_values)
    return body


def paginate_list(items: list, key: str, serialize, **url_values) -> dict:
    """Like ``paginate`` for a list already filtered in Python (e.g. by a model property)."""
    page = _positive_int("page", 1, 1_000_000)
    per_page = _positive_int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    total = len(items)
    pages = max(1, -(-total // per_page))
    chosen = items[(page - 1) * per_page : page * per_page]
    body = {
        key: [serialize(item) for item in chosen],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
    }
    if page < pages:
        body["next"] = url_for(request.endpoint, page=page + 1, per_page=per_page, **url_values)
    return body
