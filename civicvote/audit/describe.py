"""Audit entries as people read them: a sentence in the reader's language, linked to the object,
and (for administrators) the before/after values as labelled fields.

The objects and actors of a page of entries are loaded with one query per kind of object, not
one per entry. Titles come from the object as it is now, else from the values the entry kept
(a removed fund source keeps its name), else a noun ("the ballot").
"""

from collections import defaultdict
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..extensions import db
from ..i18n import money, number
from .actions import OBJECT_NOUNS, SENTENCES, UNKNOWN_ACTION
from .changes import changes, value_text
from .models import AuditEvent


@dataclass
class Target:
    """What an entry is about: its title, its public page and its staff page (if any)."""

    title: str
    public: tuple | None = None  # (endpoint, values)
    staff: tuple | None = None
    in_community: bool = True  # the pages take the community's slug too


@dataclass
class Entry:
    """An entry as a page shows it: its sentence, its link, its before/after (for staff)."""

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
        i: Target(name, ("communities.show", {}), ("workbench.console", {}))
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


def _quorum(event):
    quorum = (event.before or {}).get("quorum") or {}
    return _(
        "%(present)s took part, %(required)s needed",
        present=number(quorum.get("present", 0)),
        required=number(quorum.get("required", 0)),
    )


def _earlier(event):
    """The earlier result's funded proposals, by title."""
    from ..proposals.models import Proposal

    ids = (event.before or {}).get("funded") or []
    if not ids:
        return _("nothing")
    titles = db.session.scalars(db.select(Proposal.title).where(Proposal.id.in_(ids)))
    return "、".join(titles)


def _reason(event) -> str:
    """A walk-in's reason by its label; any other event's reason (or note) as written."""
    from ..checkin.walkins import WALK_IN_REASONS

    after = event.after or {}
    reason = after.get("reason") or after.get("note") or ""
    if event.action == "walk_in.issue":
        return str(WALK_IN_REASONS.get(reason, reason))
    return reason


def _count(key):
    def value(event):
        found = (event.after or {}).get(key)
        return number(len(found) if isinstance(found, list) else found or 0)

    return value


# The values some sentences take besides the actor and the object.
def _scrub(event):
    if (event.after or {}).get("scrubbed"):
        return _("the traces of the votes were scrubbed from the database.")
    return _(
        "the traces of the votes could not yet be scrubbed from the database: "
        "the command must be run again."
    )


EXTRAS = {
    "role": _role,
    "phase": _phase,
    "amount": lambda e: money((e.after or {}).get("amount_fen") or 0),
    "document": lambda e: (e.after or {}).get("document") or "",
    "issued": _count("issued"),
    "sheets": _count("count"),
    "created": _count("created"),
    "updated": _count("updated"),
    "ineligible": _count("made_ineligible"),
    "reason": _reason,
    "rule": lambda e: value_text("rule", (e.after or {}).get("rule")),
    "decision": lambda e: value_text("decision", (e.after or {}).get("decision")),
    "quorum": _quorum,
    "earlier": _earlier,
    "confirmed_by": lambda e: (e.after or {}).get("confirmed_by") or "",
    "sealed": _count("sealed"),
    "scrub": _scrub,
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
