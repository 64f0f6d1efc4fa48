"""GET /api/v1/rounds/<id>/needs: the public data of a round's needs (never contacts)."""

from flask import abort, request

from ..extensions import db
from ..intake.models import Need
from ..intake.services import need_counts, need_json
from . import bp
from .pagination import paginate
from .rounds import get_round

NEED_STATUSES = ("new", "accepted", "declined", "merged")


@bp.get("/v1/rounds/<int:round_id>/needs")
def round_needs(round_id: int):
    funding_round = get_round(round_id)
    status = request.args.get("status", "")
    if status not in ("", *NEED_STATUSES):
        abort(400)
    query = db.select(Need).filter_by(round_id=funding_round.id)
    if status:
        query = query.filter_by(status=status)
    query = query.order_by(Need.support_count.desc(), Need.id)
    extra = {"status": status} if status else {}
    body = paginate(query, "needs", need_json, round_id=round_id, **extra)
    return {"round_id": funding_round.id, "counts": need_counts(funding_round), **body}
