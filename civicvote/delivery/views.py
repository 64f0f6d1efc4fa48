"""Funded projects in public, their delivery console, uploads and residents' ratings."""

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import ORG_MEMBER, ORGANIZER
from ..accounts.tasks import roles_for, user_may
from ..communities.services import get_community
from ..errors import NotFound
from ..extensions import db, limiter
from ..proposals.models import Milestone
from ..security import community_required
from ..uploads.checks import DOCUMENT, PHOTO
from ..uploads.models import Upload
from ..uploads.storage import store_upload
from ..viewhelpers import run_console_action, try_service
from . import bp
from .forms import (
    CompletionForm,
    MilestoneDoneForm,
    MilestoneForm,
    ProgressForm,
    RatingForm,
    SignOffForm,
    SpendingForm,
)
from .models import ProgressUpdate, SpendingEntry
from .services import (
    add_milestone,
    approve_spending,
    budget_of,
    complete_milestone,
    completion_of,
    evaluation_open,
    funded_allocation,
    funded_projects,
    get_funded_project,
    post_progress,
    rate_project,
    rating_summary,
    record_spending,
    sign_off_completion,
    sign_off_milestone,
    source_allocations,
    submit_completion,
)
from .tracking import need_journey, progress_percent


@bp.app_template_global("need_journey")
def _need_journey(need):
    """A need's stages for its public and tracking pages (intake's templates call this)."""
    return need_journey(need)


@bp.app_template_global("is_funded")
def _is_funded(proposal) -> bool:
    """Whether a proposal has a delivery page (proposals' templates link to it)."""
    return funded_allocation(proposal.id) is not None


def _public_project(slug: str, proposal_id: int):
    community = get_community(slug)
    if community is None:
        abort(404)
    try:
        proposal, allocation = get_funded_project(community.id, proposal_id)
    except NotFound:
        abort(404)
    return community, proposal, allocation


def _project_view_data(proposal, allocation) -> dict:
    updates = list(
        db.session.scalars(
            db.select(ProgressUpdate)
            .filter_by(proposal_id=proposal.id)
            .order_by(ProgressUpdate.created_at.desc())
        )
    )
    spending = list(
        db.session.scalars(
            db.select(SpendingEntry)
            .filter_by(proposal_id=proposal.id)
            .order_by(SpendingEntry.spent_on)
        )
    )
    uploads = {
        u.id: u
        for u in db.session.scalars(
            db.select(Upload).filter(
                Upload.id.in_(
                    [u.photo_id for u in updates if u.photo_id]
                    + [s.receipt_id for s in spending if s.receipt_id]
                )
            )
        )
    }
    return {
        "proposal": proposal,
        "allocation": allocation,
        "updates": updates,
        "spending": spending,
        "uploads": uploads,
        "budget": budget_of(proposal, allocation),
        "progress": progress_percent(proposal.id),  # as the board's funded panel shows it
        "completion": completion_of(proposal.id),
        "ratings": rating_summary(proposal.id),
        "evaluation_open": evaluation_open(proposal),
    }


@bp.get("/c/<slug>/projects")
def projects(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    rounds = [(r, funded_projects(r.id)) for r in reversed(community.rounds)]
    return render_template("delivery/projects.html", community=community, rounds=rounds)


@bp.get("/c/<slug>/projects/<int:proposal_id>")
def project(slug: str, proposal_id: int):
    community, proposal, allocation = _public_project(slug, proposal_id)
    return render_template(
        "delivery/project.html", community=community, **_project_view_data(proposal, allocation)
    )


@bp.route("/c/<slug>/projects/<int:proposal_id>/rate", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def rate(slug: str, proposal_id: int):
    community, proposal, allocation = _public_project(slug, proposal_id)
    form = RatingForm()
    status = 200
    if form.validate_on_submit():
        _rating, refused = try_service(
            lambda: rate_project(proposal, form.code.data, form.score.data, form.comment.data)
        )
        if refused:
            status = refused
        else:
            flash(
                _(
                    "Thank you. Your rating is saved; you can change it until the evaluation "
                    "closes."
                ),
                "success",
            )
            return redirect(url_for("delivery.project", slug=slug, proposal_id=proposal.id))
    elif form.is_submitted():
        status = 422
    response = render_template(
        "delivery/rate.html",
        community=community,
        proposal=proposal,
        form=form,
        open=evaluation_open(proposal),
    )
    return response, status


# --- the delivery console ---------------------------------------------------------------


def _console_project(community, proposal_id: int):
    try:
        proposal, allocation = get_funded_project(community.id, proposal_id)
    except NotFound:
        abort(404)
    return proposal, allocation


def _may_report(proposal) -> bool:
    """Organizers, and members of the implementing organization, report on delivery."""
    community_id = proposal.round.community_id
    if current_user.has_role(community_id, ORGANIZER):
        return True
    return (
        current_user.has_role(community_id, ORG_MEMBER)
        and current_user.organization_id is not None
        and current_user.organization_id == proposal.organization_id
    )


def _store(file_storage, accept=DOCUMENT):
    if not file_storage or not getattr(file_storage, "filename", ""):
        return None
    return store_upload(
        file_storage.read(),
        file_storage.filename,
        instance_path=current_app.instance_path,
        uploaded_by_id=current_user.id,
        accept=accept,
    )


@bp.route("/console/c/<slug>/projects/<int:proposal_id>", methods=["GET", "POST"])
@community_required(*roles_for("delivery"))
def console(community, proposal_id: int):
    proposal, allocation = _console_project(community, proposal_id)
    reporter = _may_report(proposal)
    supervisor = user_may(current_user, community.id, "sign_offs")
    forms = {
        "milestone": MilestoneForm(prefix="ms"),
        "done": MilestoneDoneForm(prefix="done"),
        "signoff": SignOffForm(prefix="so"),
        "progress": ProgressForm(prefix="pg"),
        "spending": SpendingForm(prefix="sp").setup(proposal, source_allocations(allocation)),
        "completion": CompletionForm(prefix="cr"),
    }
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        done, status = run_console_action(
            lambda: _handle(action, forms, proposal, allocation, reporter, supervisor),
            url_for("delivery.console", slug=community.slug, proposal_id=proposal.id),
        )
        if done:
            return done
    return render_template(
        "delivery/console.html",
        community=community,
        forms=forms,
        reporter=reporter,
        supervisor=supervisor,
        **_project_view_data(proposal, allocation),
    ), status


def _milestone(proposal, raw_id: str) -> Milestone:
    milestone = db.session.get(Milestone, int(raw_id)) if raw_id.isdigit() else None
    if milestone is None or milestone.proposal_id != proposal.id:
        abort(404)
    return milestone


def _handle(action, forms, proposal, allocation, reporter, supervisor) -> str | None:
    """Run one console action; a message on success, None when its form did not validate."""
    reporter_actions = {"milestone", "done", "progress", "spending", "completion"}
    supervisor_actions = {"signoff", "approve", "signoff_completion"}
    if (action in reporter_actions and not reporter) or (
        action in supervisor_actions and not supervisor
    ):
        abort(403)
    if action == "milestone" and forms["milestone"].validate_on_submit():
        form = forms["milestone"]
        add_milestone(proposal, form.title.data, form.planned_date.data, actor=current_user)
        return _("Milestone added.")
    if action == "done" and forms["done"].validate_on_submit():
        milestone = _milestone(proposal, request.form.get("milestone", ""))
        complete_milestone(milestone, forms["done"].actual_date.data, actor=current_user)
        return _("Milestone reported as reached.")
    if action == "signoff" and forms["signoff"].validate_on_submit():
        milestone = _milestone(proposal, request.form.get("milestone", ""))
        sign_off_milestone(milestone, forms["signoff"].comment.data, actor=current_user)
        return _("Milestone signed off.")
    if action == "progress" and forms["progress"].validate_on_submit():
        form = forms["progress"]
        post_progress(
            proposal,
            form.text.data,
            form.percent.data,
            photo=_store(form.photo.data, PHOTO),  # shown as an image
            actor=current_user,
        )
        return _("Progress update published.")
    if action == "spending" and forms["spending"].validate_on_submit():
        return _spend(forms["spending"], proposal, allocation)
    if action == "approve" and forms["signoff"].validate_on_submit():
        approve_spending(_spending_entry(proposal), actor=current_user)
        return _("Over-budget payment approved.")
    if action == "completion" and forms["completion"].validate_on_submit():
        submit_completion(proposal, forms["completion"].text.data, actor=current_user)
        return _("Completion report submitted.")
    if action == "signoff_completion" and forms["signoff"].validate_on_submit():
        report = completion_of(proposal.id)
        if report is None:
            abort(404)
        sign_off_completion(report, forms["signoff"].comment.data, actor=current_user)
        return _("Completion report signed off.")
    if action not in reporter_actions | supervisor_actions:
        abort(400)
    return None


def _spend(form, proposal, allocation) -> str:
    entry = record_spending(
        proposal,
        allocation,
        spent_on=form.spent_on.data,
        item=form.item.data,
        amount_fen=form.amount_fen,
        payee=form.payee.data,
        line_item_id=form.line_item.data or None,
        fund_source_id=form.fund_source.data or None,
        receipt=_store(form.receipt.data),
        actor=current_user,
    )
    if entry.over_budget:
        return _(
            "Payment recorded. It is over budget and waits for the supervisory "
            "committee's approval."
        )
    return _("Payment recorded.")


def _spending_entry(proposal) -> SpendingEntry:
    raw = request.form.get("entry", "")
    entry = db.session.get(SpendingEntry, int(raw)) if raw.isdigit() else None
    if entry is None or entry.proposal_id != proposal.id:
        abort(404)
    return entry
