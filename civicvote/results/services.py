"""From a closed ballot to a final, public allocation: the run, the public notice, objections.

The allocation rules themselves are pure (``civicvote.allocation``); this module feeds them the
round's proposals, the cast ballots and the fund sources, and keeps the explained outcome.
A run is *provisional* while the public notice lasts; residents object, organizers answer in
public; once the notice has ended and every objection is answered, the run becomes *final* and
is locked. Changing a final result takes a new run with a recorded decision (``supersede``).
"""

import secrets
from datetime import timedelta
from fractions import Fraction

from flask_babel import lazy_gettext as _l

from ..allocation import COMPLETIONS, Project, Threshold, Votes, allocate
from ..allocation import FundSource as Source
from ..audit.services import record
from ..ballots.models import Ballot, CastBallot
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


def _run_settings(
    funding_round: FundingRound,
    ballot: Ballot,
    rule: str | None,
    threshold_percent: int | None,
    decision_note: str,
) -> tuple[str, int | None]:
    """Refuse a run that may not happen now; the rule and threshold it uses (the round's unless
    given)."""
    if ballot.round_id != funding_round.id:
        raise NotFound(_l("No such ballot."), code="not_found")
    if ballot.status != "closed":
        raise Conflict(_l("The allocation runs after the ballot has closed."), code="not_closed")
    current = latest_run(funding_round.id)
    if current is not None and current.status == "final" and not decision_note:
        raise Conflict(
            _l("The result is final. Changing it needs a new, recorded decision."), code="final"
        )
    rule = rule or funding_round.allocation_rule
    if rule not in RULES:
        raise DomainError(_l("Unknown allocation rule."), code="bad_rule")
    if threshold_percent is None:
        threshold_percent = funding_round.approval_threshold_percent
    if threshold_percent is not None and not 0 < threshold_percent <= 100:
        raise DomainError(_l("The threshold is a percentage from 1 to 100."), code="bad_threshold")
    if rule == "greedy-threshold" and threshold_percent is None:
        raise DomainError(_l("This rule needs an approval threshold."), code="bad_threshold")
    return rule, threshold_percent


def _seeded_tie_break(tie_break: str) -> tuple[str, str]:
    """The tie-break with its seed, and the seed (empty for a rule that draws no lot)."""
    seed = ""
    if tie_break in ("cost", "lot"):
        # The lot's seed is drawn now and published with the result, so anyone can redraw it.
        seed = secrets.token_hex(8)
        tie_break = f"{tie_break}:{seed}"
    return tie_break, seed


def _project_rows(outcome) -> list[ProjectAllocation]:
    """Each project's result as a row: rank, votes, funding by source and the reason."""
    rows = []
    for result in outcome.results:
        funding = {source: int(amount) for source, amount in result.funding.items()}
        main, *context = result.reasons
        rows.append(
            ProjectAllocation(
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
        )
    return rows


def _completion(funding_round: FundingRound, rule: str, completion: str | None) -> str:
    """What MES does with the money it leaves: as asked, else the round's setting."""
    completion = (completion or funding_round.mes_completion) if rule == "mes" else "none"
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
    funding_round: FundingRound,
    ballot: Ballot,
    *,
    actor,
    rule: str | None = None,
    threshold_percent: int | None = None,
    tie_break: str | None = None,
    completion: str | None = None,
    decision_note: str = "",
) -> AllocationRun:
    """Count the closed ballot through the round's rule and publish a provisional result.

    A new run replaces an earlier provisional one; a final result can only be replaced through
    :func:`supersede`, which records why.
    """
    rule, threshold_percent = _run_settings(
        funding_round, ballot, rule, threshold_percent, decision_note
    )
    threshold = (
        Threshold(Fraction(threshold_percent, 100), relative=True) if threshold_percent else None
    )
    tie_break, seed = _seeded_tie_break(tie_break or funding_round.tie_break or "cost")
    completion = _completion(funding_round, rule, completion)
    projects = projects_of(ballot)
    outcome = allocate(
        projects,
        votes_of(ballot),
        sources=sources_of(funding_round),
        rule=rule,
        threshold=threshold,
        tie_break=tie_break,
        completion=completion,
        # MES add1 raises each voter's budget one yuan (100 fen) at a time, as the field does,
        # so an exported round replays identically in yuan.
        step=100,
    )
    _supersede_current(funding_round.id)
    now = utcnow()
    run = AllocationRun(
        round_id=funding_round.id,
        ballot_id=ballot.id,
        rule=rule,
        options={
            "threshold_percent": threshold_percent,
            "completion": completion,
        },
        tie_break=outcome.tie_break,
        seed=seed,
        status="provisional",
        outcome=outcome.to_dict(),
        decision_note=decision_note,
        notice_ends_at=now + timedelta(days=funding_round.notice_days),
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    run.projects.extend(_project_rows(outcome))
    db.session.add(run)
    funding_round.phase = "notice"
    db.session.flush()
    record(
        "allocation.run",
        "allocation_run",
        run.id,
        actor=actor,
        community_id=funding_round.community_id,
        public=True,
        after={
            "rule": rule,
            "tie_break": outcome.tie_break,
            "funded": list(outcome.funded),
            "decision": decision_note,
        },
    )
    db.session.commit()
    return run


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


def supersede(run: AllocationRun, decision_note: str, *, actor, **options) -> AllocationRun:
    """Replace a final result by a new run; the decision that allows it is recorded."""
    decision_note = (decision_note or "").strip()
    if not decision_note:
        raise DomainError(
            _l("State the decision that changes the final result."), code="no_decision"
        )
    funding_round = db.session.get(FundingRound, run.round_id)
    ballot = db.session.get(Ballot, run.ballot_id)
    return run_allocation(
        funding_round, ballot, actor=actor, decision_note=decision_note, **options
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


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}" if fen % 100 else str(fen // 100)


def _pb_date(moment, year: int) -> str:
    return moment.strftime("%d.%m.%Y") if moment else str(year)


def _pb_votes(ballot: Ballot) -> tuple[list, bool]:
    """The cast ballots as anonymous VOTES rows in a fresh random order."""
    import random

    from ..allocation.pabulib import PbVote

    contents = list(
        db.session.scalars(db.select(CastBallot.contents).filter_by(ballot_id=ballot.id))
    )
    random.SystemRandom().shuffle(contents)  # arrival order never leaves the database
    cumulative = ballot.method == "cumulative"
    votes = []
    for number, content in enumerate(contents, start=1):
        points = None
        if cumulative:
            # Pabulib lists a ballot's projects by points, most first.
            pairs = sorted(content.get("points", {}).items(), key=lambda kv: (-kv[1], int(kv[0])))
            vote = tuple(str(p) for p, _ in pairs)
            points = tuple(int(n) for _, n in pairs)
        elif ballot.method == "yes_no":
            vote = tuple(sorted((p for p, yes in content.items() if yes), key=int))
        else:
            vote = tuple(str(p) for p in sorted(content.get("selections", [])))
        votes.append(PbVote(vote, points, {"voter_id": str(number)}))
    return votes, cumulative


def _pb_settings(run: AllocationRun, funding_round: FundingRound) -> dict:
    """What decided the result, for the META comment (amounts in yuan, as text)."""
    options = dict(run.options or {})
    percent = options.get("threshold_percent")
    sources = []
    for s in funding_round.fund_sources:
        ratio = Fraction(s.match_ratio_percent or 100, 100)
        sources.append(
            {
                "id": str(s.id),
                "kind": {SOURCE_RESTRICTED: "restricted", SOURCE_MATCHING: "matching"}.get(
                    s.kind, "general"
                ),
                "amount": _yuan(s.amount_fen),
                "categories": s.categories or None,
                "per_project_cap": _yuan(s.per_project_cap_fen)
                if s.per_project_cap_fen is not None
                else None,
                "match_ratio": str(ratio),
            }
        )
    return {
        "rule": run.rule,
        "completion": options.get("completion") or "none",
        "tie_break": run.tie_break,
        "threshold": str(Fraction(percent, 100)) if percent else None,
        "step": "1",  # add1 adds one yuan per voter at a time
        "sources": sources,
        "options": options,
    }


def export_pabulib(run: AllocationRun) -> str:
    """The run's ballot as an anonymised Pabulib file: shuffled ballots, no voter data.

    Amounts are in yuan. META follows Pabulib's field order and names the rule the Pabulib
    way where it can (``unknown`` where it cannot, with the reason in ``comment``); the
    ``comment`` ends with the civicvote settings that decided the result (rule, completion,
    tie-break and its seed, threshold, fund sources, quorum), which ``civicvote allocate``
    reads back. PROJECTS are listed in the order the tie-break ranked them, so a tool that
    keeps file order for equal votes ranks them the same way.
    """
    import math

    from ..allocation.pabulib import Election, pabulib_rule, settings_comment, write_pb

    funding_round = db.session.get(FundingRound, run.round_id)
    ballot = db.session.get(Ballot, run.ballot_id)
    votes, cumulative = _pb_votes(ballot)
    settings = _pb_settings(run, funding_round)
    plain = all(
        s["kind"] == "general" and s["per_project_cap"] is None for s in settings["sources"]
    )
    percent = (run.options or {}).get("threshold_percent")
    amounts = [s.amount_fen for s in funding_round.fund_sources]
    amounts += [item.proposal.total_fen for item in ballot.items]
    rule, notes = pabulib_rule(
        run.rule,
        settings["completion"],
        threshold=bool(percent),
        plain_sources=plain,
        whole_amounts=all(fen % 100 == 0 for fen in amounts),
    )
    community = funding_round.community
    meta = {
        "description": f"{community.name} {funding_round.name}",
        "country": "China",
        "unit": community.district or community.name,
        "subunit": community.name,
        "instance": str(funding_round.year),
        "num_projects": str(len(ballot.items)),
        "num_votes": str(len(votes)),
        "budget": _yuan(sum(s.amount_fen for s in funding_round.fund_sources)),
        "vote_type": "cumulative" if cumulative else "approval",
        "rule": rule,
        "date_begin": _pb_date(ballot.opened_at, funding_round.year),
        "date_end": _pb_date(ballot.closed_at, funding_round.year),
    }
    if ballot.method == "knapsack":
        meta["max_sum_cost"] = _yuan(ballot.budget_fen or funding_round.budget_fen)
    if cumulative and ballot.points_total:
        meta["max_sum_points"] = str(ballot.points_total)
    if percent and ballot.method != "yes_no":
        # Scores are whole: "at least p% of the ballots" is "at least this many".
        meta["min_project_score_threshold"] = str(math.ceil(Fraction(percent, 100) * len(votes)))
    meta["language"] = "zh"
    meta["currency"] = "CNY"
    meta["comment"] = settings_comment(settings, notes)
    columns, projects = _pb_projects(run, ballot, votes, cumulative)
    vote_columns = ("voter_id", "vote", "points") if cumulative else ("voter_id", "vote")
    return write_pb(Election(meta, columns, tuple(projects), vote_columns, tuple(votes)))


def _pb_projects(run: AllocationRun, ballot: Ballot, votes, cumulative: bool):
    """PROJECTS columns and rows, in the order the round's tie-break ranked them."""
    from ..allocation.pabulib import PbProject

    by_project = {p.proposal_id: p for p in run.projects}
    items = sorted(
        ballot.items,
        key=lambda item: getattr(by_project.get(item.proposal_id), "rank", None) or 10**9,
    )
    columns = ["project_id", "cost", "votes", "name", "category", "selected"]
    if cumulative:
        columns.insert(3, "score")
    score = _scores(votes) if cumulative else {}
    projects = []
    for item in items:
        result = by_project.get(item.proposal_id)
        proposal = item.proposal
        projects.append(
            PbProject(
                str(proposal.id),
                Fraction(proposal.total_fen, 100),
                {
                    "cost": _yuan(proposal.total_fen),
                    "votes": str(result.votes if result else 0),
                    "score": str(score.get(str(proposal.id), 0)),
                    "name": proposal.title,
                    "category": proposal.category_code or None,
                    "selected": "1" if result and result.funded else "0",
                },
            )
        )
    return tuple(columns), projects


def _scores(votes) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in votes:
        for pid, points in zip(v.vote, v.points or (), strict=False):
            out[pid] = out.get(pid, 0) + int(points)
    return out


def recount(text: str):
    """Recompute a round from its exported Pabulib file alone, with the round's own rule,
    sources and tie-break, which the file carries (else as any Pabulib tool would)."""
    from ..allocation.pabulib import parse_pb, replay

    return replay(parse_pb(text))
