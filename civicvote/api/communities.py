from flask import url_for

from ..communities.services import list_communities
from . import bp


def community_json(community) -> dict:
    return {
        "id": community.id,
        "slug": community.slug,
        "name": community.name,
        "district": community.district,
        "url": url_for("communities.show", slug=community.slug, _external=True),
        "round_ids": [r.id for r in community.rounds],
    }


@bp.get("/v1/communities")
def communities():
    return {"communities": [community_json(c) for c in list_communities()]}
