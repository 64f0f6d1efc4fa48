"""GET /api/v1/rounds and /api/v1/rounds/<id>: phases, budget, categories, fund sources."""

from flask import abort

from ..extensions import db
from ..rounds.models import PHASES, FundingRound
from . import bp
from .pagination import paginate


def round_json(funding_round: FundingRound) -> dict:
    return {
        "id": funding_round.id,
        "community_id": funding_round.community_id,
        "name": funding_round.name,
        "year": funding_round.year,
        "description": funding_round.description,
        "phase": funding_round.phase,
        "phases": list(PHASES),
        "budget_fen": funding_round.budget_fen,
        "per_project_cap_fen": funding_round.per_project_cap_fen,
        "vote_unit": funding_round.vote_unit,
        "allocation_rule": funding_round.allocation_rule,
        "categories": [{"code": c.code, "name": c.name} for c in funding_round.categories],
        "fund_sources": [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "amount_fen": s.amount_fen,
                "categories": list(s.categories or []),
                "per_project_cap_fen": s.per_project_cap_fen,
                "match_ratio_percent": s.match_ratio_percent,
            }
            for s in funding_round.fund_sources
            if s.public
        ],
        "ballot_ids": [b.id for b in funding_round.ballots if b.status != "draft"],
    }


def get_round(round_id: int) -> FundingRound:
    found = db.session.get(FundingRound, round_id)
    if found is None:
        abort(404)
    return found


@bp.get("/v1/rounds")
def rounds():
    query = db.select(FundingRound).order_by(FundingRound.id)
    return paginate(query, "rounds", round_json)


@bp.get("/v1/rounds/<int:round_id>")
def round_detail(round_id: int):
    return round_json(get_round(round_id))
