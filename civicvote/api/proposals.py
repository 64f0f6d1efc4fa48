"""GET /api/v1/rounds/<id>/proposals: submitted proposals as the public sees them (no drafts)."""

from flask import abort

from ..extensions import db
from ..proposals.services import proposal_json, public_proposals
from ..rounds.models import FundingRound
from . import bp


@bp.get("/v1/rounds/<int:round_id>/proposals")
def round_proposals(round_id: int):
    funding_round = db.session.get(FundingRound, round_id)
    if funding_round is None:
        abort(404)
    return {
        "round_id": funding_round.id,
        "proposals": [proposal_json(p) for p in public_proposals(funding_round)],
    }
