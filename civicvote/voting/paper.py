"""Paper ballots, as secret as phone ones.

1. The desk finds the resident in the registry (registry number, name or address) and hands
   over a sheet: the participation is recorded (channel "paper", no contents, no sheet), so
   the resident can vote no other way. Which sheet they took is written nowhere.
2. Two clerks enter each sheet's choices against its printed number (paper_sheets.py). Entries
   name the sheet and the clerk, never a voter. Agreeing entries count the sheet through the
   casting service (:func:`casting.record_contents`) and keep no choices; differing ones wait
   for a supervisor.
3. The supervisor looks at the sheet and picks one entry, or enters what the sheet says. The
   losing entry's choices are deleted; the audit log records who decided.
At the close, entries still waiting can no longer count and lose their choices too
(ballots.models.void_unfinished_paper_entries).
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..ballots.lifecycle import is_sqlite, lock_ballot
from ..ballots.models import Ballot, PaperBallotEntry, PaperSheet, Participation
from ..ballots.rules import BallotRules, refusal_for_status, validate_contents
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..registry.credentials import Voter, eligible_voters
from ..registry.models import Resident
from ..rounds.models import VOTE_UNIT_RESIDENT
from ..timeutil import utcnow
from .casting import CHANNEL_LABELS, record_contents, record_hand_over
from .paper_sheets import format_sheet_number, normalize_sheet_number
from .receipts import canonical


def _locked(ballot_id: int, *, exclusive: bool) -> Ballot:
    ballot = lock_ballot(ballot_id, exclusive=exclusive)
    if ballot is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    return ballot


def _in_transaction(work):
    """Run ``work()`` and commit, or roll back and re-raise."""
    try:
        result = work()
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        raise


# --------------------------------------------------------------------------- hand-over


def voter_key_of(ballot: Ballot, resident: Resident) -> str:
    """The key the ballot's round counts this resident under: themselves, or their household."""
    if ballot.round.vote_unit == VOTE_UNIT_RESIDENT:
        return f"r{resident.id}"
    return f"h{resident.household_id}"


def hand_over(ballot_id: int, resident_id: int, *, clerk) -> Voter:
    """Record that the resident (found on the registry) received a paper ballot sheet.

    Refused when the resident is not an eligible voter of the ballot, has already voted (by
    phone, at the assembly or on paper: a vote another way is also logged for the supervisor),
    or the ballot is not open. Returns the voter whose participation was recorded. Commits.
    """

    def work() -> Voter:
        ballot = _locked(ballot_id, exclusive=False)
        resident = db.session.get(Resident, resident_id)
        if resident is None or resident.community_id != ballot.round.community_id:
            raise NotFound(_l("No such resident in this community's registry."), code="resident")
        key = voter_key_of(ballot, resident)
        voter = next((v for v in eligible_voters(ballot) if v.key == key), None)
        if voter is None:
            raise DomainError(
                _l("This person is not an eligible voter of this ballot."), code="ineligible"
            )
        _refuse_if_voted(ballot, key, clerk)
        record_hand_over(db.session.connection(), BallotRules.of(ballot), key, utcnow())
        record(
            "paper_ballot.hand_over",
            "ballot",
            ballot.id,
            actor=clerk,
            community_id=ballot.round.community_id,
            after={"voter_key": key},
        )
        return voter

    try:
        return _in_transaction(work)
    except IntegrityError as error:  # took part at the same moment another way
        raise Conflict(
            _l("A vote has already been recorded for this voter."), code="already_voted"
        ) from error


def _refuse_if_voted(ballot: Ballot, voter_key: str, clerk) -> None:
    existing = db.session.scalar(
        select(Participation).filter_by(ballot_id=ballot.id, voter_key=voter_key)
    )
    if existing is None:
        return
    if existing.channel == "paper":
        raise Conflict(
            _l("This voter has already received a paper ballot."), code="already_handed_over"
        )
    # A paper ballot for someone who voted by phone: the supervisor should know.
    record(
        "ballot.double_channel_refused",
        "ballot",
        ballot.id,
        actor=clerk,
        community_id=ballot.round.community_id,
        after={"voter_key": voter_key, "attempted": "paper", "already": existing.channel},
    )
    db.session.commit()
    raise Conflict(
        _l(
            "This voter has already voted (%(channel)s). No paper ballot may be handed over; "
            "the supervisor has been notified.",
            channel=CHANNEL_LABELS.get(existing.channel, existing.channel),
        ),
        code="already_voted",
    )


# --------------------------------------------------------------------------- entries


def _sheet(ballot: Ballot, number: str) -> PaperSheet:
    """The ballot's sheet with this number, locked against a second clerk's entry at the same
    moment (PostgreSQL; SQLite holds its write lock); refused if unknown or counted."""
    number = normalize_sheet_number(number)
    query = select(PaperSheet).filter_by(number=number, ballot_id=ballot.id)
    if not is_sqlite():
        query = query.with_for_update()
    sheet = db.session.scalar(query.execution_options(populate_existing=True))
    if sheet is None:
        raise DomainError(
            _l("No sheet with this number was printed for this ballot. Check the number."),
            code="unknown_sheet",
        )
    if sheet.status != "unused":
        raise Conflict(_l("This sheet has already been counted."), code="counted")
    return sheet


def _entries(sheet: PaperSheet, *statuses: str) -> list[PaperBallotEntry]:
    query = select(PaperBallotEntry).filter_by(sheet_number=sheet.number)
    if statuses:
        query = query.where(PaperBallotEntry.status.in_(statuses))
    return list(db.session.scalars(query.order_by(PaperBallotEntry.id)))


def enter_sheet(ballot_id: int, number: str, payload: dict, *, clerk) -> PaperBallotEntry:
    """One clerk's entry of the sheet ``number``; the second clerk's entry decides.

    The choices are validated as a phone's vote. The same clerk sending the same choices again
    gets their entry back (a resent form); other choices, or a third entry, are refused. The
    second entry counts the sheet when both agree, else both wait for a supervisor. Commits.
    """

    def work() -> PaperBallotEntry:
        # Exclusive: a sheet counts only while fewer sheets than hand-overs are counted.
        ballot = _locked(ballot_id, exclusive=True)
        refusal = refusal_for_status(ballot)
        if refusal is not None:
            raise refusal
        sheet = _sheet(ballot, number)
        contents = validate_contents(ballot, payload)
        entries = _entries(sheet)
        own = next((e for e in entries if e.clerk_id == clerk.id), None)
        if own is not None and own.status == "pending" and _same(own.contents, contents):
            return own
        if any(e.status == "mismatch" for e in entries):
            raise Conflict(
                _l("The two entries of this sheet differ: a supervisor decides it."),
                code="disputed",
            )
        if own is not None:
            raise Conflict(
                _l("You have already entered this sheet; a second clerk must enter it."),
                code="same_clerk",
            )
        entry = PaperBallotEntry(
            ballot_id=ballot.id, sheet_number=sheet.number, clerk_id=clerk.id, contents=contents
        )
        db.session.add(entry)
        db.session.flush()
        record(
            "paper_ballot.enter",
            "paper_ballot_entry",
            entry.id,
            actor=clerk,
            community_id=ballot.round.community_id,
        )
        if entries:
            _second_entry(ballot, sheet, entries[0], entry, clerk)
        return entry

    return _in_transaction(work)


def _same(first: dict, second: dict) -> bool:
    return canonical(first) == canonical(second)


def _second_entry(ballot, sheet, first, second, clerk) -> None:
    if _same(first.contents, second.contents):
        _count_sheet(ballot, sheet, second.contents, clerk)
        for entry in (first, second):
            entry.status, entry.contents = "matched", {}
        return
    first.status = second.status = "mismatch"
    record(
        "paper_ballot.mismatch",
        "ballot",
        ballot.id,
        actor=clerk,
        community_id=ballot.round.community_id,
        after={"sheet": sheet.number},
    )


def _count_sheet(ballot: Ballot, sheet: PaperSheet, contents: dict, actor) -> None:
    """Count the sheet's choices through the casting service. There are never more counted
    sheets than paper ballots handed over."""
    handed_over = db.session.scalar(
        select(func.count())
        .select_from(Participation)
        .filter_by(ballot_id=ballot.id, channel="paper")
    )
    counted = db.session.scalar(
        select(func.count())
        .select_from(PaperSheet)
        .filter_by(ballot_id=ballot.id, status="counted")
    )
    if counted >= handed_over:
        raise Conflict(
            _l(
                "Every paper ballot handed over has been counted: no more sheets can count "
                "than residents received. Check the hand-overs at the desk."
            ),
            code="more_than_handed_over",
        )
    record_contents(db.session.connection(), BallotRules.of(ballot), _payload_of(ballot, contents))
    sheet.status = "counted"
    record(
        "paper_ballot.count",
        "ballot",
        ballot.id,
        actor=actor,
        community_id=ballot.round.community_id,
    )


def _payload_of(ballot: Ballot, contents: dict) -> dict:
    """Stored (validated) contents in the shape a vote is sent in."""
    if ballot.method in ("approval", "knapsack"):
        return {"selections": contents["selections"]}
    if ballot.method == "cumulative":
        return {"points": contents["points"]}
    return {"answers": contents}


# --------------------------------------------------------------------------- disputes


@dataclass(frozen=True)
class Dispute:
    """A sheet whose two entries differ: what each clerk entered. No voter: there is none."""

    sheet_number: str
    entries: list[PaperBallotEntry]

    @property
    def label(self) -> str:
        return format_sheet_number(self.sheet_number)


def disputes(ballot_id: int) -> list[Dispute]:
    """The ballot's sheets waiting for a supervisor, by sheet number."""
    found: dict[str, list[PaperBallotEntry]] = {}
    query = select(PaperBallotEntry).filter_by(ballot_id=ballot_id, status="mismatch")
    for entry in db.session.scalars(
        query.order_by(PaperBallotEntry.sheet_number, PaperBallotEntry.id)
    ):
        found.setdefault(entry.sheet_number, []).append(entry)
    return [Dispute(number, entries) for number, entries in found.items()]


def dispute(ballot_id: int, number: str) -> Dispute:
    number = normalize_sheet_number(number)
    found = next((d for d in disputes(ballot_id) if d.sheet_number == number), None)
    if found is None:
        raise NotFound(_l("This sheet is not waiting for a decision."), code="no_dispute")
    return found


def settle_dispute(
    ballot_id: int, number: str, choice: str, payload: dict | None, *, supervisor
) -> None:
    """The supervisor, having looked at the sheet, decides what it says: ``choice`` is the id of
    the entry that is right, or "sheet" with ``payload`` holding the choices read off the
    sheet. The sheet is counted once; every entry's choices are deleted; the audit log records
    the supervisor and the decision. A supervisor who entered the sheet may not decide it.
    Commits."""

    def work() -> None:
        ballot = _locked(ballot_id, exclusive=True)
        refusal = refusal_for_status(ballot)
        if refusal is not None:
            raise refusal
        entries = dispute(ballot.id, number).entries
        if any(e.clerk_id == supervisor.id for e in entries):
            raise Forbidden(
                _l("You entered this sheet yourself: another supervisor decides it."),
                code="own_entry",
            )
        chosen = next((e for e in entries if str(e.id) == choice), None)
        if chosen is None and choice != "sheet":
            raise DomainError(
                _l("Choose one of the two entries, or enter what the sheet says."),
                code="choice",
            )
        contents = chosen.contents if chosen else validate_contents(ballot, payload or {})
        _count_sheet(ballot, _sheet(ballot, number), contents, supervisor)
        for entry in entries:
            entry.status = "chosen" if entry is chosen else "rejected"
            entry.contents = {}
        record(
            "paper_ballot.resolve",
            "ballot",
            ballot.id,
            actor=supervisor,
            community_id=ballot.round.community_id,
            after={
                "sheet": entries[0].sheet_number,
                "entry": chosen.id if chosen else None,
                "from_sheet": chosen is None,
            },
        )

    _in_transaction(work)


def paper_summary(ballot_id: int) -> dict[str, int]:
    """Counts for the console: paper ballots handed over, sheets counted, sheets waiting for a
    second entry, and disputes."""
    handed_over = db.session.scalar(
        select(func.count())
        .select_from(Participation)
        .filter_by(ballot_id=ballot_id, channel="paper")
    )
    statuses = dict(
        db.session.execute(
            select(
                PaperBallotEntry.status, func.count(func.distinct(PaperBallotEntry.sheet_number))
            )
            .where(PaperBallotEntry.ballot_id == ballot_id)
            .group_by(PaperBallotEntry.status)
        ).all()
    )
    counted = db.session.scalar(
        select(func.count())
        .select_from(PaperSheet)
        .filter_by(ballot_id=ballot_id, status="counted")
    )
    return {
        "handed_over": handed_over or 0,
        "counted": counted or 0,
        "waiting": statuses.get("pending", 0),
        "disputes": statuses.get("mismatch", 0),
    }
