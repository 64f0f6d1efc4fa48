"""Communities: reading them, and the administrator creating and describing them."""

import re

from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..errors import Conflict, DomainError
from ..extensions import db
from .models import Community

# The slug is in every public address and printed poster: short, lower-case, never changed.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")
DESCRIBED = ("name", "district", "address", "description")


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


def _described(community: Community) -> dict:
    return {name: getattr(community, name) for name in DESCRIBED}


def create_community(
    slug: str, name: str, *, district="", address="", description="", actor=None
) -> Community:
    """Add a community; its slug (used in addresses and on posters) is fixed from now on."""
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise DomainError(
            _l(
                "The short name may use small letters, digits and dashes (2 to 40), "
                "for example: fengqiao."
            ),
            code="slug",
        )
    if get_community(slug) is not None:
        raise Conflict(_l("Another community already uses this short name."), code="slug_taken")
    community = Community(slug=slug, name=name, district=district, address=address)
    community.description = description
    db.session.add(community)
    db.session.flush()
    record(
        "community.create",
        "community",
        community.id,
        actor=actor,
        community_id=community.id,
        after={"slug": slug, **_described(community)},
        public=True,
    )
    db.session.commit()
    return community


def update_community(community: Community, *, actor=None, **fields) -> Community:
    """Change a community's name, district, address or description (never its slug)."""
    before = _described(community)
    for name in DESCRIBED:
        if name in fields:
            setattr(community, name, fields[name])
    record(
        "community.update",
        "community",
        community.id,
        actor=actor,
        community_id=community.id,
        before=before,
        after=_described(community),
        public=True,
    )
    db.session.commit()
    return community
