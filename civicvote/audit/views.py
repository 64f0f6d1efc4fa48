"""The audit log: every entry for administrators, public actions for everyone."""

from flask import abort, render_template, request

from ..communities.services import get_community, list_communities
from ..extensions import db
from ..security import admin_required
from . import bp
from .services import search_events

PAGE_SIZE = 100


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _events(query):
    page = _page()
    rows = list(db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
    return rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE


@bp.get("/admin/audit")
@admin_required
def admin_log():
    filters = {key: request.args.get(key, "")[:60] for key in ("action", "actor", "object_type")}
    community = request.args.get("community", "")
    community_id = int(community) if community.isdigit() else None
    events, page, more = _events(search_events(community_id=community_id, **filters))
    return render_template(
        "audit/admin.html",
        events=events,
        page=page,
        more=more,
        filters=filters,
        community_id=community_id,
        communities=list_communities(),
    )


@bp.get("/c/<slug>/log")
def public_log(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    events, page, more = _events(search_events(community_id=community.id, public_only=True))
    return render_template(
        "audit/public.html", community=community, events=events, page=page, more=more
    )
