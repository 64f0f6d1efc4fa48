"""The public results page with objections, and the organizers' allocation console."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.tasks import roles_for
from ..ballots.lifecycle import decide_quorum
from ..ballots.models import QUORUM_DECISION_LABELS, Ballot
from ..checkin.services import quorum_label, quorum_sentence
from ..communities.services import get_community
from ..extensions import db, limiter
from ..forms import BaseForm
from ..i18n import money, number
from ..rounds.models import RULE_LABELS, TIE_LABELS, FundingRound
from ..security import community_required
from ..viewhelpers import run_console_action, try_service
from . import bp
from .explanations import explanation
from .export import export_pabulib
from .forms import AmendAnswerForm, AnswerForm, ObjectionForm, QuorumDecisionForm, RunForm
from .models import Objection
from .objections import amend_answer, answer_objection
from .reasons import explain, tie_rule
from .services import (
    ballot_outcomes,
    earlier_results,
    file_objection,
    finalize,
    latest_run,
    notice_open,
    run_allocation,
    source_use,
    supersede,
)


def share(value) -> str:
    """A share between 0 and 1 as a percentage with one decimal, in the reader's locale."""
    return format_percent(float(value), "#,##0.0%")


def decimal2(value) -> str:
    return format_decimal(float(value), "#,##0.00")


@bp.app_context_processor
def result_helpers():
    return {
        # An outcome names MES with its completion ("mes/add1"); residents see the rule's name.
        "rule_label": lambda rule: RULE_LABELS.get(rule, RULE_LABELS.get(rule.split("/")[0], rule)),
        "tie_label": lambda tie: TIE_LABELS.get(tie, tie),
        "quorum_decision_label": lambda d: QUORUM_DECISION_LABELS.get(d, d),
        "quorum_sentence": quorum_sentence,
        "money_fmt": money,
        "number_fmt": number,
        "share_fmt": share,
    }


bp.add_app_template_filter(share, "share")
bp.add_app_template_filter(decimal2, "decimal2")


@bp.app_template_global("quorum_rule")
def quorum_rule(ballot) -> str:
    """The ballot's quorum rule in words, for the resident's ballot page (a macro's global)."""
    return quorum_label(ballot)


def _round(community, round_id: int) -> FundingRound:
    funding_round = db.session.get(FundingRound, round_id)
    if funding_round is None or funding_round.community_id != community.id:
        abort(404)
    return funding_round


def result_rows(run) -> list[dict]:
    """The run's projects with their reasons in words, in rank order."""
    titles = {str(p.proposal_id): p.proposal.title for p in run.projects}
    sources = {str(s.id): s.name for s in db.session.get(FundingRound, run.round_id).fund_sources}
    rows = []
    for project in sorted(run.projects, key=lambda p: p.rank):
        reason = project.reason or {}
        rows.append(
            {
                "project": project,
                # Passed the ballot's threshold; funding is a separate question (money, rule).
                "passed": reason.get("code") != "below_threshold",
                "why": explain(reason, titles=titles, sources=sources),
                "context": [
                    explain(r, titles=titles, sources=sources) for r in reason.get("context", [])
                ],
                "by_source": [
                    (sources.get(k, k), v)
                    for k, v in sorted((project.funding_by_source or {}).items())
                ],
            }
        )
    return rows


def _page_context(funding_round, run) -> dict:
    explained = explanation(run)
    return {
        "explained": explained,
        "why_more": {p["id"]: p for p in explained["published"]["projects"]} if explained else {},
        "round": funding_round,
        "run": run,
        "outcomes": ballot_outcomes(funding_round),
        "earlier": earlier_results(funding_round, run),
        "rows": result_rows(run) if run else [],
        "sources": source_use(run, funding_round) if run else [],
        "tie_rule": tie_rule(run.tie_break) if run else "",
        "notice_open": notice_open(run) if run else False,
    }


@bp.route("/c/<slug>/rounds/<int:round_id>/results", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def public(slug: str, round_id: int):
    community = get_community(slug)
    if community is None:
        abort(404)
    funding_round = _round(community, round_id)
    run = latest_run(funding_round.id)
    form = ObjectionForm()
    status = 200
    if request.method == "POST":
        if run is None:
            abort(404)
        if form.validate_on_submit():
            _objection, refused = try_service(
                lambda: file_objection(
                    run, form.text.data, card=form.card.data or "", contact=form.contact.data or ""
                )
            )
            if refused:
                status = refused
            else:
                flash(
                    _("Your objection is recorded. The answer will be published here."), "success"
                )
                return redirect(url_for("results.public", slug=slug, round_id=round_id))
        else:
            status = 422
    return render_template(
        "results/public.html", community=community, form=form, **_page_context(funding_round, run)
    ), status


@bp.route("/console/c/<slug>/rounds/<int:round_id>/allocation", methods=["GET", "POST"])
@community_required(*roles_for("objections"))
def console(community, round_id: int):
    funding_round = _round(community, round_id)
    run = latest_run(funding_round.id)
    form = RunForm(prefix="run")
    quorum_form = QuorumDecisionForm(prefix="q")
    answer_form = AnswerForm(prefix="ans")
    amend_form = AmendAnswerForm(prefix="amend")
    closed = [b for b in funding_round.ballots if b.status == "closed"]
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        done, status = run_console_action(
            lambda: _act(
                action, funding_round, run, (form, quorum_form, answer_form, amend_form), closed
            ),
            url_for("results.console", slug=community.slug, round_id=round_id),
        )
        if done:
            return done
    return render_template(
        "results/console.html",
        community=community,
        form=form,
        quorum_form=quorum_form,
        answer_form=answer_form,
        amend_form=amend_form,
        closed_ballots=closed,
        **_page_context(funding_round, run),
    ), status


def _closed_ballot(closed):
    raw = request.form.get("ballot", "")
    ballot = db.session.get(Ballot, int(raw)) if raw.isascii() and raw.isdigit() else None
    if ballot is None or ballot not in closed:
        abort(404)
    return ballot


def _objection(run) -> Objection:
    raw = request.form.get("objection", "")
    objection = db.session.get(Objection, int(raw)) if raw.isascii() and raw.isdigit() else None
    if objection is None or run is None or objection.run_id != run.id:
        abort(404)
    return objection


def _act(action, funding_round, run, forms, closed) -> str | None:
    form, quorum_form, answer_form, amend_form = forms
    if action == "run" and form.validate_on_submit():
        ballot = _closed_ballot(closed)
        if run is not None and run.status == "final":
            supersede(run, form.reason.data, actor=current_user)
        else:
            run_allocation(funding_round, ballot, actor=current_user, reason=form.reason.data)
        return _("The provisional result is published for public notice.")
    if action == "quorum" and quorum_form.validate_on_submit():
        ballot = _closed_ballot(closed)
        decide_quorum(
            ballot.id, quorum_form.decision.data, quorum_form.note.data, actor=current_user
        )
        return _("The decision is recorded and published.")
    if action == "answer" and answer_form.validate_on_submit():
        answer_objection(_objection(run), answer_form.answer.data, actor=current_user)
        return _("The answer is published.")
    if action == "amend" and amend_form.validate_on_submit():
        version = amend_form.version.data
        amend_answer(
            _objection(run),
            amend_form.answer.data,
            version=int(version) if version.isdigit() else -1,
            actor=current_user,
        )
        return _("The amended answer is published; the earlier one stays listed.")
    if action == "finalize" and BaseForm().validate_on_submit() and run is not None:
        finalize(run, actor=current_user)
        return _("The result is final.")
    if action not in ("run", "quorum", "answer", "amend", "finalize"):
        abort(400)
    return None


@bp.get("/c/<slug>/rounds/<int:round_id>/ballots.pb")
def pabulib_file(slug: str, round_id: int):
    """Anyone can recount: the final result's anonymised ballots in the Pabulib format."""
    community = get_community(slug)
    if community is None:
        abort(404)
    funding_round = _round(community, round_id)
    run = latest_run(funding_round.id, statuses=("final",))
    if run is None:
        # A closed door says when it opens: the file exists once the result is final.
        page = render_template(
            "results/export_not_final.html",
            community=community,
            round=funding_round,
            provisional=latest_run(funding_round.id),
        )
        return page, 404
    response = make_response(export_pabulib(run))
    response.mimetype = "text/plain"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="civicvote_{community.slug}_{funding_round.year}.pb"'
    )
    return response
