"""An audit entry's before/after values as labelled fields, as administrators read them."""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import money
from .models import AuditEvent

MAX_ITEMS = 100  # fields or residents listed per level before "and N more"
MISSING = object()


@dataclass
class Change:
    """One field of an entry's before/after, formatted; ``children`` for nested values."""

    label: str
    before: str | None = None
    after: str | None = None
    children: list = field(default_factory=list)
    more: int = 0


FIELD_LABELS = {
    "actual": _l("Reached on"),
    "address": _l("Address"),
    "allocation_rule": _l("Allocation rule"),
    "already": _l("Already voted"),
    "amount_fen": _l("Amount"),
    "answer": _l("Answer"),
    "approval_threshold_percent": _l("Approval threshold (%)"),
    "earlier": _l("Earlier result"),
    "attempted": _l("Tried to vote"),
    "ballot_id": _l("Ballot"),
    "birth_year": _l("Birth year"),
    "budget_fen": _l("Budget"),
    "batch": _l("Batch of sheets"),
    "building": _l("Building"),
    "building_min_ballots": _l("Smallest group of ballots shown by building (10 to 1000)"),
    "categories": _l("Categories"),
    "category": _l("Category"),
    "channel": _l("Channel"),
    "check_in_id": _l("Check-in"),
    "comment": _l("Comment"),
    "confirmed_by": _l("Confirmed by"),
    "confirmed_by_id": _l("Confirmed by (account number)"),
    "count": _l("Number"),
    "communities": _l("Communities"),
    "created": _l("Added"),
    "decision": _l("Decision"),
    "description": _l("Description"),
    "district": _l("District"),
    "document": _l("Document"),
    "donor": _l("Donor"),
    "eligible": _l("May vote (registry)"),
    "entry": _l("Entry chosen"),
    "from_sheet": _l("Entered from the sheet"),
    "expires_at": _l("Expires"),
    "external_ref": _l("Registry number"),
    "file": _l("File"),
    "funded": _l("Funded proposals"),
    "household": _l("Household"),
    "households_created": _l("Households added"),
    "is_admin": _l("Administrator"),
    "issued": _l("Issued"),
    "item": _l("Item"),
    "items": _l("Line items"),
    "kind": _l("Kind"),
    "made_ineligible": _l("Made ineligible"),
    "mes_completion": _l("Money left by equal shares"),
    "met": _l("Reached"),
    "match_ratio_percent": _l("Matching ratio (%)"),
    "max_choices": _l("Most choices"),
    "merged_into": _l("Merged into need"),
    "method": _l("Voting method"),
    "min_choices": _l("Fewest choices"),
    "mode": _l("Where people vote"),
    "name": _l("Name"),
    "note": _l("Note"),
    "notice_days": _l("Public notice (days)"),
    "online_closes_at": _l("Online voting closes"),
    "online_opens_at": _l("Online voting opens"),
    "organization": _l("Organization"),
    "over_budget": _l("Over budget"),
    "panel": _l("Board shows"),
    "pass_threshold_percent": _l("Pass threshold (%)"),
    "payee": _l("Payee"),
    "per_project_cap_fen": _l("Cap per project"),
    "percent": _l("Progress (%)"),
    "phase": _l("Phase"),
    "photo": _l("Photo"),
    "place": _l("Place"),
    "planned": _l("Planned for"),
    "points_total": _l("Points per voter"),
    "proposal": _l("Proposal"),
    "proposals": _l("Proposals"),
    "public": _l("Public"),
    "present": _l("Took part"),
    "quorum": _l("Quorum"),
    "quorum_kind": _l("Quorum"),
    "quorum_value": _l("Quorum value"),
    "reason": _l("Reason"),
    "requested": _l("Requested"),
    "required": _l("Needed"),
    "required_documents": _l("Required documents"),
    "residence_status": _l("Residence status"),
    "residents": _l("Residents"),
    "revoked_cards": _l("Cards withdrawn"),
    "results_visible_live": _l("Results shown live"),
    "live_batch_size": _l("Live results batch"),
    "role": _l("Role"),
    "rule": _l("Allocation rule"),
    "run": _l("Result number"),
    "sealed": _l("Entries sealed from the ballot box"),
    "scrubbed": _l("Traces of the votes scrubbed"),
    "sheet": _l("Sheet number"),
    "slug": _l("Web address"),
    "starts_at": _l("Starts"),
    "status": _l("Status"),
    "tie_break": _l("Tie-break"),
    "title": _l("Title"),
    "total_fen": _l("Total"),
    "unchanged": _l("Unchanged"),
    "updated": _l("Changed"),
    "username": _l("Username"),
    "value": _l("Value"),
    "version": _l("Version"),
    "vote_unit": _l("Who votes"),
    "voter_key": _l("Voter"),
    "walk_in_id": _l("Walk-in code number"),
    "year": _l("Year"),
}


# Coded values that have no labels of their own elsewhere.
ORGANIZATION_STATUS_LABELS = {
    "pending": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "rejected": _l("Turned down"),
}
CARD_KIND_LABELS = {"card": _l("Voter card"), "walk_in": _l("Walk-in code")}


def _category_names() -> dict:
    """Category codes by the name a round gave them (the admin's log spans every round)."""
    from ..extensions import db
    from ..rounds.models import RoundCategory

    rows = db.session.execute(db.select(RoundCategory.code, RoundCategory.name)).all()
    return {code: name for code, name in reversed(rows)}


def _vocabulary(key: str, object_type: str) -> dict:
    """The labels of a coded value (a status, a rule...), by field and kind of object."""
    from ..accounts.forms import ROLE_LABELS
    from ..ballots import forms as ballot_forms
    from ..ballots import models as ballots
    from ..checkin.walkins import WALK_IN_REASONS
    from ..intake.models import CHANNEL_LABELS, NEED_STATUS_LABELS
    from ..proposals.models import STATUS_LABELS as PROPOSAL_STATUS_LABELS
    from ..registry.services import RESIDENCE_LABELS
    from ..rounds import models as rounds

    if key == "panel":
        from ..board.services import PANELS
        from ..board.views import panel_label

        return {panel: panel_label(panel) for panel in PANELS}
    if key == "status":
        return {
            "need": NEED_STATUS_LABELS,
            "proposal": PROPOSAL_STATUS_LABELS,
            "ballot": ballots.STATUS_LABELS,
            "organization": ORGANIZATION_STATUS_LABELS,
        }.get(object_type, {})
    if key == "kind":  # a fund source's kind, a card's, or (in a ballot's quorum) the quorum's
        return {
            "fund_source": rounds.SOURCE_KIND_LABELS,
            "credential": CARD_KIND_LABELS,
            "ballot": ballot_forms.QUORUM_LABELS,
        }.get(object_type, {})
    if key == "category":
        return _category_names()
    return {
        "allocation_rule": rounds.RULE_LABELS,
        "rule": rounds.RULE_LABELS,
        "tie_break": rounds.TIE_LABELS,
        "vote_unit": rounds.VOTE_UNIT_LABELS,
        "phase": rounds.PHASE_LABELS,
        "mes_completion": rounds.COMPLETION_LABELS,
        "reason": WALK_IN_REASONS,
        "method": ballots.METHOD_LABELS,
        "mode": ballot_forms.MODE_LABELS,
        "quorum_kind": ballot_forms.QUORUM_LABELS,
        "decision": ballots.QUORUM_DECISION_LABELS,
        "channel": CHANNEL_LABELS,
        "attempted": CHANNEL_LABELS,
        "already": CHANNEL_LABELS,
        "role": ROLE_LABELS,
        "residence_status": RESIDENCE_LABELS,
    }.get(key, {})


def value_text(key: str, value, object_type: str = "") -> str:
    """One stored value as people read it: money in yuan, yes/no, labels for codes, dates."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return "、".join(
            " ".join(map(str, v)) if isinstance(v, list) else value_text(key, v, object_type)
            for v in value
        )
    if isinstance(value, int) and key.endswith("_fen"):
        return money(value)
    if isinstance(value, str):
        label = _vocabulary(key, object_type).get(value)
        if label is not None:
            return str(label)
        if key.endswith("_at"):
            try:
                return format_datetime(datetime.fromisoformat(value), "short")
            except ValueError:
                return value
    return str(value)


def changes(event: AuditEvent, limit: int | None = MAX_ITEMS) -> list[Change]:
    """The entry's before/after values as labelled fields (nested ones as nested lists), at
    most ``limit`` per level (a registry import can name thousands of residents)."""
    return _changes(event.before, event.after, event.object_type, limit)


def _changes(before, after, object_type: str, limit: int | None) -> list[Change]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    keys = list(after) + [k for k in before if k not in after]
    found = []
    for key in keys[:limit]:
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        label = str(FIELD_LABELS.get(key, key))
        if isinstance(old, dict) or isinstance(new, dict):
            nested = _changes(old, new, object_type, limit)
            found.append(Change(label, children=nested, more=_more(old, new, limit)))
            continue
        shown_old = None if old is MISSING else value_text(key, old, object_type)
        shown_new = None if new is MISSING else value_text(key, new, object_type)
        if shown_old == shown_new:
            shown_old = None  # unchanged: the value once
        found.append(Change(label, shown_old, shown_new))
    return found


def _more(old, new, limit: int | None) -> int:
    keys = set(old if isinstance(old, dict) else ()) | set(new if isinstance(new, dict) else ())
    return max(0, len(keys) - limit) if limit else 0
