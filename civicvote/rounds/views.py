"""The organizer console for a round's rules and phase."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import ORGANIZER
from ..errors import DomainError
from ..extensions import db
from ..money import fen_to_yuan_text, parse_yuan
from ..security import community_required
from . import bp
from .forms import AdvanceForm, RulesForm
from .models import PHASE_LABELS, PHASES
from .services import advance_phase, get_round, parse_categories, parse_documents, update_rules


@bp.route("/console/c/<slug>/rounds/<int:round_id>", methods=["GET", "POST"])
@community_required(ORGANIZER)
def settings(community, round_id: int):
    funding_round = get_round(community, round_id)
    form = RulesForm()
    status = 200
    if request.method == "GET":
        form.budget.data = fen_to_yuan_text(funding_round.budget_fen)
        form.cap.data = fen_to_yuan_text(funding_round.per_project_cap_fen)
        form.categories.data = "\n".join(f"{c.code} = {c.name}" for c in funding_round.categories)
        form.required_documents.data = "\n".join(funding_round.required_documents or [])
    elif form.validate_on_submit():
        try:
            update_rules(
                funding_round,
                budget_fen=parse_yuan(form.budget.data),
                per_project_cap_fen=parse_yuan(form.cap.data) if form.cap.data else None,
                categories=parse_categories(form.categories.data),
                required_documents=parse_documents(form.required_documents.data or ""),
                actor=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            status = 422
        else:
            flash(_("The round's rules were saved."), "success")
            return redirect(url_for("rounds.settings", slug=community.slug, round_id=round_id))
    else:
        status = 422
    advance_form = AdvanceForm(formdata=None)
    advance_form.expected_phase.data = funding_round.phase
    index = PHASES.index(funding_round.phase)
    next_phase = PHASE_LABELS[PHASES[index + 1]] if index + 1 < len(PHASES) else None
    return render_template(
        "rounds/settings.html",
        community=community,
        round=funding_round,
        form=form,
        advance_form=advance_form,
        next_phase=next_phase,
    ), status


@bp.post("/console/c/<slug>/rounds/<int:round_id>/advance")
@community_required(ORGANIZER)
def advance(community, round_id: int):
    funding_round = get_round(community, round_id)
    form = AdvanceForm()
    if form.validate_on_submit():
        try:
            advance_phase(
                funding_round, expected_phase=form.expected_phase.data, actor=current_user
            )
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(_("The round moved to: %(phase)s.", phase=funding_round.phase_label), "success")
    return redirect(url_for("rounds.settings", slug=community.slug, round_id=round_id))
