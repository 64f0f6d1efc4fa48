"""GET /api/v1/audit/heads and /api/v1/audit/public-key: the signed heads of the audit chain,
published at every milestone, and the key that checks them (see docs/audit.md)."""

from flask import request
from flask_babel import lazy_gettext as _l

from ..audit.services import head_json, heads_query, public_key_json
from ..errors import DomainError
from . import MAX_ID, bp
from .pagination import paginate


@bp.get("/v1/audit/heads")
def audit_heads():
    """Every published head, newest first; ``?community_id=`` keeps one community's milestones."""
    raw = request.args.get("community_id")
    community_id = None
    if raw is not None:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
            raise DomainError(
                _l("community_id must be the number of a community."), code="bad_community_id"
            )
        community_id = int(raw)
    extra = {"community_id": community_id} if community_id else {}
    return paginate(heads_query(community_id), "heads", head_json, **extra)


@bp.get("/v1/audit/public-key")
def audit_public_key():
    return public_key_json()
