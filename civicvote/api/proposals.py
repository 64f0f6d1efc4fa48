"""Proposals as the public sees them: the last submitted version, never drafts."""

from flask import abort

from ..extensions import db
from ..proposals.listing import proposal_json, public_proposals_query
from ..proposals.models import Proposal
from . import bp
from .pagination import paginate
from .rounds import get_round


@bp.get("/v1/rounds/<int:round_id>/proposals")
def round_proposals(round_id: int):
    funding_round = get_round(round_id)
    query = public_proposals_query(funding_round.id)
    body = paginate(query, "proposals", proposal_json, round_id=round_id)
    return {"round_id": funding_round.id, **body}


@bp.get("/v1/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    found = db.session.get(Proposal, proposal_id)
    if found is None or not found.is_public:
        abort(404)
    return proposal_json(found)
