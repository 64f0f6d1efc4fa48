"""Drafting a proposal: its fields, line items, needs answered and milestones.

Everything is checked before anything is written.
"""

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..intake.models import Need
from ..money import MAX_FEN, line_total, parse_quantity, parse_yuan
from ..rounds.models import FundingRound
from .access import require_editable, require_open_round, require_owner
from .models import LineItem, Milestone, Proposal
from .versions import FIELD_LABELS

TEXT_LIMITS = {
    "title": 100,
    "summary": 4000,
    "beneficiaries_desc": 200,
    "location": 100,
    "implementer": 120,
}
MAX_ITEMS = 50
MAX_MILESTONES = 12


def _clean_items(items) -> list[dict]:
    """Rows of (description, quantity text, unit, unit cost in yuan text) into checked values."""
    cleaned = []
    for number, (description, quantity, unit, unit_cost) in enumerate(items, start=1):
        description = (description or "").strip()
        unit = (unit or "").strip()
        if not description and not (quantity or "").strip() and not (unit_cost or "").strip():
            continue  # an empty row
        try:
            if not description:
                raise DomainError(_l("Describe the item."))
            if len(description) > 200 or len(unit) > 20:
                raise DomainError(_l("The description or unit is too long."))
            qty = parse_quantity(quantity)
            cost = parse_yuan(unit_cost)
        except DomainError as error:
            raise DomainError(
                _l("Line %(number)d: %(error)s", number=number, error=str(error.message)),
                code="line_item",
            ) from error
        total = line_total(qty, cost)
        if total > MAX_FEN:
            raise DomainError(
                _l(
                    "Line %(number)d: %(error)s",
                    number=number,
                    error=_("The amount cannot exceed ¥100,000,000."),
                ),
                code="line_item",
            )
        cleaned.append(
            {
                "description": description,
                "quantity": qty,
                "unit": unit,
                "unit_cost_fen": cost,
                "total_fen": total,
            }
        )
    if len(cleaned) > MAX_ITEMS:
        raise DomainError(
            lazy_ngettext(
                "A proposal can have at most %(num)d line item.",
                "A proposal can have at most %(num)d line items.",
                MAX_ITEMS,
            )
        )
    if sum(item["total_fen"] for item in cleaned) > MAX_FEN:
        raise DomainError(_l("The total cannot exceed ¥100,000,000."), code="total")
    return cleaned


def _clean_fields(funding_round: FundingRound, data: dict) -> dict:
    values = {}
    for name, limit in TEXT_LIMITS.items():
        value = (data.get(name) or "").strip()
        if len(value) > limit:
            raise DomainError(
                lazy_ngettext(
                    "%(field)s: at most %(num)d character.",
                    "%(field)s: at most %(num)d characters.",
                    limit,
                    field=FIELD_LABELS.get(name, name),
                )
            )
        values[name] = value
    if not values["title"]:
        raise DomainError(_l("Please give the proposal a title."), code="title")
    category = (data.get("category_code") or "").strip()
    if category not in funding_round.category_codes():
        raise DomainError(_l("Choose a category from the list."), code="category")
    values["category_code"] = category
    count = data.get("beneficiaries_count") or 0
    if not isinstance(count, int) or not 0 <= count <= 10_000_000:
        raise DomainError(_l("The number of beneficiaries must be between 0 and 10,000,000."))
    values["beneficiaries_count"] = count
    start, end = data.get("start_date"), data.get("end_date")
    for value in (start, end):
        if value is not None and (not isinstance(value, date) or not 2000 <= value.year <= 2100):
            raise DomainError(_l("Enter dates between 2000 and 2100."))
    if start and end and end < start:
        raise DomainError(_l("The end date is before the start date."), code="dates")
    values["start_date"], values["end_date"] = start, end
    return values


def _clean_needs(funding_round: FundingRound, need_ids) -> list[Need]:
    needs = []
    for need_id in dict.fromkeys(need_ids or []):
        need = db.session.get(Need, need_id)
        if need is None or need.round_id != funding_round.id:
            raise DomainError(
                _l("A proposal can only answer needs of its own community's round."), code="needs"
            )
        if need.status != "accepted":
            raise DomainError(_l("A proposal can only answer accepted needs."), code="needs")
        needs.append(need)
    return needs


def _clean_milestones(milestones) -> list[tuple[str, date | None]]:
    cleaned = []
    for title, planned in milestones or []:
        title = (title or "").strip()
        if not title:
            continue
        if len(title) > 120:
            raise DomainError(_l("A milestone title can have at most 120 characters."))
        cleaned.append((title, planned))
    if len(cleaned) > MAX_MILESTONES:
        raise DomainError(
            lazy_ngettext(
                "At most %(num)d milestone.", "At most %(num)d milestones.", MAX_MILESTONES
            )
        )
    return cleaned


def _by_submission_key(submission_key: str) -> Proposal | None:
    return db.session.scalar(db.select(Proposal).filter_by(submission_key=submission_key))


def _fill(proposal: Proposal, values: dict, items: list, needs: list, milestones: list) -> None:
    """Write the checked values into the proposal, replacing its items, needs and milestones."""
    for name, value in values.items():
        setattr(proposal, name, value)
    proposal.line_items = [LineItem(position=i, **item) for i, item in enumerate(items)]
    proposal.total_fen = sum(item["total_fen"] for item in items)
    proposal.needs = needs
    proposal.milestones = [
        Milestone(position=i, title=title, planned_date=planned)
        for i, (title, planned) in enumerate(milestones)
    ]


def save_draft(
    funding_round: FundingRound,
    user,
    data: dict,
    *,
    items=(),
    need_ids=(),
    milestones=(),
    proposal: Proposal | None = None,
    submission_key: str | None = None,
) -> Proposal:
    """Create (``proposal`` None) or update a draft for the user's organization.

    Everything is checked before anything is written; totals are computed here in integer fen.
    A repeated ``submission_key`` returns the draft the first submission created.
    """
    if getattr(user, "organization_id", None) is None:
        raise Forbidden(_l("Only members of a social organization can write proposals."))
    if proposal is None and submission_key:
        existing = _by_submission_key(submission_key)
        if existing is not None:
            require_owner(user, existing)
            return existing
    if proposal is not None:
        require_editable(user, proposal)
        funding_round = proposal.round
    require_open_round(funding_round)
    values = _clean_fields(funding_round, data)
    cleaned_items = _clean_items(items)
    needs = _clean_needs(funding_round, need_ids)
    cleaned_milestones = _clean_milestones(milestones)
    creating = proposal is None
    before = (
        None if creating else {"total_fen": proposal.total_fen, "items": len(proposal.line_items)}
    )
    if creating:
        proposal = Proposal(
            round_id=funding_round.id,
            organization_id=user.organization_id,
            created_by_id=user.id,
            status="draft",
            version=0,
            submission_key=submission_key or None,
        )
        db.session.add(proposal)
    _fill(proposal, values, cleaned_items, needs, cleaned_milestones)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = submission_key and _by_submission_key(submission_key)
        if not existing:
            raise
        return existing
    record(
        "proposal.create" if creating else "proposal.edit",
        "proposal",
        proposal.id,
        actor=user,
        community_id=funding_round.community_id,
        before=before,
        after={
            "total_fen": proposal.total_fen,
            "items": len(proposal.line_items),
            "status": proposal.status,
        },
        public=proposal.version > 0,
    )
    db.session.commit()
    return proposal
