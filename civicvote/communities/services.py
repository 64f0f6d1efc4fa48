"""Reading communities and their rounds."""

from ..extensions import db
from .models import Community


def list_communities() -> list[Community]:
    return list(db.session.scalars(db.select(Community).order_by(Community.id)))


def get_community(slug: str) -> Community | None:
    return db.session.scalar(db.select(Community).filter_by(slug=slug))


def communities_for(user) -> list[Community]:
    """The communities a user may manage: all for admins, else those with a membership."""
    if user.is_admin:
        return list_communities()
    ids = {m.community_id for m in user.memberships}
    return [c for c in list_communities() if c.id in ids]
