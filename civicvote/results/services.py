"""From a closed ballot to a final, public allocation: the run, the public notice, objections.

The allocation rules themselves are pure (``civicvote.allocation``); this module feeds them the
round's proposals, the cast ballots and the fund sources, and keeps the explained outcome.
A run is *provisional* while the public notice lasts; residents object, organizers answer in
public; once the notice has ended and every objection is answered, the run becomes *final* and
is locked. Changing a final result takes a new run with a recorded decision (``supersede``).
"""

import secrets
from datetime import datetime, timedelta
from fractions import Fraction

from flask_babel import lazy_gettext as _l

from ..allocation import COMPLETIONS, Project, Threshold, Votes, allocate
from ..allocation import FundSource as Source
from ..audit.services import record
from ..ballots.models import Ballot, CastBallot
from ..checkin.services import quorum_status
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..registry.credentials import extract_secret, find_credential
from ..registry.models import Credential
from ..rounds.models import RULE_LABELS, SOURCE_MATCHING, SOURCE_RESTRICTED, FundingRound
from ..timeutil import utcnow
from .models import AllocationRun, Objection, ProjectAllocation

RULES = tuple(RULE_LABELS)  # the rules a round may choose
MAX_OBJECTION = 2000


def projects_of(ballot: Ballot) -> list[Project]:
    """The ballot's proposals as allocation projects (ids are proposal ids as text, cost in fen)."""
    return [
        Project(
            str(item.proposal_id),
            item.proposal.total_fen,
            frozenset({item.proposal.category_code} - {""}),
        )
        for item in ballot.items
    ]


def votes_of(ballot: Ballot) -> Votes:
    """The cast ballots as allocation votes (identical ballots grouped with counts)."""
    groups: dict = {}
    for contents in db.session.scalars(
        db.select(CastBallot.contents).filter_by(ballot_id=ballot.id)
    ):
        if ballot.method in ("approval", "knapsack"):
            key = frozenset(str(p) for p in contents.get("selections", []))
        elif ballot.method == "cumulative":
            key = frozenset((str(p), int(n)) for p, n in contents.get("points", {}).items())
        else:
            key = frozenset((str(p), bool(v)) for p, v in contents.items())
        groups[key] = groups.get(key, 0) + 1
    keys, counts = list(groups), list(groups.values())
    if ballot.method in ("approval", "knapsack"):
        return Votes.approval(keys, counts)
    if ballot.method == "cumulative":
        return Votes.points([dict(k) for k in keys], counts)
    return Votes.yes_no([dict(k) for k in keys], counts)


def sources_of(funding_round: FundingRound) -> list[Source]:
    """The round's fund sources for the allocation (restricted, capped, matching)."""
    sources = []
    for source in funding_round.fund_sources:
        categories = frozenset(source.categories) if source.categories else None
        kind = {SOURCE_RESTRICTED: "restricted", SOURCE_MATCHING: "matching"}.get(
            source.kind, "general"
        )
        ratio = Fraction(source.match_ratio_percent or 100, 100)
        sources.append(
            Source(
                str(source.id),
                source.amount_fen,
                kind,
                categories,
                source.per_project_cap_fen,
                ratio,
            )
        )
    return sources


def latest_run(round_id: int, *, statuses=("provisional", "final")) -> AllocationRun | None:
    return db.session.scalar(
        db.select(AllocationRun)
        .filter(AllocationRun.round_id == round_id, AllocationRun.status.in_(statuses))
        .order_by(AllocationRun.id.desc())
        .limit(1)
    )


def pass_votes_required(percent: int, ballots_cast: int) -> int:
    """The ballots that must support a proposal for it to pass: *more than* ``percent`` % of
    the ballots cast (the one pass threshold, stated on the ballot; at least one)."""
    return percent * ballots_cast // 100 + 1


def check_may_allocate(ballot: Ballot) -> dict:
    """Refuse a ballot whose result may not fund anything (open, void, below quorum); return
    its quorum figures."""
    if ballot.status != "closed":
        raise Conflict(_l("The allocation runs after the ballot has closed."), code="not_closed")
    quorum = quorum_status(ballot)
    if ballot.void:
        raise Conflict(
            _l("This ballot was declared void: no project is funded from it."), code="void"
        )
    if not quorum["met"]:
        raise Conflict(
            _l(
                "The ballot closed below its quorum (%(present)s taking part, %(required)s "
                "needed): it cannot fund anything. Record one of the outcomes the rules allow.",
                present=quorum["present"],
                required=quorum["required"],
            ),
            code="quorum_not_met",
        )
    return quorum


def _reason_to_count_again(current: AllocationRun | None, reason: str) -> str:
    """The reason, required (and checked) when the round's result was counted before."""
    reason = (reason or "").strip()
    if current is not None and current.status == "final" and not reason:
        raise Conflict(
            _l("The result is final. Changing it needs a new, recorded decision."), code="final"
        )
    if current is not None and not reason:
        raise DomainError(
            _l("The result was counted before: give the reason for counting again."),
            code="no_reason",
        )
    if len(reason) > 1000:
        raise DomainError(_l("The reason is at most 1,000 characters."), code="no_reason")
    return reason


def _seeded_tie_break(tie_break: str) -> tuple[str, str]:
    """The tie-break with its seed, and the seed (empty for a rule that draws no lot)."""
    seed = ""
    if tie_break in ("cost", "lot"):
        # The lot's seed is drawn now and published with the result, so anyone can redraw it.
        seed = secrets.token_hex(8)
        tie_break = f"{tie_break}:{seed}"
    return tie_break, seed


def _completion(funding_round: FundingRound, rule: str) -> str:
    """What MES does with the money it leaves: the round's published setting."""
    completion = (funding_round.mes_completion or "add1") if rule == "mes" else "none"
    if completion not in COMPLETIONS:
        raise DomainError(_l("Choose one of the listed options."), code="choice")
    return completion


def _supersede_current(round_id: int) -> None:
    """The round's provisional or final run gives way to a new one."""
    for old in db.session.scalars(
        db.select(AllocationRun).filter(
            AllocationRun.round_id == round_id,
            AllocationRun.status.in_(("provisional", "final")),
        )
    ):
        old.status = "superseded"


def run_allocation(
    funding_round: FundingRound, ballot: Ballot, *, actor, reason: str = ""
) -> AllocationRun:
    """Count the closed ballot through the round's published rule and publish a provisional
    result.

    The rule, its MES completion and the tie-break are the round's, the pass threshold the
    ballot's: all fixed since voting opened, none chosen here. A ballot below its quorum, or
    declared void, funds nothing. Counting again (after a paper correction, or to replace a
    final result) needs a ``reason``; the earlier result stays in the public history.
    """
    if ballot.round_id != funding_round.id:
        raise NotFound(_l("No such ballot."), code="not_found")
    quorum = check_may_allocate(ballot)
    current = latest_run(funding_round.id)
    reason = _reason_to_count_again(current, reason)
    rule = funding_round.allocation_rule
    if rule not in RULES:
        raise DomainError(_l("Unknown allocation rule."), code="bad_rule")
    completion = _completion(funding_round, rule)
    votes = votes_of(ballot)
    percent = ballot.pass_threshold_percent or 0
    required = pass_votes_required(percent, votes.num_voters)
    tie_break, seed = _seeded_tie_break(funding_round.tie_break or "cost")
    outcome = allocate(
        projects_of(ballot),
        votes,
        sources=sources_of(funding_round),
        rule=rule,
        # Compared with the ballots that support each proposal (not its points): one
        # threshold for every method and every rule.
        threshold=Threshold(required, on_votes=True),
        tie_break=tie_break,
        completion=completion,
        # MES add1 raises each voter's budget one yuan (100 fen) at a time, as the field does,
        # so an exported round replays identically in yuan.
        step=100,
        # A published result is one-step add1's, proven: add1 never settles for its search
        # here. A community round in yuan walks to its end within the work budget anyway.
        prove=True,
    )
    _supersede_current(funding_round.id)
    now = utcnow()
    run = AllocationRun(
        round_id=funding_round.id,
        ballot_id=ballot.id,
        rule=rule,
        options={
            "pass_threshold_percent": percent,
            "votes_required": required,
            "completion": completion,
            "quorum": quorum,
        },
        tie_break=outcome.tie_break,
        seed=seed,
        status="provisional",
        outcome=outcome.to_dict(),
        decision_note=reason,
        notice_ends_at=now + timedelta(days=funding_round.notice_days),
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    run.projects = [_project_row(result) for result in outcome.results]
    db.session.add(run)
    funding_round.phase = "notice"
    db.session.flush()
    _record_run(run, current, funding_round, actor=actor)
    db.session.commit()
    return run


def _project_row(result) -> ProjectAllocation:
    """One project's outcome as stored: funding by source in fen, its reasons as JSON."""
    funding = {source: int(amount) for source, amount in result.funding.items()}
    main, *context = result.reasons
    return ProjectAllocation(
        proposal_id=int(result.project_id),
        rank=result.rank,
        votes=result.votes,
        funded=result.funded,
        amount_fen=sum(funding.values()) if result.funded else 0,
        reason={
            "code": main.code,
            "params": _plain(main.params),
            "context": [{"code": r.code, "params": _plain(r.params)} for r in context],
        },
        funding_by_source=funding,
    )


def _record_run(run: AllocationRun, earlier: AllocationRun | None, funding_round, *, actor):
    """The public log's entry: a first count, or a count again with its reason and what the
    earlier result funded."""
    record(
        "allocation.rerun" if earlier is not None else "allocation.run",
        "allocation_run",
        run.id,
        actor=actor,
        community_id=funding_round.community_id,
        public=True,
        before=(
            {"run": earlier.id, "funded": [p.proposal_id for p in earlier.projects if p.funded]}
            if earlier is not None
            else None
        ),
        after={
            "rule": run.rule,
            "tie_break": run.tie_break,
            "funded": [p.proposal_id for p in run.projects if p.funded],
            "reason": run.decision_note,
        },
    )


def _plain(params) -> dict:
    """Reason parameters as JSON values (amounts are whole fen for our rounds)."""
    out = {}
    for key, value in dict(params).items():
        if isinstance(value, Fraction):
            value = int(value) if value.denominator == 1 else float(value)
        elif isinstance(value, list | tuple | frozenset | set):
            value = [str(v) for v in value]
        out[key] = value
    return out


def ballot_outcomes(funding_round) -> list[dict]:
    """The round's closed (or reopened after a quorum decision) ballots with their quorum's
    figures and the organizer's decisions: what residents read beside the result."""
    out = []
    for ballot in funding_round.ballots:
        if ballot.status != "closed" and not ballot.quorum_decisions:
            continue
        quorum = quorum_status(ballot) if ballot.status == "closed" else None
        decisions = [
            {**d, "at": datetime.fromisoformat(d["at"])} for d in ballot.quorum_decisions or []
        ]
        out.append({"ballot": ballot, "quorum": quorum, "decisions": decisions})
    return out


def earlier_results(funding_round, run) -> list[dict]:
    """The results the current one replaced, newest first, with what each funded."""
    rows = []
    for old in history(funding_round.id):
        if run is not None and old.id == run.id:
            continue
        titles = [p.proposal.title for p in old.projects if p.funded]
        rows.append({"run": old, "funded": titles})
    return rows


def credential_for_round(round_id: int, secret: str) -> Credential | None:
    """A voter card of any ballot of the round, found by its token, its link or its short code."""
    secret = extract_secret(secret or "")
    ballot_ids = db.session.scalars(db.select(Ballot.id).filter_by(round_id=round_id))
    for ballot_id in ballot_ids:
        credential = find_credential(ballot_id, secret)
        if credential is not None:
            return credential
    return None


def notice_open(run: AllocationRun, now=None) -> bool:
    return run.status == "provisional" and (now or utcnow()) < run.notice_ends_at


def file_objection(
    run: AllocationRun, text: str, *, card: str = "", contact: str = "", now=None
) -> Objection:
    """A resident objects during the notice, identified by a voter card or a contact."""
    text = (text or "").strip()
    if not notice_open(run, now):
        raise Conflict(
            _l("Objections can be filed only during the public notice."), code="notice_closed"
        )
    if not text or len(text) > MAX_OBJECTION:
        raise DomainError(_l("Write your objection (at most 2,000 characters)."), code="bad_text")
    credential = None
    if card.strip():
        credential = credential_for_round(run.round_id, extract_secret(card))
        if credential is None or credential.revoked_at is not None:
            raise Forbidden(_l("This voter card code is not valid."), code="bad_credential")
    elif not contact.strip():
        raise DomainError(
            _l("Give your voter card code or a way to contact you."), code="no_identity"
        )
    objection = Objection(
        run_id=run.id,
        text=text,
        contact=contact.strip()[:100],
        credential_id=credential.id if credential else None,
    )
    db.session.add(objection)
    db.session.commit()
    return objection


def finalize(run: AllocationRun, *, actor, now=None) -> AllocationRun:
    """Lock the result once the notice has ended and every objection has an answer."""
    now = now or utcnow()
    if run.status != "provisional":
        raise Conflict(_l("Only a provisional result can become final."), code="not_provisional")
    if now < run.notice_ends_at:
        raise Conflict(_l("The public notice has not ended yet."), code="notice_open")
    if any(o.status != "answered" for o in run.objections):
        raise Conflict(_l("Every objection needs a public answer first."), code="unanswered")
    run.status = "final"
    run.finalized_at = now
    funding_round = db.session.get(FundingRound, run.round_id)
    funding_round.phase = "delivery"
    record(
        "allocation.finalize",
        "allocation_run",
        run.id,
        actor=actor,
        community_id=funding_round.community_id,
        public=True,
        after={"funded": [p.proposal_id for p in run.projects if p.funded]},
    )
    db.session.commit()
    return run


def supersede(run: AllocationRun, decision_note: str, *, actor) -> AllocationRun:
    """Replace a final result by a new run under the same rule; the decision that allows it is
    recorded."""
    decision_note = (decision_note or "").strip()
    if not decision_note:
        raise DomainError(
            _l("State the decision that changes the final result."), code="no_decision"
        )
    funding_round = db.session.get(FundingRound, run.round_id)
    ballot = db.session.get(Ballot, run.ballot_id)
    return run_allocation(funding_round, ballot, actor=actor, reason=decision_note)


def history(round_id: int) -> list[AllocationRun]:
    """Every result the round has published, newest first: the current one and those it
    replaced, each with the reason it was counted again."""
    return list(
        db.session.scalars(
            db.select(AllocationRun).filter_by(round_id=round_id).order_by(AllocationRun.id.desc())
        )
    )


def source_use(run: AllocationRun, funding_round: FundingRound) -> list[dict]:
    """Each fund source: its amount, what the run assigns from it, and what is left."""
    used: dict[str, int] = {}
    for project in run.projects:
        for source_id, amount in (project.funding_by_source or {}).items():
            used[source_id] = used.get(source_id, 0) + int(amount)
    return [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "amount_fen": s.amount_fen,
            "used_fen": used.get(str(s.id), 0),
            "left_fen": s.amount_fen - used.get(str(s.id), 0),
        }
        for s in funding_round.fund_sources
    ]
