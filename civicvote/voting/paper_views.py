"""The console's paper ballot pages: hand-over at the desk, printing sheets, the clerks' double
entry and the supervisor's decision on a disputed sheet. Thin: each calls voting/paper.py."""

import secrets

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.tasks import roles_for, user_may
from ..ballots.rules import ballot_budget
from ..ballots.setup import community_ballot
from ..errors import DomainError
from ..qr import qr_svg
from ..registry.credentials import eligible_voters, has_voted
from ..registry.services import search_residents
from ..security import community_required
from . import bp
from .forms import HandOverForm, PrintSheetsForm, SettleForm, SheetEntryForm
from .paper import dispute, enter_sheet, hand_over, settle_dispute, voter_key_of
from .paper_sheets import (
    ballot_batches,
    batch_numbers,
    format_sheet_number,
    get_batch,
    print_sheets,
    sheet_counts,
)
from .views import _chosen_for_template, choices_from_form

PAPER = "/console/c/<slug>/ballots/<int:ballot_id>/paper"


def _back_to(endpoint: str, community, ballot, **values):
    return redirect(url_for(endpoint, slug=community.slug, ballot_id=ballot.id, **values), 303)


# --------------------------------------------------------------------------- hand-over


@bp.get(PAPER + "/hand-over")
@community_required(*roles_for("paper_entry"))
def paper_hand_over(community, ballot_id: int):
    """Find the resident on the registry by registry number, name or address."""
    ballot = community_ballot(community.id, ballot_id)
    query = request.args.get("q", "").strip()[:60]
    rows = []
    if query:
        eligible = {v.key for v in eligible_voters(ballot)}
        for resident in search_residents(community.id, query, limit=30):
            key = voter_key_of(ballot, resident)
            rows.append(
                {
                    "resident": resident,
                    "eligible": key in eligible,
                    "voted": key in eligible and has_voted(ballot.id, key),
                }
            )
    return render_template(
        "voting/paper_hand_over.html", community=community, ballot=ballot, query=query, rows=rows
    )


@bp.post(PAPER + "/hand-over")
@community_required(*roles_for("paper_entry"))
def paper_hand_over_record(community, ballot_id: int):
    ballot = community_ballot(community.id, ballot_id)
    form = HandOverForm()
    query = request.form.get("q", "")[:60]
    if not form.validate_on_submit() or not form.resident_id.data.isdigit():
        flash(_("Choose a resident from the search results."), "error")
        return _back_to("voting.paper_hand_over", community, ballot, q=query)
    try:
        voter = hand_over(ballot.id, int(form.resident_id.data), clerk=current_user)
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Hand a paper ballot sheet to %(voter)s.", voter=voter.label), "success")
    return _back_to("voting.paper_hand_over", community, ballot, q=query)


# --------------------------------------------------------------------------- printing


@bp.get(PAPER + "/sheets")
@community_required(*roles_for("paper_entry"))
def paper_sheets(community, ballot_id: int):
    ballot = community_ballot(community.id, ballot_id)
    return _sheets_page(community, ballot, PrintSheetsForm(request_key=secrets.token_urlsafe(16)))


def _sheets_page(community, ballot, form, status: int = 200):
    return render_template(
        "voting/paper_sheets.html",
        community=community,
        ballot=ballot,
        form=form,
        batches=ballot_batches(ballot.id),
        counts=sheet_counts(ballot.id),
    ), status


@bp.post(PAPER + "/sheets")
@community_required(*roles_for("paper_entry"))
def paper_sheets_print(community, ballot_id: int):
    """Make a batch (once per form) and send the browser to its printable page."""
    ballot = community_ballot(community.id, ballot_id)
    form = PrintSheetsForm()
    if not form.validate_on_submit():
        return _sheets_page(community, ballot, form, 422)
    try:
        printed = print_sheets(ballot, form.count.data, form.request_key.data, actor=current_user)
    except DomainError as error:
        flash(str(error.message), "error")
        return _back_to("voting.paper_sheets", community, ballot)
    if not printed.created:
        flash(_("This form had been sent already: here is the batch it printed."), "warning")
    return _back_to("voting.paper_batch", community, ballot, batch_id=printed.batch.id)


@bp.get(PAPER + "/sheets/<int:batch_id>")
@community_required(*roles_for("paper_entry"))
def paper_batch(community, ballot_id: int, batch_id: int):
    """The batch's sheets, two to an A4 page: number, its QR code and the ballot's choices."""
    ballot = community_ballot(community.id, ballot_id)
    batch = get_batch(ballot, batch_id)
    sheets = [
        (format_sheet_number(n), qr_svg(format_sheet_number(n), label=_("Sheet number")))
        for n in batch_numbers(batch)
    ]
    response = make_response(
        render_template(
            "voting/paper_batch.html",
            community=community,
            ballot=ballot,
            batch=batch,
            sheets=sheets,
            budget=ballot_budget(ballot),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- double entry


@bp.route(PAPER, methods=["GET", "POST"])
@community_required(*roles_for("paper_entry"))
def console_paper(community, ballot_id: int):
    """A clerk enters one sheet; a second clerk enters it again independently."""
    ballot = community_ballot(community.id, ballot_id)
    form = SheetEntryForm()
    chosen, error, status = {}, None, 200
    if form.validate_on_submit():
        payload = choices_from_form(ballot, request.form)
        try:
            entry = enter_sheet(ballot.id, form.sheet.data, payload, clerk=current_user)
        except DomainError as failure:
            chosen = _chosen_for_template(payload)
            error, status = str(failure.message), failure.status_code
        else:
            messages = {
                "pending": _("Entry saved. A second clerk must now enter the same sheet."),
                "matched": _("Both entries agree: the paper ballot is counted."),
                "mismatch": _("The two entries differ: a supervisor must check the sheet."),
            }
            flash(
                messages.get(entry.status, messages["pending"]),
                "error" if entry.status == "mismatch" else "success",
            )
            return _back_to("voting.console_paper", community, ballot)
    elif form.is_submitted():
        status = 422
    return render_template(
        "voting/console_paper.html",
        community=community,
        ballot=ballot,
        form=form,
        chosen=chosen,
        error=error,
        budget=ballot_budget(ballot),
    ), status


# --------------------------------------------------------------------------- disputes


def _settle_form(found) -> SettleForm:
    form = SettleForm()
    form.choice.choices = [(str(e.id), str(e.id)) for e in found.entries] + [("sheet", "sheet")]
    return form


def _dispute_page(community, ballot, found, form, *, chosen=None, error=None, status=200):
    return render_template(
        "voting/paper_dispute.html",
        community=community,
        ballot=ballot,
        sheet=format_sheet_number(found.sheet_number),
        number=found.sheet_number,
        entries=found.entries,
        form=form,
        chosen=chosen or {},
        error=error,
        budget=ballot_budget(ballot),
        may_settle=user_may(current_user, community.id, "settle_disputes"),
    ), status


@bp.get(PAPER + "/disputes/<number>")
@community_required(*roles_for("paper_disputes"))
def paper_dispute(community, ballot_id: int, number: str):
    """Both entries side by side; the supervisor picks the one the sheet shows, or neither."""
    ballot = community_ballot(community.id, ballot_id)
    found = dispute(ballot.id, number)
    return _dispute_page(community, ballot, found, _settle_form(found))


@bp.post(PAPER + "/disputes/<number>")
@community_required(*roles_for("settle_disputes"))
def paper_settle(community, ballot_id: int, number: str):
    ballot = community_ballot(community.id, ballot_id)
    found = dispute(ballot.id, number)
    form = _settle_form(found)
    if not form.validate_on_submit():
        error = _("Choose one of the two entries, or enter what the sheet says.")
        return _dispute_page(community, ballot, found, form, error=error, status=422)
    payload = choices_from_form(ballot, request.form) if form.choice.data == "sheet" else None
    try:
        settle_dispute(ballot.id, number, form.choice.data, payload, supervisor=current_user)
    except DomainError as failure:
        chosen = _chosen_for_template(payload or {})
        return _dispute_page(
            community,
            ballot,
            found,
            form,
            chosen=chosen,
            error=str(failure.message),
            status=failure.status_code,
        )
    flash(_("The sheet is decided and counted once."), "success")
    return redirect(url_for("voting.console_show", slug=community.slug, ballot_id=ballot.id), 303)
