"""Walk-ins: a one-time voting code for a resident at the desk without their card.

A clerk alone must not be able to vote in a resident's name, so a walk-in needs:

- the resident in person: checked in at this assembly before the code is given;
- a second staff member who confirms on the same form with their own account name and
  password (another account than the clerk's, holding a staff role in the community);
- a reason ("card forgotten", "card lost", "never received a card"): the resident's own unused
  card is withdrawn with that reason, so one person never holds two ways to vote.

Every walk-in is a row naming the clerk and the confirming staff member, and a public log
entry; the ballot's public statistics count walk-ins per assembly.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from ..accounts.models import CLERK, ORGANIZER, SUPERVISOR, User
from ..audit.services import record
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..registry.credentials import IssuedCard, issue_walk_in
from ..registry.models import Credential
from ..timeutil import utcnow
from .models import Assembly, CheckIn, WalkIn

WALK_IN_REASONS = {
    "card_forgotten": _l("Card forgotten"),
    "card_lost": _l("Card lost"),
    "no_card": _l("Never received a card"),
}
# Who may confirm a walk-in as the second person.
CONFIRMING_ROLES = (ORGANIZER, CLERK, SUPERVISOR)


class SecondPersonMissing(DomainError):
    """The form came without a second staff member's account name and password."""


class SecondPersonRefused(Forbidden):
    """The confirming account is wrong, the clerk's own, or holds no staff role here."""


@dataclass
class IssuedWalkIn:
    walk_in: WalkIn
    card: IssuedCard


def walk_in_purpose(walk_in_id: int) -> str:
    """What a walk-in's code is sealed for (see civicvote.sealed)."""
    return f"walk_in:{walk_in_id}"


def confirming_user(community_id: int, clerk, username: str, password: str) -> User:
    """The second staff member who confirms, or :class:`SecondPersonRefused`.

    The password is checked even for an unknown name, so the answer's timing does not tell
    which account names exist.
    """
    username, password = (username or "").strip(), password or ""
    if not username or not password:
        raise SecondPersonMissing(
            _l(
                "A second staff member must confirm every walk-in: they enter their own account "
                "name and password here."
            ),
            code="no_second_person",
        )
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        User(password_hash="").set_password(password)
        ok = False
    else:
        ok = user.check_password(password) and user.active
    if not ok:
        raise SecondPersonRefused(
            _l("The second staff member's account name or password is wrong."),
            code="bad_second_person",
        )
    if user.id == getattr(clerk, "id", None):
        raise SecondPersonRefused(
            _l("The second person must be another staff member, not the clerk at the desk."),
            code="same_person",
        )
    if not user.has_role(community_id, *CONFIRMING_ROLES):
        raise SecondPersonRefused(
            _l("The second person must be an organizer, clerk or supervisor of this community."),
            code="not_staff",
        )
    return user


def is_present(assembly: Assembly, voter_key: str) -> bool:
    return (
        db.session.scalar(
            db.select(CheckIn.id).filter_by(assembly_id=assembly.id, voter_key=voter_key)
        )
        is not None
    )


def live_cards(ballot_id: int, voter_key: str) -> list[Credential]:
    """The voter's printed cards that still work."""
    return list(
        db.session.scalars(
            db.select(Credential).filter_by(
                ballot_id=ballot_id, voter_key=voter_key, kind="card", revoked_at=None
            )
        )
    )


def issue_confirmed_walk_in(
    assembly: Assembly,
    voter_key: str,
    *,
    reason: str,
    clerk,
    second_username: str,
    second_password: str,
    base_url: str,
    seal: Callable[[dict, str], bytes],
) -> IssuedWalkIn:
    """Give a present resident a one-time voting code, confirmed by a second staff member.

    Withdraws the resident's live cards with ``reason``, records who issued and who confirmed,
    and commits. ``seal(values, purpose)`` keeps the code for the desk's page (the view passes
    ``civicvote.sealed.seal``). Refusals raise a DomainError; nothing is written then.
    """
    community_id = assembly.ballot.round.community_id
    if reason not in WALK_IN_REASONS:
        raise DomainError(_l("Choose why the resident has no card."), code="reason")
    second = confirming_user(community_id, clerk, second_username, second_password)
    if not is_present(assembly, voter_key):
        raise Conflict(
            _l(
                "Check the resident in at this assembly first: a walk-in code is given only to "
                "someone who is here in person."
            ),
            code="not_present",
        )
    cards = live_cards(assembly.ballot_id, voter_key)
    if cards and reason == "no_card":
        raise DomainError(
            _l("This resident has a card: say whether it was forgotten or lost."), code="reason"
        )
    now = utcnow()
    for credential in cards:
        credential.revoked_at, credential.revoked_reason = now, reason
    card = issue_walk_in(assembly.ballot_id, voter_key, base_url=base_url, actor=clerk)
    walk_in = WalkIn(
        assembly_id=assembly.id,
        credential_id=card.credential_id,
        voter_key=voter_key,
        reason=reason,
        clerk_id=clerk.id,
        confirmed_by_id=second.id,
    )
    db.session.add(walk_in)
    db.session.flush()
    walk_in.sealed = seal(
        {"link": card.link, "printed_code": card.printed_code, "label": card.label},
        walk_in_purpose(walk_in.id),
    )
    record(
        "walk_in.issue",
        "assembly",
        assembly.id,
        actor=clerk,
        community_id=community_id,
        public=True,
        after={
            "walk_in_id": walk_in.id,
            "voter_key": voter_key,
            "reason": reason,
            "confirmed_by_id": second.id,
            "confirmed_by": second.display_name or second.username,
            "revoked_cards": [c.id for c in cards],
        },
    )
    db.session.commit()
    return IssuedWalkIn(walk_in, card)


def get_walk_in(assembly: Assembly, walk_in_id: int) -> WalkIn:
    walk_in = db.session.get(WalkIn, walk_in_id)
    if walk_in is None or walk_in.assembly_id != assembly.id:
        raise NotFound(_l("No such walk-in."))
    return walk_in


def walk_ins_by_assembly(ballot_id: int) -> list[dict]:
    """Walk-ins of a ballot per assembly (public statistics): ``assembly_id``, ``title``,
    ``starts_at`` and ``walk_ins``, every assembly of the ballot listed, by time."""
    counts = dict(
        db.session.execute(
            db.select(WalkIn.assembly_id, func.count(WalkIn.id))
            .join(Assembly, WalkIn.assembly_id == Assembly.id)
            .where(Assembly.ballot_id == ballot_id)
            .group_by(WalkIn.assembly_id)
        ).all()
    )
    assemblies = db.session.scalars(
        db.select(Assembly).filter_by(ballot_id=ballot_id).order_by(Assembly.starts_at, Assembly.id)
    )
    return [
        {
            "assembly_id": a.id,
            "title": a.title,
            "starts_at": a.starts_at,
            "walk_ins": int(counts.get(a.id, 0)),
        }
        for a in assemblies
    ]
