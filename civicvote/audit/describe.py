"""Audit entries as people read them: a sentence in the reader's language, linked to the object,
and (for administrators) the before/after values as labelled fields.

The objects and actors of a page of entries are loaded with one query per kind of object, not
one per entry. Titles come from the object as it is now, else from the values the entry kept
(a removed fund source keeps its name), else a noun ("the ballot").
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..extensions import db
from ..i18n import money, number
from .actions import OBJECT_NOUNS, SENTENCES, UNKNOWN_ACTION
from .models import AuditEvent

MAX_ITEMS = 100  # fields or residents listed per level before "and N more"
MISSING = object()


@dataclass
class Target:
    """What an entry is about: its title, its public page and its staff page (if any)."""

    title: str
    public: tuple | None = None  # (endpoint, values)
    staff: tuple | None = None
    in_community: bool = True  # the pages take the community's slug too


@dataclass
class Change:
    """One field of an entry's before/after, formatted; ``children`` for nested values."""

    label: str
    before: str | None = None
    after: str | None = None
    children: list = field(default_factory=list)
    more: int = 0


@dataclass
class Entry:
    event: AuditEvent
    sentence: Markup
    url: str | None
    changes: list = field(default_factory=list)


# --------------------------------------------------------------------------- objects


def _rows(*columns, where):
    return db.session.execute(db.select(*columns).where(where)).all()


def _report(round_id: int) -> tuple:
    """A round's public report: where its ballots, assemblies and fund sources are shown."""
    return ("reports.report", {"round_id": round_id})


def _ballots(ids):
    from ..ballots.models import Ballot

    rows = _rows(Ballot.id, Ballot.title, Ballot.round_id, where=Ballot.id.in_(ids))
    return {i: Target(t, _report(r), ("voting.console_show", {"ballot_id": i})) for i, t, r in rows}


def _paper_entries(ids):
    from ..ballots.models import Ballot, PaperBallotEntry

    rows = db.session.execute(
        db.select(PaperBallotEntry.id, Ballot.id, Ballot.title, Ballot.round_id)
        .join(Ballot, Ballot.id == PaperBallotEntry.ballot_id)
        .where(PaperBallotEntry.id.in_(ids))
    ).all()
    paper = "voting.console_paper"
    return {i: Target(t, _report(r), (paper, {"ballot_id": b})) for i, b, t, r in rows}


def _rounds(ids):
    from ..rounds.models import FundingRound

    return {
        i: Target(name, _report(i), ("rounds.settings", {"round_id": i}))
        for i, name in _rows(FundingRound.id, FundingRound.name, where=FundingRound.id.in_(ids))
    }


def _fund_sources(ids):
    from ..rounds.models import FundSource

    rows = _rows(FundSource.id, FundSource.name, FundSource.round_id, where=FundSource.id.in_(ids))
    return {
        i: Target(
            name,
            _report(r),
            ("rounds.edit_source", {"round_id": r, "source_id": i}),
        )
        for i, name, r in rows
    }


def _results(model, ids):
    """Allocation runs and objections are about a round's result: titled by the round."""
    from ..results.models import AllocationRun
    from ..rounds.models import FundingRound

    query = db.select(model.id, FundingRound.id, FundingRound.name)
    if model is not AllocationRun:
        query = query.join(AllocationRun, AllocationRun.id == model.run_id)
    query = query.join(FundingRound, FundingRound.id == AllocationRun.round_id)
    return {
        i: Target(name, ("results.public", {"round_id": r}), ("results.console", {"round_id": r}))
        for i, r, name in db.session.execute(query.where(model.id.in_(ids))).all()
    }


def _allocation_runs(ids):
    from ..results.models import AllocationRun

    return _results(AllocationRun, ids)


def _objections(ids):
    from ..results.models import Objection

    return _results(Objection, ids)


def _proposals(ids):
    from ..proposals.models import Proposal

    rows = _rows(Proposal.id, Proposal.title, Proposal.version, where=Proposal.id.in_(ids))
    return {
        i: Target(
            title,
            ("proposals.public_show", {"proposal_id": i}) if version else None,
            ("proposals.console_show", {"proposal_id": i}),
        )
        for i, title, version in rows
    }


def _needs(ids):
    from ..intake.models import Need

    return {
        i: Target(title, ("intake.show", {"need_id": i}), ("intake.triage_need", {"need_id": i}))
        for i, title in _rows(Need.id, Need.title, where=Need.id.in_(ids))
    }


def _project_parts(model, ids, *, titled: bool):
    """Milestones (titled by themselves) and reports about a funded project (by the project)."""
    from ..proposals.models import Proposal

    title = model.title if titled else Proposal.title
    rows = db.session.execute(
        db.select(model.id, title, model.proposal_id)
        .join(Proposal, Proposal.id == model.proposal_id)
        .where(model.id.in_(ids))
    ).all()
    return {
        i: Target(
            t, ("delivery.project", {"proposal_id": p}), ("delivery.console", {"proposal_id": p})
        )
        for i, t, p in rows
    }


def _delivery(name: str):
    """Progress reports, spending and completion reports: titled by their project."""

    def load(ids):
        from ..delivery import models

        return _project_parts(getattr(models, name), ids, titled=False)

    return load


def _milestones(ids):
    from ..proposals.models import Milestone

    return _project_parts(Milestone, ids, titled=True)


def _assemblies(ids):
    from ..ballots.models import Ballot
    from ..checkin.models import Assembly

    rows = db.session.execute(
        db.select(Assembly.id, Assembly.title, Ballot.round_id)
        .join(Ballot, Ballot.id == Assembly.ballot_id)
        .where(Assembly.id.in_(ids))
    ).all()
    return {i: Target(t, _report(r), ("checkin.desk", {"assembly_id": i})) for i, t, r in rows}


def _communities(ids):
    from ..communities.models import Community

    return {
        i: Target(name, ("communities.show", {}), ("communities.console", {}))
        for i, name in _rows(Community.id, Community.name, where=Community.id.in_(ids))
    }


def _organizations(ids):
    from ..organizations.models import Organization

    rows = _rows(Organization.id, Organization.name, where=Organization.id.in_(ids))
    return {
        i: Target(name, None, ("organizations.admin_show", {"organization_id": i}), False)
        for i, name in rows
    }


def _users(ids):
    from ..accounts.models import User

    rows = _rows(User.id, User.display_name, User.username, where=User.id.in_(ids))
    return {
        i: Target(shown or username, None, ("accounts.user_detail", {"user_id": i}), False)
        for i, shown, username in rows
    }


def _residents(ids):
    from ..registry.models import Resident

    return {
        i: Target(name, None, ("registry.edit_resident", {"resident_id": i}))
        for i, name in _rows(Resident.id, Resident.name, where=Resident.id.in_(ids))
    }


LOADERS = {
    "allocation_run": _allocation_runs,
    "assembly": _assemblies,
    "ballot": _ballots,
    "community": _communities,
    "completion_report": _delivery("CompletionReport"),
    "fund_source": _fund_sources,
    "funding_round": _rounds,
    "milestone": _milestones,
    "need": _needs,
    "objection": _objections,
    "organization": _organizations,
    "paper_ballot_entry": _paper_entries,
    "progress_update": _delivery("ProgressUpdate"),
    "proposal": _proposals,
    "resident": _residents,
    "spending_entry": _delivery("SpendingEntry"),
    "user": _users,
}


def _subject(event: AuditEvent) -> tuple[str, int | None]:
    """The object an entry is told about: a voter card's entry is about its ballot."""
    if event.object_type == "credential":
        return "ballot", (event.after or {}).get("ballot_id")
    return event.object_type, event.object_id


def _targets(events) -> dict:
    wanted = defaultdict(set)
    for event in events:
        kind, key = _subject(event)
        if kind in LOADERS and isinstance(key, int):
            wanted[kind].add(key)
    found = {}
    for kind, ids in wanted.items():
        for key, target in LOADERS[kind](ids).items():
            found[kind, key] = target
    return found


def _fallback_title(event: AuditEvent) -> str:
    """The title an entry kept of its object, or what kind of object it was."""
    for values in (event.after, event.before):
        for key in ("title", "name", "username"):
            if isinstance(values, dict) and isinstance(values.get(key), str) and values[key]:
                return values[key]
    kind, _key = _subject(event)
    return str(OBJECT_NOUNS.get(kind, _l("record")))


# --------------------------------------------------------------------------- actors


def _actors(events) -> dict:
    """Each actor's label (role and name) per (user id, community id) of the entries."""
    from ..accounts.forms import ROLE_LABELS
    from ..accounts.models import (
        CLERK,
        ORG_MEMBER,
        ORGANIZER,
        REVIEWER,
        SUPERVISOR,
        Membership,
        User,
    )

    ids = {e.actor_id for e in events if e.actor_id}
    if not ids:
        return {}
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(ids)))}
    roles = defaultdict(set)
    for user_id, community_id, role in db.session.execute(
        db.select(Membership.user_id, Membership.community_id, Membership.role).where(
            Membership.user_id.in_(ids)
        )
    ):
        roles[user_id, community_id].add(role)
    order = (ORGANIZER, SUPERVISOR, REVIEWER, CLERK, ORG_MEMBER)
    labels = {}
    for event in events:
        user = users.get(event.actor_id)
        if user is None:
            continue
        name = user.display_name or user.username
        held = [r for r in order if r in roles[user.id, event.community_id]]
        if held:
            role = ROLE_LABELS[held[0]]
        elif user.is_admin:
            role = _l("Administrator")
        else:
            labels[user.id, event.community_id] = name
            continue
        labels[user.id, event.community_id] = _("%(role)s %(name)s", role=role, name=name)
    return labels


def _actor(event: AuditEvent, labels: dict) -> str:
    if event.actor_id is None:
        return _("The system") if event.actor_label in ("", "system") else event.actor_label
    return labels.get((event.actor_id, event.community_id), event.actor_label)


# --------------------------------------------------------------------------- sentences


def _role(event):
    from ..accounts.forms import ROLE_LABELS

    role = (event.after or {}).get("role") or (event.before or {}).get("role")
    return str(ROLE_LABELS.get(role, role or ""))


def _phase(event):
    from ..rounds.models import PHASE_LABELS

    phase = (event.after or {}).get("phase")
    return str(PHASE_LABELS.get(phase, phase or ""))


def _walk_in_reason(event) -> str:
    from ..checkin.walkins import WALK_IN_REASONS

    reason = (event.after or {}).get("reason")
    return str(WALK_IN_REASONS.get(reason, reason or ""))


def _count(key):
    def value(event):
        found = (event.after or {}).get(key)
        return number(len(found) if isinstance(found, list) else found or 0)

    return value


# The values some sentences take besides the actor and the object.
EXTRAS = {
    "role": _role,
    "phase": _phase,
    "amount": lambda e: money((e.after or {}).get("amount_fen") or 0),
    "document": lambda e: (e.after or {}).get("document") or "",
    "issued": _count("issued"),
    "created": _count("created"),
    "updated": _count("updated"),
    "ineligible": _count("made_ineligible"),
    "confirmed_by": lambda e: (e.after or {}).get("confirmed_by") or "",
    "reason": _walk_in_reason,
}


class _Values(dict):
    """The sentence's values, the extras computed only when the sentence names them."""

    def __init__(self, event, **given):
        super().__init__(**given)
        self.event = event

    def __missing__(self, key):
        return EXTRAS[key](self.event) if key in EXTRAS else ""


def sentence(event: AuditEvent, actor: str, title: str, url: str | None) -> Markup:
    """The entry as one sentence; user text is escaped, the link is ours."""
    template = SENTENCES.get(event.action, UNKNOWN_ACTION)
    shown = Markup('<a href="%s">%s</a>') % (url, title) if url else escape(title)
    # The sentence itself is ours (the catalog); Markup's % escapes every value put into it.
    return Markup(str(template)) % _Values(event, actor=actor, object=shown)  # noqa: S704


def describe(events, *, staff: bool = False) -> list[Entry]:
    """Entries for a page of the log: the public view links public pages; ``staff`` links the
    console's pages and adds each entry's before/after values."""
    from ..communities.models import Community

    events = list(events)
    targets = _targets(events)
    actors = _actors(events)
    community_ids = {e.community_id for e in events if e.community_id}
    slugs = dict(
        _rows(Community.id, Community.slug, where=Community.id.in_(community_ids))
        if community_ids
        else []
    )
    entries = []
    for event in events:
        target = targets.get(_subject(event))
        title = target.title if target else _fallback_title(event)
        url = None
        link = target and ((target.staff or target.public) if staff else target.public)
        if link and not target.in_community:
            url = url_for(link[0], **link[1])
        elif link and event.community_id in slugs:
            url = url_for(link[0], slug=slugs[event.community_id], **link[1])
        entries.append(
            Entry(
                event=event,
                sentence=sentence(event, _actor(event, actors), title, url),
                url=url,
                changes=changes(event) if staff else [],
            )
        )
    return entries


# --------------------------------------------------------------------------- before / after

FIELD_LABELS = {
    "actual": _l("Reached on"),
    "address": _l("Address"),
    "allocation_rule": _l("Allocation rule"),
    "already": _l("Already voted"),
    "amount_fen": _l("Amount"),
    "answer": _l("Answer"),
    "approval_threshold_percent": _l("Approval threshold (%)"),
    "attempted": _l("Tried to vote"),
    "ballot_id": _l("Ballot"),
    "birth_year": _l("Birth year"),
    "budget_fen": _l("Budget"),
    "building": _l("Building"),
    "categories": _l("Categories"),
    "category": _l("Category"),
    "channel": _l("Channel"),
    "check_in_id": _l("Check-in"),
    "comment": _l("Comment"),
    "communities": _l("Communities"),
    "created": _l("Added"),
    "decision": _l("Decision note"),
    "description": _l("Description"),
    "district": _l("District"),
    "document": _l("Document"),
    "donor": _l("Donor"),
    "eligible": _l("May vote (registry)"),
    "entry": _l("Entry chosen"),
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
    "match_ratio_percent": _l("Matching ratio (%)"),
    "max_choices": _l("Most choices"),
    "merged_into": _l("Merged into need"),
    "method": _l("Voting method"),
    "min_choices": _l("Fewest choices"),
    "mode": _l("Where people vote"),
    "name": _l("Name"),
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
    "quorum_kind": _l("Quorum"),
    "quorum_value": _l("Quorum value"),
    "reason": _l("Reason"),
    "requested": _l("Requested"),
    "required_documents": _l("Required documents"),
    "residence_status": _l("Residence status"),
    "residents": _l("Residents"),
    "results_visible_live": _l("Results shown live"),
    "role": _l("Role"),
    "rule": _l("Allocation rule"),
    "slug": _l("Web address"),
    "starts_at": _l("Starts"),
    "status": _l("Status"),
    "tie_break": _l("Tie-break"),
    "title": _l("Title"),
    "total_fen": _l("Total"),
    "unchanged": _l("Unchanged"),
    "updated": _l("Changed"),
    "username": _l("Username"),
    "version": _l("Version"),
    "vote_unit": _l("Who votes"),
    "voter_key": _l("Voter"),
    "year": _l("Year"),
}


def _vocabulary(key: str, object_type: str) -> dict:
    """The labels of a coded value (a status, a rule...), by field and kind of object."""
    from ..accounts.forms import ROLE_LABELS
    from ..ballots import forms as ballot_forms
    from ..ballots import models as ballots
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
        }.get(object_type, {})
    return {
        "allocation_rule": rounds.RULE_LABELS,
        "rule": rounds.RULE_LABELS,
        "tie_break": rounds.TIE_LABELS,
        "vote_unit": rounds.VOTE_UNIT_LABELS,
        "phase": rounds.PHASE_LABELS,
        "kind": rounds.SOURCE_KIND_LABELS if object_type == "fund_source" else {},
        "method": ballots.METHOD_LABELS,
        "mode": ballot_forms.MODE_LABELS,
        "quorum_kind": ballot_forms.QUORUM_LABELS,
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
