"""Lists of a round's proposals and needs, and a proposal's public JSON."""

from ..extensions import db
from ..intake.models import Need
from ..rounds.models import FundingRound
from ..timeutil import iso_utc
from .models import Proposal
from .versions import public_snapshot


def public_proposals_query(round_id: int):
    """The round's proposals the public sees (no drafts), oldest first, as a query."""
    return (
        db.select(Proposal)
        .filter_by(round_id=round_id)
        .where(Proposal.is_public)
        .order_by(Proposal.id)
    )


def public_proposals(funding_round: FundingRound) -> list[Proposal]:
    """The round's proposals the public sees, oldest first."""
    return list(db.session.scalars(public_proposals_query(funding_round.id)))


def organization_proposals(funding_round: FundingRound, organization_id: int) -> list[Proposal]:
    """Every proposal of one organization in the round, drafts included."""
    query = (
        db.select(Proposal)
        .filter_by(round_id=funding_round.id, organization_id=organization_id)
        .order_by(Proposal.id)
    )
    return list(db.session.scalars(query))


def accepted_needs(funding_round: FundingRound) -> list[Need]:
    """The round's accepted needs, which a proposal may answer."""
    query = (
        db.select(Need).filter_by(round_id=funding_round.id, status="accepted").order_by(Need.id)
    )
    return list(db.session.scalars(query))


def proposal_json(proposal: Proposal) -> dict:
    """Public data of a proposal: the last submitted version, its status and reviews."""
    data = public_snapshot(proposal) or {}
    return {
        "id": proposal.id,
        "round_id": proposal.round_id,
        "organization": proposal.organization.name if proposal.organization else None,
        "status": proposal.status,
        "version": proposal.version,
        "title": data.get("title"),
        "summary": data.get("summary"),
        "category": data.get("category_code"),
        "location": data.get("location"),
        "beneficiaries_count": data.get("beneficiaries_count"),
        "beneficiaries_desc": data.get("beneficiaries_desc"),
        "start_date": data.get("start_date"),
        "end_date": data.get("end_date"),
        "implementer": data.get("implementer"),
        "total_fen": data.get("total_fen"),
        "line_items": data.get("line_items", []),
        "milestones": data.get("milestones", []),
        "need_ids": [n["id"] for n in data.get("needs", [])],
        "documents": data.get("documents", []),
        "automatic_checks": data.get("checks", []),
        "rejection_reason": proposal.rejection_reason if proposal.status == "rejected" else "",
        "reviews": [
            {
                "version": r.version,
                "decision": r.decision,
                "comment": r.comment,
                "at": iso_utc(r.created_at),
            }
            for r in proposal.reviews
        ],
    }
