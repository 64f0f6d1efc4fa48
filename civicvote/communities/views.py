"""Public community pages and the organizer console of a community."""

from flask import abort, render_template
from flask_login import current_user

from ..accounts.models import COMMUNITY_ROLES
from ..security import community_required
from . import bp
from .services import get_community


@bp.get("/c/<slug>")
def show(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    return render_template("communities/show.html", community=community)


@bp.get("/console/c/<slug>")
@community_required(*COMMUNITY_ROLES)
def console(community):
    return render_template(
        "communities/console.html",
        community=community,
        roles=sorted(current_user.roles_in(community.id)),
    )
