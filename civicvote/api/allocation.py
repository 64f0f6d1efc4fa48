from flask import abort

from ..extensions import db
from ..results.explanations import as_json, explanation
from ..results.reasons import explain
from ..results.services import latest_run, source_use
from ..rounds.models import FundingRound
from ..timeutil import iso_utc
from . import bp


@bp.get("/v1/rounds/<int:round_id>/allocation")
def allocation(round_id: int):
    """The published allocation of a round: what the public results page shows."""
    funding_round = db.session.get(FundingRound, round_id)
    run = latest_run(round_id) if funding_round else None
    if run is None:
        abort(404)
    titles = {str(p.proposal_id): p.proposal.title for p in run.projects}
    sources = {str(s.id): s.name for s in funding_round.fund_sources}
    return {
        "round_id": round_id,
        "ballot_id": run.ballot_id,
        "status": run.status,
        "rule": run.rule,
        "tie_break": run.tie_break,
        "seed": run.seed,
        "threshold_percent": (run.options or {}).get("threshold_percent"),
        "published_at": iso_utc(run.created_at),
        "notice_ends_at": iso_utc(run.notice_ends_at),
        "finalized_at": iso_utc(run.finalized_at),
        "decision_note": run.decision_note,
        "projects": [
            {
                "proposal_id": p.proposal_id,
                "title": p.proposal.title,
                "rank": p.rank,
                "votes": p.votes,
                "cost_fen": p.proposal.total_fen,
                "funded": p.funded,
                "amount_fen": p.amount_fen,
                "funding_by_source": {k: int(v) for k, v in (p.funding_by_source or {}).items()},
                "reason": {
                    "code": (p.reason or {}).get("code", ""),
                    "text": explain(p.reason or {}, titles=titles, sources=sources),
                },
            }
            for p in sorted(run.projects, key=lambda p: p.rank)
        ],
        "fund_sources": source_use(run, funding_round),
        # Why, how fair, and what the other rule would have funded (see the OpenAPI schema).
        "explanation": as_json(explanation(run)),
        "objections": [
            {
                "id": o.id,
                "text": o.text,
                "status": o.status,
                "answer": o.answer,
                "earlier_answers": [
                    {"text": a.text, "answered_at": iso_utc(a.answered_at)}
                    for a in o.earlier_answers
                ],
            }
            for o in run.objections
        ],
    }
