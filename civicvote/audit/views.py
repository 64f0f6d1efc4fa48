"""The audit log: every entry for administrators, public actions for everyone, the signed heads
and the public key that checks them."""

from flask import abort, make_response, render_template, request

from ..communities.services import get_community, list_communities
from ..errors import NotFound
from ..extensions import db
from ..security import admin_required
from . import bp
from .actions import MILESTONE_LABELS, OBJECT_NOUNS
from .describe import changes, describe
from .models import AuditEvent, AuditHead
from .services import latest_head, page_of, public_key_json, search_events

PAGE_SIZE = 50


def _page_number() -> int:
    """The ``page`` asked for; anything but a page number is a page that does not exist."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        abort(404)
    return int(raw)


def _page(query):
    try:
        return page_of(query, _page_number(), PAGE_SIZE)
    except NotFound:
        abort(404)


def _heads_at(events) -> dict:
    """The heads published right after these entries (milestones), by entry number."""
    ids = [e.id for e in events]
    if not ids:
        return {}
    query = db.select(AuditHead).filter(AuditHead.count.in_(ids))
    return {head.count: head for head in db.session.scalars(query)}


@bp.app_template_global("audit_latest_head")
def audit_latest_head(community_id: int | None = None) -> AuditHead | None:
    """For templates/audit/_head.html: the latest head published at the community's milestones."""
    return latest_head(community_id)


@bp.app_template_global("audit_milestone_label")
def audit_milestone_label(action: str) -> str:
    return str(MILESTONE_LABELS.get(action, ""))


@bp.get("/admin/audit")
@admin_required
def admin_log():
    filters = {key: request.args.get(key, "")[:60] for key in ("actor", "object_type")}
    if filters["object_type"] not in OBJECT_NOUNS:
        filters["object_type"] = ""  # only the kinds the form offers
    community = request.args.get("community", "")
    community_id = (
        int(community)
        if community.isascii() and community.isdigit() and len(community) < 10
        else None
    )
    log = _page(search_events(community_id=community_id, **filters))
    return render_template(
        "audit/admin.html",
        log=log,
        entries=describe(log.events, staff=True),
        heads=_heads_at(log.events),
        filters=filters,
        community_id=community_id,
        communities=list_communities(),
        object_types=sorted(OBJECT_NOUNS.items(), key=lambda item: str(item[1])),
    )


@bp.get("/admin/audit/<int:event_id>")
@admin_required
def admin_entry(event_id: int):
    """One entry in full: every value it kept, and its place in the chain."""
    event = db.session.get(AuditEvent, event_id)
    if event is None:
        abort(404)
    entry = describe([event], staff=True)[0]
    entry.changes = changes(event, limit=None)
    return render_template("audit/entry.html", entry=entry, heads=_heads_at([event]))


@bp.get("/c/<slug>/log")
def public_log(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    log = _page(search_events(community_id=community.id, public_only=True))
    return render_template(
        "audit/public.html",
        community=community,
        log=log,
        entries=describe(log.events),
        heads=_heads_at(log.events),
        latest=latest_head(community.id),
    )


@bp.get("/audit/public-key")
def public_key():
    """The key that checks every published head, and how to check one."""
    return render_template("audit/public_key.html", key=public_key_json())


@bp.get("/audit/public-key.pem")
def public_key_pem():
    response = make_response(public_key_json()["public_key_pem"])
    response.mimetype = "application/x-pem-file"
    response.headers["Content-Disposition"] = "attachment; filename=civicvote-audit-key.pem"
    return response
