from ..extensions import db
from ..rounds.models import FundingRound
from . import bp
from .pagination import paginate


def round_json(funding_round: FundingRound) -> dict:
    return {
        "id": funding_round.id,
        "community_id": funding_round.community_id,
        "name": funding_round.name,
        "year": funding_round.year,
        "phase": funding_round.phase,
        "budget_fen": funding_round.budget_fen,
        "per_project_cap_fen": funding_round.per_project_cap_fen,
        "vote_unit": funding_round.vote_unit,
        "categories": [{"code": c.code, "name": c.name} for c in funding_round.categories],
        "fund_sources": [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "amount_fen": s.amount_fen,
                "categories": s.categories,
                "per_project_cap_fen": s.per_project_cap_fen,
                "match_ratio_percent": s.match_ratio_percent,
            }
            for s in funding_round.fund_sources
            if s.public
        ],
        "ballot_ids": [b.id for b in funding_round.ballots],
    }


@bp.get("/v1/rounds")
def rounds():
    query = db.select(FundingRound).order_by(FundingRound.id)
    return paginate(query, "rounds", round_json)
