"""Social organizations: applications, approval by an administrator, member accounts."""

import secrets

from flask_babel import lazy_gettext as _l

from ..accounts.models import ORG_MEMBER, Membership, User
from ..audit.services import record
from ..communities.models import Community
from ..errors import Conflict, DomainError, NotFound, too_long
from ..extensions import db
from ..timeutil import utcnow
from .models import APPROVED, PENDING, REJECTED, Organization

FIELDS = {
    "name": 120,
    "registration_number": 40,
    "contact_name": 60,
    "contact_phone": 30,
    "field_of_work": 200,
    "description": 2000,
}


def apply(**data) -> Organization:
    """Record an application. The same application sent twice returns the first one."""
    values = {key: (data.get(key) or "").strip() for key in FIELDS}
    for key, limit in FIELDS.items():
        if len(values[key]) > limit:
            raise too_long(limit)
    for key in ("name", "registration_number", "contact_name", "contact_phone"):
        if not values[key]:
            raise DomainError(_l("Please fill in every required field."))
    values["registration_number"] = values["registration_number"].upper()
    same_name = db.session.scalar(db.select(Organization).filter_by(name=values["name"]))
    same_number = db.session.scalar(
        db.select(Organization).filter_by(registration_number=values["registration_number"])
    )
    existing = same_name or same_number
    if existing is not None:
        if (
            existing.name == values["name"]
            and existing.registration_number == values["registration_number"]
            and existing.status == PENDING
        ):
            return existing  # a double submit
        raise Conflict(
            _l("An organization with this name or registration number is already registered.")
        )
    organization = Organization(status=PENDING, **values)
    db.session.add(organization)
    db.session.commit()
    return organization


def get_organization(organization_id: int) -> Organization:
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(_l("This organization does not exist."))
    return organization


def list_organizations() -> list[Organization]:
    return list(
        db.session.scalars(db.select(Organization).order_by(Organization.status, Organization.id))
    )


def new_password() -> str:
    return secrets.token_urlsafe(12)


def add_member(
    organization: Organization,
    *,
    username: str,
    display_name: str,
    community_ids: list[int],
    password: str | None = None,
    actor=None,
) -> tuple[User, str]:
    """Create an account for a member of an approved organization, with the org_member role in
    each community it serves. Returns the user and the initial password (shown once)."""
    if organization.status != APPROVED:
        raise Conflict(_l("Only approved organizations can have members."))
    if not community_ids:
        raise DomainError(_l("Choose at least one community the organization serves."))
    communities = [db.session.get(Community, cid) for cid in community_ids]
    if any(c is None for c in communities):
        raise NotFound(_l("This community does not exist."))
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise Conflict(_l("The username %(name)s is taken.", name=username))
    password = password or new_password()
    if len(password) < 10:
        raise DomainError(_l("The password needs at least 10 characters."))
    user = User(
        username=username,
        display_name=display_name or username,
        organization_id=organization.id,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    for community in communities:
        db.session.add(Membership(user_id=user.id, community_id=community.id, role=ORG_MEMBER))
        record(
            "membership.grant",
            "user",
            user.id,
            actor=actor,
            community_id=community.id,
            after={"role": ORG_MEMBER, "organization": organization.id},
        )
    db.session.commit()
    return user, password


def approve(
    organization: Organization,
    *,
    community_ids: list[int],
    username: str,
    display_name: str = "",
    password: str | None = None,
    actor=None,
) -> tuple[User, str]:
    """Approve an application and create its first member account in one transaction."""
    if organization.status != PENDING:
        raise Conflict(_l("This application has already been decided."))
    organization.status = APPROVED
    organization.decided_at = utcnow()
    record(
        "organization.approve",
        "organization",
        organization.id,
        actor=actor,
        before={"status": PENDING},
        after={"status": APPROVED, "communities": sorted(community_ids)},
        public=True,
    )
    try:
        return add_member(
            organization,
            username=username,
            display_name=display_name,
            community_ids=community_ids,
            password=password,
            actor=actor,
        )
    except DomainError:
        db.session.rollback()
        raise


def reject(organization: Organization, *, actor=None) -> Organization:
    if organization.status != PENDING:
        raise Conflict(_l("This application has already been decided."))
    organization.status = REJECTED
    organization.decided_at = utcnow()
    record(
        "organization.reject",
        "organization",
        organization.id,
        actor=actor,
        before={"status": PENDING},
        after={"status": REJECTED},
    )
    db.session.commit()
    return organization
