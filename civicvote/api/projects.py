"""GET /api/v1/rounds/<id>/funded-projects: what the final allocation funded, and progress."""

from ..delivery.models import ProgressUpdate
from ..delivery.services import funded_projects_query
from ..extensions import db
from ..timeutil import iso_utc
from . import bp
from .pagination import paginate
from .rounds import get_round


def _date(value) -> str | None:
    return value.isoformat() if value else None


def funded_project_json(allocation) -> dict:
    """A funded project: its funding by source and its progress (milestones, latest report)."""
    proposal = allocation.proposal
    milestones = list(proposal.milestones)
    done = sum(1 for m in milestones if m.actual_date is not None)
    latest = db.session.scalar(
        db.select(ProgressUpdate)
        .filter_by(proposal_id=proposal.id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
        .limit(1)
    )
    return {
        "proposal_id": proposal.id,
        "title": proposal.title,
        "category": proposal.category_code,
        "implementer": proposal.implementer,
        "votes": allocation.votes,
        "rank": allocation.rank,
        "amount_fen": allocation.amount_fen,
        "funding_by_source": [
            {"fund_source_id": int(source), "amount_fen": int(amount)}
            for source, amount in sorted(
                (allocation.funding_by_source or {}).items(), key=lambda kv: str(kv[0]).zfill(20)
            )
            if str(source).isdigit()
        ],
        "progress": {
            "percent": round(100 * done / len(milestones)) if milestones else 0,
            "milestones_done": done,
            "milestones_total": len(milestones),
            "reported_percent": latest.percent_complete if latest else None,
            "last_update_at": iso_utc(latest.created_at) if latest else None,
        },
        "milestones": [
            {
                "title": m.title,
                "planned_date": _date(m.planned_date),
                "actual_date": _date(m.actual_date),
            }
            for m in milestones
        ],
    }


@bp.get("/v1/rounds/<int:round_id>/funded-projects")
def round_funded_projects(round_id: int):
    funding_round = get_round(round_id)
    query = funded_projects_query(funding_round.id)
    body = paginate(query, "projects", funded_project_json, round_id=round_id)
    return {"round_id": funding_round.id, **body}
