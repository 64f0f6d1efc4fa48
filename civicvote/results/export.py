"""A run's ballot as an anonymised Pabulib ``.pb`` file, and the recount from that file alone.

The file carries what decided the result (rule, completion, tie-break and seed, the ballots a
proposal needed to pass, fund sources, quorum) in its META ``comment``, so ``civicvote allocate``
and :func:`recount` give the published result.
"""

import math
from fractions import Fraction

from ..ballots.models import Ballot, CastBallot
from ..extensions import db
from ..rounds.models import SOURCE_MATCHING, SOURCE_RESTRICTED, FundingRound
from .models import AllocationRun


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}" if fen % 100 else str(fen // 100)


def _pb_date(moment, year: int) -> str:
    return moment.strftime("%d.%m.%Y") if moment else str(year)


def _pb_votes(ballot: Ballot) -> tuple[list, bool]:
    """The cast ballots as anonymous VOTES rows in a fresh random order."""
    import random

    from ..allocation.pabulib import PbVote

    rows = list(
        db.session.execute(
            db.select(CastBallot.contents, CastBallot.neighbourhood).filter_by(ballot_id=ballot.id)
        )
    )
    random.SystemRandom().shuffle(rows)  # arrival order never leaves the database
    # Buildings only as the close coarsened them (allocation/buildings.py); paper ballots: None.
    grouped = any(group for _, group in rows)
    cumulative = ballot.method == "cumulative"
    votes = []
    for number, (content, group) in enumerate(rows, start=1):
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
        columns = {"voter_id": str(number)}
        if grouped:
            columns["neighborhood"] = group or ""  # paper ballots: no building
        votes.append(PbVote(vote, points, columns))
    return votes, cumulative


def _votes_required(run: AllocationRun, ballots_cast: int) -> int | None:
    """The ballots a proposal needed to pass in this run (runs before migration 0008_rules
    stored the round's "at least X%" threshold instead)."""
    options = run.options or {}
    if options.get("votes_required") is not None:
        return options["votes_required"]
    if options.get("threshold_percent"):
        return math.ceil(Fraction(options["threshold_percent"], 100) * ballots_cast)
    return None


def _pb_settings(run: AllocationRun, funding_round: FundingRound, ballots_cast: int) -> dict:
    """What decided the result, for the META comment (amounts in yuan, as text)."""
    options = dict(run.options or {})
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
        # The ballots that had to support a proposal (results.pass_votes_required).
        "votes_required": _votes_required(run, ballots_cast),
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
    from ..allocation.pabulib import Election, pabulib_rule, settings_comment, write_pb

    funding_round = db.session.get(FundingRound, run.round_id)
    ballot = db.session.get(Ballot, run.ballot_id)
    votes, cumulative = _pb_votes(ballot)
    settings = _pb_settings(run, funding_round, len(votes))
    required = settings["votes_required"]
    plain = all(
        s["kind"] == "general" and s["per_project_cap"] is None for s in settings["sources"]
    )
    amounts = [s.amount_fen for s in funding_round.fund_sources]
    amounts += [item.proposal.total_fen for item in ballot.items]
    rule, notes = pabulib_rule(
        run.rule,
        settings["completion"],
        # One supporting ballot is what MES needs anyway: only a higher bar is a threshold.
        threshold=bool(required) and (run.rule != "mes" or required > 1),
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
    if required and not cumulative:
        # An approval's (or a yes's) score is its ballots; points ballots score points.
        meta["min_project_score_threshold"] = str(required)
    groups = sorted({v.columns["neighborhood"] for v in votes if v.columns.get("neighborhood")})
    if groups:
        meta["neighborhoods"] = ",".join(groups)
    meta["language"] = "zh"
    meta["currency"] = "CNY"
    meta["comment"] = settings_comment(settings, notes)
    columns, projects = _pb_projects(run, ballot, votes, cumulative)
    vote_columns = ("voter_id", "vote", "points") if cumulative else ("voter_id", "vote")
    if votes and "neighborhood" in votes[0].columns:
        vote_columns += ("neighborhood",)  # Pabulib's optional voter field (US spelling)
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
