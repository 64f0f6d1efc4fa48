"""Proposals: drafting by organization members, review, and the public pages."""

import secrets
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import ORG_MEMBER, ORGANIZER, REVIEWER
from ..accounts.tasks import roles_for
from ..communities.services import get_community
from ..intake.models import Need
from ..money import fen_to_yuan_text
from ..rounds.services import PROPOSAL_PHASES, current_round
from ..security import community_required
from ..viewhelpers import run_console_action, try_service
from . import bp
from .access import can_view, get_proposal, is_owner, require_owner
from .checks import automatic_checks, check_message
from .documents import attach_document, remove_document
from .drafts import save_draft
from .forms import DocumentForm, ProposalForm, ReviewForm, VersionForm
from .listing import accepted_needs, organization_proposals, public_proposals
from .review import DECISION_LABELS, review, submit, withdraw
from .versions import public_snapshot, version_history


@bp.app_template_filter("day")
def day(value) -> str:
    """A date, or an ISO date string from a frozen version, in the active locale."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return format_date(value, "medium")


def _categories(funding_round) -> dict:
    return {c.code: c.name for c in funding_round.categories} if funding_round else {}


def _render_form(community, funding_round, form, proposal=None, status=200):
    return render_template(
        "proposals/form.html",
        community=community,
        round=funding_round,
        form=form,
        proposal=proposal,
    ), status


def _selectable_needs(funding_round, proposal=None) -> list[Need]:
    needs = accepted_needs(funding_round)
    if proposal is not None:
        needs += [n for n in proposal.needs if n not in needs]
    return needs


def _save(community, funding_round, form, proposal=None):
    saved, refused = try_service(
        lambda: save_draft(
            funding_round,
            current_user,
            form.data_fields(),
            items=form.item_rows(),
            need_ids=form.needs.data or [],
            milestones=form.milestone_rows(),
            proposal=proposal,
            submission_key=form.nonce.data or None,
        )
    )
    if refused:
        return None
    flash(_("The draft was saved. Only your organization can see it."), "success")
    return saved


@bp.get("/console/c/<slug>/proposals")
@community_required(*roles_for("proposals"))
def console_index(community):
    funding_round = current_round(community)
    mine, others = [], []
    if funding_round is not None:
        if current_user.organization_id and current_user.has_role(community.id, ORG_MEMBER):
            mine = organization_proposals(funding_round, current_user.organization_id)
        if current_user.has_role(community.id, REVIEWER, ORGANIZER):
            others = public_proposals(funding_round)
    return render_template(
        "proposals/console_index.html",
        community=community,
        round=funding_round,
        mine=mine,
        others=others,
        waiting=[p for p in others if p.status == "submitted"],
        can_draft=bool(current_user.organization_id)
        and funding_round is not None
        and funding_round.phase in PROPOSAL_PHASES,
        is_reviewer=current_user.has_role(community.id, REVIEWER),
        categories=_categories(funding_round),
    )


@bp.route("/console/c/<slug>/proposals/new", methods=["GET", "POST"])
@community_required(*roles_for("own_proposals"))
def new(community):
    funding_round = current_round(community)
    if funding_round is None or funding_round.phase not in PROPOSAL_PHASES:
        flash(_("This round is not accepting proposals now."), "error")
        return redirect(url_for("proposals.console_index", slug=community.slug))
    if not current_user.organization_id:
        abort(403)
    form = ProposalForm()
    form.setup(funding_round, _selectable_needs(funding_round))
    if request.method == "GET":
        form.nonce.data = secrets.token_urlsafe(24)
        form.needs.data = [int(n) for n in request.args.getlist("need") if n.isdigit()]
        form.pad(items=4, milestones=2)
    elif form.validate_on_submit():
        proposal = _save(community, funding_round, form)
        if proposal is not None:
            return redirect(
                url_for("proposals.console_show", slug=community.slug, proposal_id=proposal.id)
            )
    return _render_form(community, funding_round, form, status=422 if form.is_submitted() else 200)


@bp.route("/console/c/<slug>/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@community_required(*roles_for("own_proposals"))
def edit(community, proposal_id: int):
    proposal = get_proposal(community, proposal_id)
    require_owner(current_user, proposal)
    if not proposal.editable:
        flash(_("This proposal cannot be changed now."), "error")
        return redirect(
            url_for("proposals.console_show", slug=community.slug, proposal_id=proposal.id)
        )
    funding_round = proposal.round
    if request.method == "GET":
        form = ProposalForm(formdata=None)
        form.title.data = proposal.title
        form.summary.data = proposal.summary
        form.category.data = proposal.category_code
        form.needs.data = [n.id for n in proposal.needs]
        form.beneficiaries_count.data = proposal.beneficiaries_count
        form.beneficiaries_desc.data = proposal.beneficiaries_desc
        form.location.data = proposal.location
        form.start_date.data = proposal.start_date
        form.end_date.data = proposal.end_date
        form.implementer.data = proposal.implementer
        while form.items.entries:
            form.items.pop_entry()
        while form.milestones.entries:
            form.milestones.pop_entry()
        for item in proposal.line_items:
            form.items.append_entry(
                {
                    "description": item.description,
                    "quantity": f"{item.quantity:.2f}".rstrip("0").rstrip("."),
                    "unit": item.unit,
                    "unit_cost": fen_to_yuan_text(item.unit_cost_fen),
                }
            )
        for milestone in proposal.milestones:
            form.milestones.append_entry(
                {"title": milestone.title, "planned_date": milestone.planned_date}
            )
        form.pad(items=3, milestones=2)
        form.setup(funding_round, _selectable_needs(funding_round, proposal))
        return _render_form(community, funding_round, form, proposal)
    form = ProposalForm()
    form.setup(funding_round, _selectable_needs(funding_round, proposal))
    if form.validate_on_submit() and _save(community, funding_round, form, proposal):
        return redirect(
            url_for("proposals.console_show", slug=community.slug, proposal_id=proposal.id)
        )
    return _render_form(community, funding_round, form, proposal, status=422)


def _render_show(community, proposal, status=200, document_form=None):
    owner = is_owner(current_user, proposal)
    if not owner and not proposal.is_public:
        abort(404)
    version_form = VersionForm(formdata=None)
    version_form.expected_version.data = proposal.version
    review_form = ReviewForm(formdata=None)
    review_form.expected_version.data = str(proposal.version)
    checks = automatic_checks(proposal)
    return render_template(
        "proposals/console_show.html",
        community=community,
        proposal=proposal,
        owner=owner,
        checks=checks,
        check_message=check_message,
        history=version_history(proposal),
        version_form=version_form,
        review_form=review_form,
        document_form=document_form or DocumentForm(formdata=None),
        can_review=current_user.has_role(community.id, REVIEWER)
        and not owner
        and proposal.status == "submitted",
        categories=_categories(proposal.round),
        decision_labels=DECISION_LABELS,
    ), status


@bp.get("/console/c/<slug>/proposals/<int:proposal_id>")
@community_required(*roles_for("proposals"))
def console_show(community, proposal_id: int):
    return _render_show(community, get_proposal(community, proposal_id))


@bp.post("/console/c/<slug>/proposals/<int:proposal_id>/documents")
@community_required(*roles_for("own_proposals"))
def attach_document_view(community, proposal_id: int):
    """Attach or replace, or (``remove``) take away, the file for one required document."""
    proposal = get_proposal(community, proposal_id)
    removing = "remove" in request.form
    form = DocumentForm()

    def perform():
        if removing:  # CSRFProtect has checked the token, as for every POST
            remove_document(proposal, current_user, (form.name.data or "")[:80])
            return _("The file was removed.")
        if not form.validate_on_submit():
            return None
        upload = form.file.data
        attach_document(
            proposal,
            current_user,
            form.name.data,
            upload.read(),
            upload.filename or "",
            instance_path=current_app.instance_path,
        )
        return _("The file was attached.")

    url = url_for("proposals.console_show", slug=community.slug, proposal_id=proposal.id)
    done, status = run_console_action(perform, url + "#documents")
    return done or _render_show(community, proposal, status, form)


@bp.post("/console/c/<slug>/proposals/<int:proposal_id>/submit")
@community_required(*roles_for("own_proposals"))
def submit_view(community, proposal_id: int):
    proposal = get_proposal(community, proposal_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    _submitted, refused = try_service(
        lambda: submit(proposal, current_user, expected_version=form.expected_version.data)
    )
    if refused is None:
        flash(_("The proposal was submitted for review. It is now public."), "success")
    return redirect(url_for("proposals.console_show", slug=community.slug, proposal_id=proposal_id))


@bp.post("/console/c/<slug>/proposals/<int:proposal_id>/withdraw")
@community_required(*roles_for("own_proposals"))
def withdraw_view(community, proposal_id: int):
    proposal = get_proposal(community, proposal_id)
    withdraw(proposal, current_user)
    flash(_("The proposal was withdrawn."), "success")
    return redirect(url_for("proposals.console_index", slug=community.slug))


@bp.post("/console/c/<slug>/proposals/<int:proposal_id>/review")
@community_required(*roles_for("review"))
def review_view(community, proposal_id: int):
    proposal = get_proposal(community, proposal_id)
    form = ReviewForm()
    if form.validate_on_submit():
        expected = form.expected_version.data
        _review, refused = try_service(
            lambda: review(
                proposal,
                current_user,
                form.decision.data,
                form.comment.data or "",
                expected_version=int(expected) if (expected or "").isdigit() else None,
            )
        )
        if refused is None:
            flash(_("The decision was recorded and published."), "success")
            return redirect(url_for("proposals.console_index", slug=community.slug))
    else:
        flash(_("Choose a decision."), "error")
    return redirect(url_for("proposals.console_show", slug=community.slug, proposal_id=proposal_id))


# --- Public ------------------------------------------------------------------------------


@bp.get("/c/<slug>/proposals")
def public_index(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    funding_round = current_round(community)
    proposals = public_proposals(funding_round) if funding_round else []
    return render_template(
        "proposals/public_index.html",
        community=community,
        round=funding_round,
        items=[(p, public_snapshot(p)) for p in proposals],
        categories=_categories(funding_round),
    )


@bp.get("/c/<slug>/proposals/<int:proposal_id>")
def public_show(slug: str, proposal_id: int):
    community = get_community(slug)
    if community is None:
        abort(404)
    proposal = get_proposal(community, proposal_id)
    if not can_view(current_user if current_user.is_authenticated else None, proposal):
        abort(404)
    data = public_snapshot(proposal)
    if data is None:  # the organization's own draft: point it to the console
        return redirect(
            url_for("proposals.console_show", slug=community.slug, proposal_id=proposal.id)
        )
    return render_template(
        "proposals/public_show.html",
        community=community,
        proposal=proposal,
        data=data,
        history=version_history(proposal),
        categories=_categories(proposal.round),
        decision_labels=DECISION_LABELS,
        check_message=check_message,
    )
