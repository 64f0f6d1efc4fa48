"""The organizer console for a round: starting it, its rules, counting, fund sources, phase."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.tasks import roles_for
from ..money import fen_to_yuan_text, parse_yuan
from ..security import community_required
from ..timeutil import utcnow
from ..viewhelpers import form_page_action, run_console_action, try_service
from . import bp
from .forms import AdvanceForm, CountingForm, NewRoundForm, RulesForm, SourceForm
from .models import PHASE_LABELS, PHASES
from .services import (
    add_source,
    advance_phase,
    counting_open,
    create_round,
    get_round,
    get_source,
    parse_categories,
    parse_documents,
    remove_source,
    sources_open,
    update_counting,
    update_rules,
    update_source,
)


def _settings_url(community, funding_round) -> str:
    return url_for("rounds.settings", slug=community.slug, round_id=funding_round.id)


@bp.route("/console/c/<slug>/rounds/new", methods=["GET", "POST"])
@community_required(*roles_for("rounds"))
def new_round(community):
    form = NewRoundForm()
    if request.method == "GET":
        form.year.data = utcnow().year
    created = []

    def perform():
        if not form.validate_on_submit():
            return None
        created.append(
            create_round(
                community,
                name=form.name.data,
                year=form.year.data,
                budget_fen=parse_yuan(form.budget.data),
                categories=parse_categories(form.categories.data),
                description=form.description.data or "",
                fund_name=form.fund_name.data or "",
                actor=current_user,
            )
        )
        return _("The round was started. It is collecting needs.")

    done, status = form_page_action(perform, lambda: _settings_url(community, created[0]))
    if done is not None:
        return done
    return render_template("rounds/new.html", community=community, form=form), status


def _rules_form(funding_round) -> RulesForm:
    form = RulesForm(formdata=None)
    form.budget.data = fen_to_yuan_text(funding_round.budget_fen)
    form.cap.data = fen_to_yuan_text(funding_round.per_project_cap_fen)
    form.categories.data = "\n".join(f"{c.code} = {c.name}" for c in funding_round.categories)
    form.required_documents.data = "\n".join(funding_round.required_documents or [])
    return form


def _counting_form(funding_round) -> CountingForm:
    form = CountingForm(formdata=None)
    form.allocation_rule.data = funding_round.allocation_rule
    form.tie_break.data = funding_round.tie_break
    form.mes_completion.data = funding_round.mes_completion
    form.notice_days.data = funding_round.notice_days
    form.vote_unit.data = funding_round.vote_unit
    return form


def _source_form(funding_round, source=None, *, formdata=True) -> SourceForm:
    form = SourceForm() if formdata else SourceForm(formdata=None)
    form.categories.choices = [(c.code, c.name) for c in funding_round.categories]
    if source is not None and not formdata:
        form.name.data = source.name
        form.kind.data = source.kind
        form.amount.data = fen_to_yuan_text(source.amount_fen)
        form.categories.data = list(source.categories or [])
        form.cap.data = fen_to_yuan_text(source.per_project_cap_fen)
        form.match_ratio_percent.data = source.match_ratio_percent
        form.donor.data = source.donor
        form.public.data = source.public
    return form


def _source_fields(form: SourceForm) -> dict:
    """The form's values in the domain's units (fen); DomainError for bad amounts."""
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "amount_fen": parse_yuan(form.amount.data),
        "categories": list(form.categories.data or []),
        "per_project_cap_fen": parse_yuan(form.cap.data) if form.cap.data else None,
        "match_ratio_percent": form.match_ratio_percent.data,
        "donor": form.donor.data or "",
        "public": bool(form.public.data),
    }


def _render_settings(community, funding_round, status=200, **forms):
    advance_form = AdvanceForm(formdata=None)
    advance_form.expected_phase.data = funding_round.phase
    index = PHASES.index(funding_round.phase)
    next_phase = PHASE_LABELS[PHASES[index + 1]] if index + 1 < len(PHASES) else None
    sources_total = sum(s.amount_fen for s in funding_round.fund_sources)
    return render_template(
        "rounds/settings.html",
        community=community,
        round=funding_round,
        form=forms.get("rules") or _rules_form(funding_round),
        counting_form=forms.get("counting") or _counting_form(funding_round),
        source_form=forms.get("source") or _source_form(funding_round, formdata=False),
        advance_form=advance_form,
        next_phase=next_phase,
        counting_open=counting_open(funding_round),
        sources_open=sources_open(funding_round),
        sources_total=sources_total,
    ), status


@bp.route("/console/c/<slug>/rounds/<int:round_id>", methods=["GET", "POST"])
@community_required(*roles_for("rounds"))
def settings(community, round_id: int):
    funding_round = get_round(community, round_id)
    if request.method == "GET":
        return _render_settings(community, funding_round)
    form = RulesForm()

    def perform():
        if not form.validate_on_submit():
            return None
        update_rules(
            funding_round,
            budget_fen=parse_yuan(form.budget.data),
            per_project_cap_fen=parse_yuan(form.cap.data) if form.cap.data else None,
            categories=parse_categories(form.categories.data),
            required_documents=parse_documents(form.required_documents.data or ""),
            actor=current_user,
        )
        return _("The round's rules were saved.")

    done, status = run_console_action(perform, _settings_url(community, funding_round))
    return done or _render_settings(community, funding_round, status, rules=form)


@bp.post("/console/c/<slug>/rounds/<int:round_id>/counting")
@community_required(*roles_for("rounds"))
def counting(community, round_id: int):
    funding_round = get_round(community, round_id)
    form = CountingForm()

    def perform():
        if not form.validate_on_submit():
            return None
        update_counting(
            funding_round,
            allocation_rule=form.allocation_rule.data,
            tie_break=form.tie_break.data,
            mes_completion=form.mes_completion.data,
            notice_days=form.notice_days.data,
            vote_unit=form.vote_unit.data,
            actor=current_user,
        )
        return _("How votes are counted was saved.")

    done, status = run_console_action(perform, _settings_url(community, funding_round))
    return done or _render_settings(community, funding_round, status, counting=form)


@bp.post("/console/c/<slug>/rounds/<int:round_id>/sources")
@community_required(*roles_for("rounds"))
def new_source(community, round_id: int):
    funding_round = get_round(community, round_id)
    form = _source_form(funding_round)

    def perform():
        if not form.validate_on_submit():
            return None
        add_source(funding_round, actor=current_user, **_source_fields(form))
        return _("The fund source was added.")

    url = _settings_url(community, funding_round) + "#sources"
    done, status = run_console_action(perform, url)
    return done or _render_settings(community, funding_round, status, source=form)


@bp.route(
    "/console/c/<slug>/rounds/<int:round_id>/sources/<int:source_id>", methods=["GET", "POST"]
)
@community_required(*roles_for("rounds"))
def edit_source(community, round_id: int, source_id: int):
    funding_round = get_round(community, round_id)
    source = get_source(funding_round, source_id)
    form = _source_form(funding_round, source, formdata=request.method == "POST")

    def perform():
        if not form.validate_on_submit():
            return None
        update_source(source, actor=current_user, **_source_fields(form))
        return _("The fund source was saved.")

    done, status = form_page_action(perform, _settings_url(community, funding_round) + "#sources")
    if done is not None:
        return done
    return render_template(
        "rounds/source.html",
        community=community,
        round=funding_round,
        source=source,
        form=form,
        sources_open=sources_open(funding_round),
    ), status


@bp.post("/console/c/<slug>/rounds/<int:round_id>/sources/<int:source_id>/remove")
@community_required(*roles_for("rounds"))
def delete_source(community, round_id: int, source_id: int):
    funding_round = get_round(community, round_id)
    source = get_source(funding_round, source_id)
    _removed, refused = try_service(lambda: remove_source(source, actor=current_user))
    if refused:
        return _render_settings(community, funding_round, refused)
    flash(_("The fund source was removed."), "success")
    return redirect(_settings_url(community, funding_round) + "#sources")


@bp.post("/console/c/<slug>/rounds/<int:round_id>/advance")
@community_required(*roles_for("rounds"))
def advance(community, round_id: int):
    funding_round = get_round(community, round_id)
    form = AdvanceForm()
    if form.validate_on_submit():
        _advanced, refused = try_service(
            lambda: advance_phase(
                funding_round, expected_phase=form.expected_phase.data, actor=current_user
            )
        )
        if refused is None:
            flash(_("The round moved to: %(phase)s.", phase=funding_round.phase_label), "success")
    return redirect(_settings_url(community, funding_round))
