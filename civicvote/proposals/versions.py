"""What a submission freezes (a snapshot), what the public sees, what changed between versions."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import money
from .models import Proposal

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
    return changes + _item_changes(old.get("line_items", []), new.get("line_items", []))


def _item_changes(old: list[dict], new: list[dict]) -> list[dict]:
    """Line items added, changed and removed, matched by their description."""
    changes = []
    old_items = {item["description"]: item for item in old}
    new_items = {item["description"]: item for item in new}
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
