"""Paper ballots: two clerks enter each one; agreeing entries count it, a supervisor settles the
others. A paper ballot is counted through the same decision as a phone's vote (channel "paper"),
and once counted, no entry keeps the voter's choices."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..ballots.lifecycle import lock_ballot
from ..ballots.models import Ballot, PaperBallotEntry, Participation
from ..ballots.rules import BallotRules, refusal_for_status, settings_of, validate_contents
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..registry.credentials import find_credential, has_voted
from ..registry.models import Credential
from ..timeutil import utcnow
from .casting import CHANNEL_LABELS, Participant, record_ballot
from .receipts import canonical


def _live_card(ballot_id: int, voter_key: str) -> Credential | None:
    """The voter's newest credential of the ballot that is not revoked."""
    return db.session.scalar(
        select(Credential)
        .filter_by(ballot_id=ballot_id, voter_key=voter_key, revoked_at=None)
        .order_by(Credential.id.desc())
    )


def _paper_voter(ballot: Ballot, voter: str) -> tuple[str, Credential]:
    """The voter key and credential for a paper ballot, from a card's short code or a voter key."""
    voter = (voter or "").strip()
    credential = None
    if len(voter) <= 30 and voter[:1] in ("r", "h") and voter[1:].isdigit():
        credential = _live_card(ballot.id, voter)
    else:
        found = find_credential(ballot.id, voter)
        if found is not None and found.revoked_at is None:
            credential = found
    if credential is None:
        raise DomainError(
            _l("No valid voter card found for this voter on this ballot."), code="unknown_voter"
        )
    return credential.voter_key, credential


def enter_paper_ballot(ballot_id: int, voter: str, payload: dict, *, clerk) -> PaperBallotEntry:
    """One clerk's entry of a paper ballot. When two clerks' entries agree it is counted.

    The entry is validated like an online vote. The second clerk's entry is compared with the
    first: equal contents count the ballot through the casting service (channel "paper", using up
    the voter's credential) and the stored entries' contents are then erased, so that no table
    keeps a voter's choices; different contents mark both entries "mismatch" for a supervisor.
    A paper ballot for a voter who already voted (by phone or on paper) is refused and the refusal
    recorded in the audit log for the supervisor.
    """
    ballot = lock_ballot(ballot_id, exclusive=False)
    try:
        if ballot is None:
            raise NotFound(_l("No such ballot."), code="not_found")
        voter_key, credential = _paper_voter(ballot, voter)
        if has_voted(ballot.id, voter_key):
            _refuse_second_channel(ballot, voter_key, clerk)
        refusal = refusal_for_status(ballot)
        if refusal is not None:
            raise refusal
        contents = validate_contents(ballot, payload)
        entry = _add_entry(ballot, voter_key, contents, clerk, credential)
        db.session.commit()
        return entry
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(
            _l("This paper ballot was entered at the same moment by someone else; reload."),
            code="conflict",
        ) from error
    except Exception:
        db.session.rollback()
        raise


def _refuse_second_channel(ballot: Ballot, voter_key: str, clerk) -> None:
    """Refuse the paper ballot of a voter who already voted: void their pending entry, tell
    the supervisor (audit log) and raise Conflict."""
    existing = db.session.scalar(
        select(Participation).filter_by(ballot_id=ballot.id, voter_key=voter_key)
    )
    # A pending entry of this voter's paper ballot is void now: keep no choices.
    for stale in db.session.scalars(
        select(PaperBallotEntry).filter_by(
            ballot_id=ballot.id, voter_key=voter_key, status="pending"
        )
    ):
        stale.status, stale.contents = "refused", {}
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
            "This voter has already voted (%(channel)s). The paper ballot is refused "
            "and the supervisor has been notified.",
            channel=CHANNEL_LABELS.get(existing.channel, existing.channel),
        ),
        code="already_voted",
    )


def _add_entry(ballot: Ballot, voter_key: str, contents: dict, clerk, credential):
    """Store this clerk's entry; the second one is compared with the first and counts the
    ballot or marks a mismatch."""
    entries = list(
        db.session.scalars(
            select(PaperBallotEntry).filter_by(ballot_id=ballot.id, voter_key=voter_key)
        )
    )
    if any(e.clerk_id == clerk.id for e in entries):
        raise Conflict(
            _l("You have already entered this paper ballot; a second clerk must enter it."),
            code="same_clerk",
        )
    if len(entries) >= 2:
        raise Conflict(_l("This paper ballot has already been entered twice."), code="twice")
    entry = PaperBallotEntry(
        ballot_id=ballot.id, voter_key=voter_key, clerk_id=clerk.id, contents=contents
    )
    db.session.add(entry)
    db.session.flush()
    record(
        "paper_ballot.enter",
        "paper_ballot_entry",
        entry.id,
        actor=clerk,
        community_id=ballot.round.community_id,
        after={"voter_key": voter_key},
    )
    if entries:
        first = entries[0]
        if canonical(first.contents) == canonical(contents):
            _count_paper(ballot, voter_key, credential, contents, [first, entry], clerk)
        else:
            for item in (first, entry):
                item.status = "mismatch"
            record(
                "paper_ballot.mismatch",
                "ballot",
                ballot.id,
                actor=clerk,
                community_id=ballot.round.community_id,
                after={"voter_key": voter_key},
            )
    return entry


def _count_paper(ballot, voter_key, credential, contents, entries, actor) -> str:
    voter = Participant(
        ballot.round.community_id,
        voter_key,
        credential.id if credential is not None else None,
        has_voted(ballot.id, voter_key),
    )
    result = record_ballot(
        db.session.connection(),
        BallotRules.of(ballot),
        settings_of(ballot),
        voter,
        _payload_from_contents(ballot, contents),
        channel="paper",
        present=False,
        sealing=(None, None),
        now=utcnow(),
    )
    for item in entries:
        item.status = "matched"
        item.contents = {}  # counted: the choices now live only in the unlinked cast ballot
    record(
        "paper_ballot.count",
        "ballot",
        ballot.id,
        actor=actor,
        community_id=ballot.round.community_id,
        after={"voter_key": voter_key},
    )
    return result.receipt


def _payload_from_contents(ballot: Ballot, contents: dict) -> dict:
    if ballot.method in ("approval", "knapsack"):
        return {"selections": contents["selections"]}
    if ballot.method == "cumulative":
        return {"points": contents["points"]}
    return {"answers": contents}


def paper_mismatches(ballot_id: int) -> dict[str, list[PaperBallotEntry]]:
    """Paper ballots whose two entries disagree, by voter key."""
    found: dict[str, list[PaperBallotEntry]] = {}
    query = select(PaperBallotEntry).filter_by(ballot_id=ballot_id, status="mismatch")
    for entry in db.session.scalars(query.order_by(PaperBallotEntry.id)):
        found.setdefault(entry.voter_key, []).append(entry)
    return found


def resolve_paper_mismatch(
    ballot_id: int,
    voter_key: str,
    chosen_entry_id: int | None,
    *,
    supervisor,
    discard: bool = False,
) -> None:
    """A supervisor settles a mismatch: count one clerk's entry (checked on paper), or discard."""
    ballot = lock_ballot(ballot_id, exclusive=False)
    try:
        if ballot is None:
            raise NotFound(_l("No such ballot."), code="not_found")
        entries = paper_mismatches(ballot_id).get(voter_key, [])
        if not entries:
            raise NotFound(_l("No mismatch to resolve for this voter."), code="not_found")
        if discard:
            _discard(ballot, voter_key, entries, supervisor)
        else:
            _count_chosen(ballot, voter_key, entries, chosen_entry_id, supervisor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _discard(ballot: Ballot, voter_key: str, entries: list, supervisor) -> None:
    for item in entries:
        item.status = "discarded"
        item.contents = {}
    record(
        "paper_ballot.discard",
        "ballot",
        ballot.id,
        actor=supervisor,
        community_id=ballot.round.community_id,
        after={"voter_key": voter_key},
    )


def _count_chosen(ballot: Ballot, voter_key: str, entries: list, chosen_id, supervisor) -> None:
    chosen = next((e for e in entries if e.id == chosen_id), None)
    if chosen is None:
        raise DomainError(_l("Choose one of the two entries."), code="choice")
    refusal = refusal_for_status(ballot)
    if refusal is not None:
        raise refusal
    credential = _live_card(ballot.id, voter_key)
    _count_paper(ballot, voter_key, credential, chosen.contents, entries, supervisor)
    record(
        "paper_ballot.resolve",
        "ballot",
        ballot.id,
        actor=supervisor,
        community_id=ballot.round.community_id,
        after={"voter_key": voter_key, "entry": chosen.id},
    )
