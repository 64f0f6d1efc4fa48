"""The organizer's ballot console: list, create, edit, open, pause and close ballots.

The ballot's own page (its count and paper ballots) and the residents' voting pages are the
voting area's (civicvote/voting/views.py).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.tasks import roles_for
from ..extensions import db
from ..i18n import money
from ..rounds.models import FundingRound
from ..security import community_required, private_page
from ..viewhelpers import try_service
from . import bp
from .forms import BallotForm, StatusForm
from .lifecycle import STATUS_ACTIONS, change_status
from .schedule import ballot_schedule, community_step
from .setup import approved_proposals, community_ballot, create_ballot, update_ballot

bp.after_request(private_page)


# Residents' pages of lower areas (the community page) and higher ones (cards, the ballot) say
# what the round asks now and when and where to vote.
bp.add_app_template_global(community_step, "community_step")
bp.add_app_template_global(ballot_schedule, "ballot_schedule")


def _community_round(community, round_id: int) -> FundingRound:
    funding_round = db.session.get(FundingRound, round_id)
    if funding_round is None or funding_round.community_id != community.id:
        abort(404)
    return funding_round


def _show(community, ballot_id: int):
    """To the ballot's page (its count, status buttons and paper ballots)."""
    return redirect(url_for("voting.console_show", slug=community.slug, ballot_id=ballot_id))


@bp.get("/console/c/<slug>/ballots")
@community_required(*roles_for("ballots"))
def console_list(community):
    return render_template("ballots/console_list.html", community=community)


def _proposal_choices(form: BallotForm, funding_round: FundingRound) -> None:
    form.proposals.choices = [
        (p.id, f"{p.title} · {money(p.total_fen)}") for p in approved_proposals(funding_round)
    ]


@bp.route("/console/c/<slug>/rounds/<int:round_id>/ballots/new", methods=["GET", "POST"])
@community_required(*roles_for("manage_ballots"))
def console_new(community, round_id: int):
    funding_round = _community_round(community, round_id)
    form = BallotForm()
    _proposal_choices(form, funding_round)
    if form.validate_on_submit():
        ballot, refused = try_service(
            lambda: create_ballot(
                funding_round, form.values(), form.proposals.data, actor=current_user
            )
        )
        if refused is None:
            flash(_("Ballot created. Open it when voting starts."), "success")
            return _show(community, ballot.id)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "ballots/console_form.html",
        community=community,
        funding_round=funding_round,
        form=form,
        ballot=None,
    ), status


@bp.route("/console/c/<slug>/ballots/<int:ballot_id>/edit", methods=["GET", "POST"])
@community_required(*roles_for("manage_ballots"))
def console_edit(community, ballot_id: int):
    ballot = community_ballot(community.id, ballot_id)
    form = BallotForm()
    _proposal_choices(form, ballot.round)
    if ballot.locked:
        # Proposals no longer approved stay listable so the locked list can be shown.
        known = {value for value, _label in form.proposals.choices}
        form.proposals.choices += [
            (i.proposal_id, i.proposal.title) for i in ballot.items if i.proposal_id not in known
        ]
    refused = None
    if request.method == "GET":
        form.fill_from(ballot)
    elif form.validate_on_submit():
        _saved, refused = try_service(
            lambda: update_ballot(ballot, form.values(), form.proposals.data, actor=current_user)
        )
        if refused is None:
            flash(_("Ballot saved."), "success")
            return _show(community, ballot.id)
    status = refused or (422 if form.is_submitted() else 200)
    return render_template(
        "ballots/console_form.html",
        community=community,
        funding_round=ballot.round,
        form=form,
        ballot=ballot,
    ), status


@bp.post("/console/c/<slug>/ballots/<int:ballot_id>/status")
@community_required(*roles_for("manage_ballots"))
def console_status(community, ballot_id: int):
    ballot = community_ballot(community.id, ballot_id)
    form = StatusForm()
    if not form.validate_on_submit() or form.action.data not in STATUS_ACTIONS:
        abort(400)
    _changed, refused = try_service(
        lambda: change_status(ballot.id, form.action.data, actor=current_user)
    )
    if refused:
        return _show(community, ballot_id)
    messages = {
        "open": _("The ballot is open: residents can vote now."),
        "pause": _("The ballot is paused: votes are refused until you open it again."),
        "close": _("The ballot is closed. No more votes are accepted."),
    }
    flash(messages[form.action.data], "success")
    return _show(community, ballot_id)
