"""Proposals: drafting with line items, submission with versions, automatic checks, review."""

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..errors import Conflict, DomainError, Forbidden, NotFound, too_long
from ..extensions import db
from ..i18n import money
from ..intake.models import Need
from ..money import MAX_FEN, line_total, parse_quantity, parse_yuan
from ..rounds.models import FundingRound
from ..rounds.services import PROPOSAL_PHASES
from ..timeutil import iso_utc
from ..uploads.storage import store_upload
from .models import LineItem, Milestone, Proposal, ProposalDocument, ProposalVersion, Review

TEXT_LIMITS = {
    "title": 100,
    "summary": 4000,
    "beneficiaries_desc": 200,
    "location": 100,
    "implementer": 120,
}
MAX_ITEMS = 50
MAX_MILESTONES = 12
DECISIONS = ("approve", "return", "reject")
DECISION_STATUS = {"approve": "approved", "return": "returned", "reject": "rejected"}
DECISION_LABELS = {
    "approve": _l("Approved for the ballot"),
    "return": _l("Returned for revision"),
    "reject": _l("Rejected"),
}
FIELD_LABELS = {
    "title": _l("Title"),
    "summary": _l("Summary"),
    "beneficiaries_count": _l("Number of beneficiaries"),
    "beneficiaries_desc": _l("Who benefits"),
    "location": _l("Location"),
    "start_date": _l("Start"),
    "end_date": _l("End"),
    "category_code": _l("Category"),
    "implementer": _l("Implementer"),
    "total_fen": _l("Total cost"),
    "needs": _l("Needs answered"),
    "documents": _l("Documents provided"),
    "milestones": _l("Milestones"),
}


# --- Access ------------------------------------------------------------------------------


def get_proposal(community, proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.round.community_id != community.id:
        raise NotFound(_l("This proposal does not exist."))
    return proposal


def is_owner(user, proposal: Proposal) -> bool:
    return (
        user is not None
        and getattr(user, "organization_id", None) is not None
        and user.organization_id == proposal.organization_id
    )


def require_owner(user, proposal: Proposal) -> None:
    if not is_owner(user, proposal):
        raise Forbidden(_l("Only the organization that wrote this proposal can change it."))


def can_view(user, proposal: Proposal) -> bool:
    """Drafts are private to their organization; everything submitted is public."""
    return proposal.is_public or is_owner(user, proposal)


def _open_round(funding_round: FundingRound) -> None:
    if funding_round.phase not in PROPOSAL_PHASES:
        raise Conflict(
            _l(
                "This round is not accepting proposals now (%(phase)s).",
                phase=funding_round.phase_label,
            ),
            code="phase",
        )


# --- Drafting ----------------------------------------------------------------------------


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
        existing = db.session.scalar(db.select(Proposal).filter_by(submission_key=submission_key))
        if existing is not None:
            require_owner(user, existing)
            return existing
    if proposal is not None:
        require_owner(user, proposal)
        if not proposal.editable:
            raise Conflict(
                _l(
                    "This proposal cannot be changed now (%(status)s).",
                    status=proposal.status_label,
                ),
                code="locked",
            )
        funding_round = proposal.round
    _open_round(funding_round)
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
    for name, value in values.items():
        setattr(proposal, name, value)
    proposal.line_items = [LineItem(position=i, **item) for i, item in enumerate(cleaned_items)]
    proposal.total_fen = sum(item["total_fen"] for item in cleaned_items)
    proposal.needs = needs
    proposal.milestones = [
        Milestone(position=i, title=title, planned_date=planned)
        for i, (title, planned) in enumerate(cleaned_milestones)
    ]
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = submission_key and db.session.scalar(
            db.select(Proposal).filter_by(submission_key=submission_key)
        )
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


# --- Required documents -------------------------------------------------------------------


def _editable_by(user, proposal: Proposal) -> None:
    require_owner(user, proposal)
    if not proposal.editable:
        raise Conflict(
            _l("This proposal cannot be changed now (%(status)s).", status=proposal.status_label),
            code="locked",
        )


def _record_documents(proposal: Proposal, user, name: str, file_name: str | None) -> None:
    proposal.documents = [d.name for d in proposal.document_files]
    record(
        "proposal.document",
        "proposal",
        proposal.id,
        actor=user,
        community_id=proposal.round.community_id,
        after={"document": name, "file": file_name},
        public=proposal.version > 0,
    )
    db.session.commit()


def attach_document(
    proposal: Proposal, user, name: str, data: bytes, file_name: str, *, instance_path: str
) -> ProposalDocument:
    """Attach (or replace) the file for one of the round's required documents.

    The file is checked and cleaned like every upload (PDF or image, at most 10 MB).
    """
    _editable_by(user, proposal)
    if name not in (proposal.round.required_documents or []):
        raise NotFound(_l("This round does not ask for that document."), code="unknown_document")
    upload = store_upload(data, file_name, instance_path=instance_path, uploaded_by_id=user.id)
    for old in [d for d in proposal.document_files if d.name == name]:
        proposal.document_files.remove(old)
    db.session.flush()  # the old row goes before the new one takes its (proposal, name)
    document = ProposalDocument(name=name, upload=upload)
    proposal.document_files.append(document)
    db.session.flush()
    _record_documents(proposal, user, name, upload.original_name)
    return document


def remove_document(proposal: Proposal, user, name: str) -> None:
    _editable_by(user, proposal)
    found = [d for d in proposal.document_files if d.name == name]
    if not found:
        raise NotFound(_l("No file is attached for this document."), code="no_document")
    proposal.document_files.remove(found[0])
    db.session.flush()
    _record_documents(proposal, user, name, None)


# --- Checks, snapshots and differences ---------------------------------------------------


def automatic_checks(proposal: Proposal) -> list[dict]:
    """The round's rules applied to the proposal. Each check: code, ok, and its numbers."""
    funding_round = proposal.round
    checks = [
        {"code": "items", "ok": bool(proposal.line_items)},
        {"code": "needs", "ok": bool(proposal.needs)},
        {"code": "category", "ok": proposal.category_code in funding_round.category_codes()},
    ]
    if funding_round.per_project_cap_fen:
        checks.append(
            {
                "code": "cap",
                "ok": proposal.total_fen <= funding_round.per_project_cap_fen,
                "limit_fen": funding_round.per_project_cap_fen,
                "total_fen": proposal.total_fen,
            }
        )
    checks.append(
        {
            "code": "budget",
            "ok": proposal.total_fen <= funding_round.budget_fen,
            "limit_fen": funding_round.budget_fen,
            "total_fen": proposal.total_fen,
        }
    )
    required = list(funding_round.required_documents or [])
    if required:
        missing = [d for d in required if d not in (proposal.documents or [])]
        checks.append({"code": "documents", "ok": not missing, "missing": missing})
    return checks


def check_message(check: dict) -> str:
    """A check in words, in the active language."""
    code, ok = check["code"], check["ok"]
    if code == "items":
        return _("Has line items.") if ok else _("Has no line items.")
    if code == "needs":
        return _("Answers accepted needs.") if ok else _("Answers no accepted need.")
    if code == "category":
        return (
            _("Category allowed in this round.") if ok else _("Category not allowed in this round.")
        )
    if code == "cap":
        return (
            _(
                "Total %(total)s is within the cap per project of %(limit)s.",
                total=money(check["total_fen"]),
                limit=money(check["limit_fen"]),
            )
            if ok
            else _(
                "Total %(total)s is over the cap per project of %(limit)s.",
                total=money(check["total_fen"]),
                limit=money(check["limit_fen"]),
            )
        )
    if code == "budget":
        return (
            _(
                "Total %(total)s is within the round's budget of %(limit)s.",
                total=money(check["total_fen"]),
                limit=money(check["limit_fen"]),
            )
            if ok
            else _(
                "Total %(total)s is over the round's budget of %(limit)s.",
                total=money(check["total_fen"]),
                limit=money(check["limit_fen"]),
            )
        )
    if code == "documents":
        return (
            _("All required documents provided.")
            if ok
            else _(
                "Missing documents: %(names)s",
                # TRANSLATORS: the separator between items of a list
                names=_(", ").join(check.get("missing", [])),
            )
        )
    return code


def snapshot(proposal: Proposal) -> dict:
    """The proposal as plain JSON values: what a version freezes and the public pages show."""
    return {
        "title": proposal.title,
        "summary": proposal.summary,
        "beneficiaries_count": proposal.beneficiaries_count,
        "beneficiaries_desc": proposal.beneficiaries_desc,
        "location": proposal.location,
        "start_date": proposal.start_date.isoformat() if proposal.start_date else None,
        "end_date": proposal.end_date.isoformat() if proposal.end_date else None,
        "category_code": proposal.category_code,
        "implementer": proposal.implementer,
        "total_fen": proposal.total_fen,
        "line_items": [
            {
                "description": item.description,
                "quantity": f"{item.quantity:.2f}",
                "unit": item.unit,
                "unit_cost_fen": item.unit_cost_fen,
                "total_fen": item.total_fen,
            }
            for item in proposal.line_items
        ],
        "milestones": [
            {
                "title": m.title,
                "planned_date": m.planned_date.isoformat() if m.planned_date else None,
            }
            for m in proposal.milestones
        ],
        "needs": [{"id": n.id, "title": n.title} for n in proposal.needs],
        "documents": list(proposal.documents or []),
    }


def public_snapshot(proposal: Proposal) -> dict | None:
    """What the public sees: the last submitted version (edits in progress stay private)."""
    if not proposal.is_public:
        return None
    if proposal.versions:
        return proposal.versions[-1].snapshot
    return snapshot(proposal)


def _item_text(item: dict) -> str:
    quantity = item["quantity"].rstrip("0").rstrip(".")
    return (
        f"{quantity} {item['unit']} × {money(item['unit_cost_fen'])} = {money(item['total_fen'])}"
    )


def diff_snapshots(old: dict, new: dict) -> list[dict]:
    """What changed between two versions, field by field and line item by line item."""
    changes = []
    for name in (
        "title",
        "summary",
        "beneficiaries_count",
        "beneficiaries_desc",
        "location",
        "start_date",
        "end_date",
        "category_code",
        "implementer",
        "total_fen",
    ):
        before, after = old.get(name), new.get(name)
        if before != after:
            if name == "total_fen":
                before, after = money(before), money(after)
            changes.append(
                {"label": FIELD_LABELS[name], "before": before or "", "after": after or ""}
            )
    for name in ("needs", "documents", "milestones"):

        def text(values, name=name):
            if name == "needs":
                return "; ".join(v["title"] for v in values)
            if name == "milestones":
                return "; ".join(f"{v['title']} {v['planned_date'] or ''}".strip() for v in values)
            return "; ".join(values)

        before, after = text(old.get(name, [])), text(new.get(name, []))
        if before != after:
            changes.append({"label": FIELD_LABELS[name], "before": before, "after": after})
    old_items = {item["description"]: item for item in old.get("line_items", [])}
    new_items = {item["description"]: item for item in new.get("line_items", [])}
    for description, item in new_items.items():
        if description not in old_items:
            changes.append(
                {
                    "label": _("Line item added: %(item)s", item=description),
                    "before": "",
                    "after": _item_text(item),
                }
            )
        elif old_items[description] != item:
            changes.append(
                {
                    "label": _("Line item changed: %(item)s", item=description),
                    "before": _item_text(old_items[description]),
                    "after": _item_text(item),
                }
            )
    for description, item in old_items.items():
        if description not in new_items:
            changes.append(
                {
                    "label": _("Line item removed: %(item)s", item=description),
                    "before": _item_text(item),
                    "after": "",
                }
            )
    return changes


def version_history(proposal: Proposal) -> list[dict]:
    """Every submitted version with its differences from the one before."""
    history, previous = [], None
    for version in proposal.versions:
        history.append(
            {
                "number": version.number,
                "submitted_at": version.submitted_at,
                "total_fen": version.snapshot.get("total_fen", 0),
                "changes": diff_snapshots(previous, version.snapshot) if previous else [],
            }
        )
        previous = version.snapshot
    return history


# --- Submission and review ---------------------------------------------------------------


def submit(proposal: Proposal, user, *, expected_version: int | None = None) -> Proposal:
    """Submit (or resubmit) for review: a new frozen version with the automatic checks.

    ``expected_version`` is the version the organization saw; a second click of the same
    submit button finds the proposal already submitted at the next version and changes nothing.
    """
    require_owner(user, proposal)
    if (
        expected_version is not None
        and proposal.status == "submitted"
        and proposal.version == expected_version + 1
    ):
        return proposal
    _open_round(proposal.round)
    if not proposal.line_items:
        raise DomainError(_l("Add at least one line item before submitting."), code="items")
    if not proposal.needs:
        raise DomainError(
            _l("Choose at least one accepted need the proposal answers."), code="needs"
        )
    before = {"status": proposal.status, "version": proposal.version}
    proposal.change_status("submitted")
    proposal.version += 1
    frozen = snapshot(proposal)
    frozen["checks"] = automatic_checks(proposal)
    db.session.add(
        ProposalVersion(
            proposal_id=proposal.id,
            number=proposal.version,
            snapshot=frozen,
            submitted_by_id=user.id,
        )
    )
    try:
        db.session.flush()
    except IntegrityError:  # the same version submitted twice at once
        db.session.rollback()
        return db.session.get(Proposal, proposal.id)
    record(
        "proposal.submit",
        "proposal",
        proposal.id,
        actor=user,
        community_id=proposal.round.community_id,
        before=before,
        after={"status": "submitted", "version": proposal.version, "total_fen": proposal.total_fen},
        public=True,
    )
    db.session.commit()
    return proposal


def review(
    proposal: Proposal,
    reviewer,
    decision: str,
    comment: str = "",
    *,
    expected_version: int | None = None,
) -> Review:
    """A reviewer's decision on the submitted version: approve, return with comments, reject
    with a public reason. Approval needs every automatic check to pass."""
    if decision not in DECISIONS:
        raise DomainError(_l("Choose approve, return or reject."), code="decision")
    if expected_version is not None and proposal.version != expected_version:
        raise Conflict(_l("A newer version was submitted; please read it first."))
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise too_long(4000)
    if decision in ("return", "reject") and not comment:
        raise DomainError(
            _l("Please write the comments or reason the organization will read."), code="comment"
        )
    if is_owner(reviewer, proposal):
        raise Forbidden(_l("An organization cannot review its own proposal."))
    if proposal.status != "submitted":
        raise Conflict(
            _l("Only proposals waiting for review can be decided."), code="proposal_transition"
        )
    checks = automatic_checks(proposal)
    if decision == "approve" and not all(c["ok"] for c in checks):
        raise DomainError(
            _l("This proposal fails the automatic checks: return it or reject it."),
            code="checks",
        )
    before = {"status": proposal.status}
    proposal.change_status(DECISION_STATUS[decision])
    if decision == "reject":
        proposal.rejection_reason = comment
    entry = Review(
        proposal_id=proposal.id,
        version=proposal.version,
        reviewer_id=reviewer.id,
        decision=decision,
        comment=comment,
        automatic_checks=checks,
    )
    db.session.add(entry)
    db.session.flush()
    record(
        f"proposal.{decision}",
        "proposal",
        proposal.id,
        actor=reviewer,
        community_id=proposal.round.community_id,
        before=before,
        after={"status": proposal.status, "version": proposal.version, "comment": comment},
        public=True,
    )
    db.session.commit()
    return entry


def withdraw(proposal: Proposal, user) -> Proposal:
    require_owner(user, proposal)
    before = {"status": proposal.status}
    proposal.change_status("withdrawn")
    record(
        "proposal.withdraw",
        "proposal",
        proposal.id,
        actor=user,
        community_id=proposal.round.community_id,
        before=before,
        after={"status": "withdrawn"},
        public=proposal.version > 0,
    )
    db.session.commit()
    return proposal


# --- Listing -----------------------------------------------------------------------------


def public_proposals_query(round_id: int):
    """The round's proposals the public sees (no drafts), oldest first, as a query."""
    return (
        db.select(Proposal)
        .filter_by(round_id=round_id)
        .where(Proposal.is_public)
        .order_by(Proposal.id)
    )


def public_proposals(funding_round: FundingRound) -> list[Proposal]:
    return list(db.session.scalars(public_proposals_query(funding_round.id)))


def organization_proposals(funding_round: FundingRound, organization_id: int) -> list[Proposal]:
    query = (
        db.select(Proposal)
        .filter_by(round_id=funding_round.id, organization_id=organization_id)
        .order_by(Proposal.id)
    )
    return list(db.session.scalars(query))


def accepted_needs(funding_round: FundingRound) -> list[Need]:
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
