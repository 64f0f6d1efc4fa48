"""Assemblies, check-in at the desk, and the quorum of a ballot.

Check-in marks a voter present at an assembly once: the unique constraint on
(assembly, voter key) decides, so two desks scanning the same card at once still record one
check-in. Failed attempts (unknown, revoked or expired codes) are logged without the code.
"""

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, case, cast, func, select, union
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..ballots.lifecycle import on_close
from ..ballots.models import Ballot, Participation
from ..ballots.setup import community_ballot
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..registry.credentials import (
    eligible_voters,
    extract_secret,
    find_credential,
    voter_for_key,
)
from ..registry.models import Resident
from ..registry.services import eligible_counts
from ..rounds.models import VOTE_UNIT_HOUSEHOLD, FundingRound
from ..timeutil import utcnow
from .models import Assembly, CheckIn

log = logging.getLogger("civicvote.checkin")


# --- assemblies --------------------------------------------------------------------------------


def get_assembly(community_id: int, assembly_id: int) -> Assembly:
    # With its ballot and round in the same query: every desk request needs all three.
    assembly = db.session.get(
        Assembly, assembly_id, options=[joinedload(Assembly.ballot).joinedload(Ballot.round)]
    )
    if assembly is None or assembly.ballot.round.community_id != community_id:
        raise NotFound(_l("No such assembly."))
    return assembly


def community_assemblies(community_id: int) -> list[Assembly]:
    return list(
        db.session.scalars(
            db.select(Assembly)
            .join(Ballot, Assembly.ballot_id == Ballot.id)
            .join(FundingRound, Ballot.round_id == FundingRound.id)
            .where(FundingRound.community_id == community_id)
            .order_by(Assembly.starts_at.desc())
        )
    )


def _assembly_snapshot(assembly: Assembly) -> dict:
    return {
        "ballot_id": assembly.ballot_id,
        "title": assembly.title,
        "place": assembly.place,
        "starts_at": assembly.starts_at.isoformat(),
    }


def save_assembly(
    community_id: int,
    *,
    ballot_id: int,
    title: str,
    place: str,
    starts_at: datetime,
    assembly: Assembly | None = None,
    actor=None,
) -> Assembly:
    """Create (``assembly`` None) or update an assembly of one of the community's ballots."""
    ballot = community_ballot(community_id, ballot_id)
    before = _assembly_snapshot(assembly) if assembly else None
    if assembly is None:
        assembly = Assembly(ballot_id=ballot.id, title=title, place=place, starts_at=starts_at)
        db.session.add(assembly)
    else:
        if assembly.ballot_id != ballot.id and has_check_ins(assembly.id):
            raise Conflict(_l("People have checked in; the assembly's ballot cannot change."))
        assembly.ballot_id, assembly.title = ballot.id, title
        assembly.place, assembly.starts_at = place, starts_at
    db.session.flush()
    record(
        "assembly.update" if before else "assembly.create",
        "assembly",
        assembly.id,
        actor=actor,
        community_id=community_id,
        before=before,
        after=_assembly_snapshot(assembly),
        public=True,
    )
    db.session.commit()
    return assembly


def has_check_ins(assembly_id: int) -> bool:
    return (
        db.session.scalar(db.select(CheckIn.id).filter_by(assembly_id=assembly_id).limit(1))
        is not None
    )


def delete_assembly(community_id: int, assembly_id: int, *, actor=None) -> None:
    """Delete an assembly nobody has checked in at."""
    assembly = get_assembly(community_id, assembly_id)
    if has_check_ins(assembly.id):
        raise Conflict(_l("People have checked in at this assembly; it cannot be deleted."))
    record(
        "assembly.delete",
        "assembly",
        assembly.id,
        actor=actor,
        community_id=community_id,
        before=_assembly_snapshot(assembly),
        public=True,
    )
    db.session.delete(assembly)
    db.session.commit()


# --- check-in ----------------------------------------------------------------------------------


@dataclass
class CheckInResult:
    """What the desk shows: who (address, for a visual check) and whether it is new."""

    voter_label: str
    address: str
    name: str
    checked_in_at: datetime
    already: bool
    attendance: int | None = None  # with the counts asked for: present now, and the quorum
    quorum: dict | None = None


class CheckInRefused(DomainError):
    """An unknown, revoked or expired code: counted against the desk's guessing limit."""

    status_code = 404


def parse_scan_time(text: str | None) -> datetime | None:
    """The desk's ISO 8601 time of a scan (``2026-05-01T09:00:00.123Z``) as naive UTC, or None
    when missing or unreadable (the check-in then takes the time it arrived)."""
    if not text or len(text) > 40:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is None:  # a time without a zone cannot be placed: ignore it
        return None
    return value.astimezone(UTC).replace(tzinfo=None)


def scan_time(assembly: Assembly, scanned_at: datetime | None, arrived_at: datetime) -> datetime:
    """When a scan queued at an offline desk happened: the desk's time when it is sane (not
    after its arrival, not before the assembly opened), else the time it arrived."""
    if scanned_at is None or scanned_at > arrived_at or scanned_at < assembly.starts_at:
        return arrived_at
    return scanned_at


def check_in(
    assembly: Assembly,
    scanned: str,
    *,
    actor=None,
    remote_addr: str = "",
    counts: bool = False,
    scanned_at: datetime | None = None,
) -> CheckInResult:
    """Check in the holder of the card whose link or short code was scanned or typed.

    Returns the result (``already`` when this voter had checked in before, with that time).
    ``scanned_at`` is when the desk took the scan (it may send it later, after a network
    outage); :func:`scan_time` decides whether it is believed.
    Raises :class:`CheckInRefused` for a code that matches no live credential of the ballot;
    each refusal is logged (assembly, user, address; never the code). With ``counts``, the
    result carries the attendance and quorum, counted in the check-in's own transaction: after
    the commit, counting would load the assembly, its ballot and round again.
    """
    secret = extract_secret(scanned)
    credential = find_credential(assembly.ballot_id, secret) if secret else None
    reason = None
    if credential is None:
        reason = "unknown"
    elif credential.revoked_at is not None:
        reason = "revoked"
    elif credential.expires_at is not None and credential.expires_at < utcnow():
        reason = "expired"
    if reason:
        log.warning(
            "check-in refused: reason=%s assembly=%s user=%s addr=%s",
            reason,
            assembly.id,
            getattr(actor, "id", None),
            remote_addr,
        )
        messages = {
            "unknown": _l("No voter card matches this code. Check the code and try again."),
            "revoked": _l("This card was revoked. Send the voter to the walk-in desk."),
            "expired": _l("This one-time code has expired."),
        }
        raise CheckInRefused(messages[reason], code=reason)
    result = _mark_present(
        assembly, credential.voter_key, credential.id, actor=actor, scanned_at=scanned_at
    )
    if counts:
        result.attendance = assembly_attendance(assembly)
        result.quorum = quorum_status(assembly.ballot)
    db.session.commit()
    return result


def _mark_present(
    assembly: Assembly,
    voter_key: str,
    credential_id: int | None,
    *,
    actor=None,
    scanned_at: datetime | None = None,
):
    voter = voter_for_key(assembly.ballot, voter_key)
    if voter is None:
        raise Forbidden(_l("This card's voter is no longer in the registry."))
    now = scan_time(assembly, scanned_at, utcnow())
    # One statement whether or not another desk got there first (no read, no savepoint).
    created = db.session.execute(
        _insert_for(db.session.get_bind().dialect.name)(CheckIn)
        .values(
            assembly_id=assembly.id,
            voter_key=voter_key,
            credential_id=credential_id,
            checked_in_by_id=getattr(actor, "id", None),
            checked_in_at=now,
        )
        .on_conflict_do_nothing(index_elements=["assembly_id", "voter_key"])
        .returning(CheckIn.id)
    ).scalar()
    if created is None:  # checked in before, here or at another desk: report that time
        earlier = db.session.scalar(
            db.select(CheckIn.checked_in_at).filter_by(assembly_id=assembly.id, voter_key=voter_key)
        )
        return CheckInResult(voter.label, voter.address, voter.name, earlier, True)
    record(
        "checkin.create",
        "assembly",
        assembly.id,
        actor=actor,
        community_id=assembly.ballot.round.community_id,
        after={"voter_key": voter_key, "check_in_id": created},
    )
    return CheckInResult(voter.label, voter.address, voter.name, now, False)


def _insert_for(dialect: str):
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def _mark_eligible_present(assembly: Assembly, voter_key: str, *, actor=None) -> CheckInResult:
    if not any(v.key == voter_key for v in eligible_voters(assembly.ballot)):
        raise DomainError(_l("This person is not an eligible voter of this ballot."))
    return _mark_present(assembly, voter_key, None, actor=actor)


def check_in_voter(assembly: Assembly, voter_key: str, *, actor=None) -> CheckInResult:
    """Check in a voter found in the registry by the desk (a walk-in without a card)."""
    result = _mark_eligible_present(assembly, voter_key, actor=actor)
    db.session.commit()
    return result


def recent_check_ins(assembly: Assembly, limit: int = 10) -> list[dict]:
    rows = db.session.scalars(
        db.select(CheckIn)
        .filter_by(assembly_id=assembly.id)
        .order_by(CheckIn.checked_in_at.desc(), CheckIn.id.desc())
        .limit(limit)
    )
    out = []
    for row in rows:
        voter = voter_for_key(assembly.ballot, row.voter_key)
        out.append(
            {
                "address": voter.address if voter else "?",
                "name": voter.name if voter else "",
                "at": row.checked_in_at,
            }
        )
    return out


def assembly_attendance(assembly: Assembly) -> int:
    return (
        db.session.scalar(db.select(db.func.count(CheckIn.id)).filter_by(assembly_id=assembly.id))
        or 0
    )


# --- quorum ------------------------------------------------------------------------------------


def _present_counts(ballot: Ballot) -> tuple[int, int]:
    """(voters, households) taking part in the ballot, each counted once: checked in at one of
    its assemblies, or having cast a ballot (online, at the assembly or on paper).

    Counted by the database: the desk asks after every scan, and loading every key present
    made each check-in slower than the one before. A voter key is "r<resident id>" or
    "h<household id>"; a resident's household comes from the registry.
    """
    checked_in = (
        select(CheckIn.voter_key.label("key"))
        .join(Assembly, CheckIn.assembly_id == Assembly.id)
        .where(Assembly.ballot_id == ballot.id)
    )
    if ballot.status == "closed":
        # Votes count once the ballot has closed: live, each vote would move the figure one by
        # one and single it out (ballots.live shows votes only in batches).
        voted = select(Participation.voter_key.label("key")).where(
            Participation.ballot_id == ballot.id
        )
        keys = union(checked_in, voted).subquery()  # UNION: each key once
    else:
        keys = checked_in.distinct().subquery()
    kind = func.substr(keys.c.key, 1, 1)
    number = cast(func.substr(keys.c.key, 2), Integer)
    present = select(keys.c.key, kind.label("kind"), number.label("number")).subquery()
    household = case((present.c.kind == "h", present.c.number), else_=Resident.household_id)
    resident = and_(present.c.kind == "r", Resident.id == present.c.number)
    voters, households = db.session.execute(
        select(func.count(present.c.key), func.count(household.distinct())).select_from(
            present.outerjoin(Resident, resident)
        )
    ).one()
    return voters, households


def quorum_status(ballot: Ballot) -> dict:
    """Whether the ballot's quorum is met by the people taking part (checked in or voted).

    ``households_percent``: households with at least one voter taking part, against eligible
    households; ``residents_percent``: voters taking part against eligible voters (in a
    household round a household's card counts as one resident present); ``minimum``: voters
    taking part against a fixed number. Returns ``present``, ``eligible``, ``required``,
    ``met``, ``kind``, ``value`` and the decision threshold ``pass_threshold_percent``.
    Once the ballot has closed, the figures frozen at the close (:func:`freeze_quorum`).
    """
    if ballot.status == "closed" and ballot.quorum_outcome:
        return {**ballot.quorum_outcome, "pass_threshold_percent": ballot.pass_threshold_percent}
    funding_round = ballot.round
    voters, households = _present_counts(ballot)
    eligible_residents, eligible_households = eligible_counts(
        funding_round.community_id, funding_round.year
    )
    per_household = funding_round.vote_unit == VOTE_UNIT_HOUSEHOLD
    eligible_voters_count = eligible_households if per_household else eligible_residents
    kind, value = ballot.quorum_kind, ballot.quorum_value or 0
    if kind == "households_percent":
        present, eligible = households, eligible_households
        required = math.ceil(eligible * value / 100)
    elif kind == "residents_percent":
        present, eligible = voters, eligible_voters_count
        required = math.ceil(eligible * value / 100)
    else:
        present, eligible, required = voters, eligible_voters_count, value
    return {
        "kind": kind,
        "value": value,
        "present": present,
        "eligible": eligible,
        "required": required,
        "met": present >= required and (required > 0 or kind == "minimum"),
        "pass_threshold_percent": ballot.pass_threshold_percent,
    }


def freeze_quorum(ballot: Ballot) -> None:
    """At close, keep the quorum's figures with the ballot: what decides whether its result may
    fund anything, unchanged by later registry imports."""
    ballot.quorum_outcome = None
    status = quorum_status(ballot)
    status.pop("pass_threshold_percent")
    ballot.quorum_outcome = status


on_close(freeze_quorum, stage="figures")


def quorum_sentence(quorum: dict) -> str:
    """The quorum's figures as residents read them on the board, results page and report,
    e.g. "法定人数：需 71 户，实到 16 户，未达到"."""
    state = gettext("reached") if quorum["met"] else gettext("not reached")
    if quorum["kind"] == "households_percent":
        return gettext(
            "Quorum: %(required)s households needed, %(present)s took part, %(state)s",
            required=quorum["required"],
            present=quorum["present"],
            state=state,
        )
    return gettext(
        "Quorum: %(required)s voters needed, %(present)s took part, %(state)s",
        required=quorum["required"],
        present=quorum["present"],
        state=state,
    )


def quorum_label(ballot: Ballot) -> str:
    """The ballot's quorum rule in words, in the active language."""
    value = ballot.quorum_value or 0
    if ballot.quorum_kind == "households_percent":
        return gettext("%(value)d%% of eligible households present", value=value)
    if ballot.quorum_kind == "residents_percent":
        return gettext("%(value)d%% of eligible residents present", value=value)
    return gettext("at least %(value)d voters present", value=value)
