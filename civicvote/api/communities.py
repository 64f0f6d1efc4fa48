"""GET /api/v1/communities: every community, its public pages and its rounds."""

from flask import abort, url_for

from ..communities.models import Community
from ..extensions import db
from . import bp
from .pagination import paginate


def community_json(community) -> dict:
    return {
        "id": community.id,
        "slug": community.slug,
        "name": community.name,
        "district": community.district,
        "url": url_for("communities.show", slug=community.slug, _external=True),
        "board_url": url_for("board.board", slug=community.slug, _external=True),
        "round_ids": [r.id for r in community.rounds],
    }


@bp.get("/v1/communities")
def communities():
    query = db.select(Community).order_by(Community.id)
    return paginate(query, "communities", community_json)


@bp.get("/v1/communities/<int:community_id>")
def community(community_id: int):
    found = db.session.get(Community, community_id)
    if found is None:
        abort(404)
    return community_json(found)
