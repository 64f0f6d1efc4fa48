"""GET /api/v1/rounds/<id>/needs: the public data of a round's needs (never contacts)."""

from flask import abort, request

from ..extensions import db
from ..intake.services import list_needs, need_counts, need_json
from ..rounds.models import FundingRound
from . import bp


@bp.get("/v1/rounds/<int:round_id>/needs")
def round_needs(round_id: int):
    funding_round = db.session.get(FundingRound, round_id)
    if funding_round is None:
        abort(404)
    status = request.args.get("status", "")
    if status not in ("", "new", "accepted", "declined", "merged"):
        abort(400)
    needs = list_needs(funding_round, status=status, include_merged=True)
    return {
        "round_id": funding_round.id,
        "counts": need_counts(funding_round),
        "needs": [need_json(n) for n in needs],
    }
