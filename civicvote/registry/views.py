"""Organizer pages: the voter registry (import, list, add, edit) and voter cards."""

from datetime import date

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import ORGANIZER
from ..ballots.setup import community_ballot, community_ballots
from ..forms import choices
from ..qr import qr_svg
from ..security import community_required
from ..viewhelpers import try_service
from . import bp
from .cards import group_by_building
from .credentials import (
    base_url_for,
    credential_summary,
    eligible_voters,
    issue_credentials,
    revoke_credentials,
)
from .forms import CardsForm, ImportForm, ResidentForm, RevokeForm
from .services import (
    MAX_IMPORT_BYTES,
    RESIDENCE_LABELS,
    buildings,
    get_resident,
    import_registry,
    is_eligible,
    registry_counts,
    save_resident,
    search_residents,
)


@bp.get("/console/c/<slug>/registry")
@community_required(ORGANIZER)
def index(community):
    query = request.args.get("q", "")[:60]
    residents = search_residents(community.id, query, limit=200)
    rounds = community.rounds
    year = rounds[-1].year if rounds else date.today().year
    return render_template(
        "registry/index.html",
        community=community,
        residents=residents,
        query=query,
        year=year,
        may_vote={r.id: is_eligible(r, year) for r in residents},
        counts=registry_counts(community.id),
        residence_labels=RESIDENCE_LABELS,
        ballots=community_ballots(community.id),
    )


@bp.route("/console/c/<slug>/registry/import", methods=["GET", "POST"])
@community_required(ORGANIZER)
def import_file(community):
    form = ImportForm()
    result, status = None, 200
    if form.validate_on_submit():
        data = form.file.data.read(MAX_IMPORT_BYTES + 1)
        result, refused = try_service(
            lambda: import_registry(community, data, actor=current_user), field=form.file
        )
        if refused is None and result.ok:
            flash(
                _(
                    "Registry imported: %(created)d new, %(updated)d updated, "
                    "%(unchanged)d unchanged.",
                    created=result.created,
                    updated=result.updated,
                    unchanged=result.unchanged,
                ),
                "success",
            )
            return redirect(url_for("registry.index", slug=community.slug), 303)
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template(
        "registry/import.html", community=community, form=form, result=result
    ), status


@bp.route("/console/c/<slug>/registry/residents/new", methods=["GET", "POST"])
@bp.route("/console/c/<slug>/registry/residents/<int:resident_id>", methods=["GET", "POST"])
@community_required(ORGANIZER)
def edit_resident(community, resident_id: int | None = None):
    resident = get_resident(community, resident_id) if resident_id else None
    form = ResidentForm(obj=resident)
    if resident is not None and request.method == "GET":
        form.building.data = resident.household.building
        form.unit.data = resident.household.unit
        form.room.data = resident.household.room
    if form.validate_on_submit():
        values = {
            name: getattr(form, name).data
            for name in (
                "external_ref",
                "name",
                "building",
                "unit",
                "room",
                "birth_year",
                "residence_status",
                "eligible",
            )
        }
        _saved, refused = try_service(
            lambda: save_resident(community, values, resident=resident, actor=current_user),
            field=form.external_ref,
        )
        if refused is None:
            flash(_("Resident saved."), "success")
            return redirect(url_for("registry.index", slug=community.slug), 303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "registry/resident.html", community=community, form=form, resident=resident
    ), status


def _cards_form(community) -> CardsForm:
    form = CardsForm()
    form.building.choices = choices(
        [("", _("All buildings"))] + [(b, b) for b in buildings(community.id)]
    )
    return form


@bp.get("/console/c/<slug>/ballots/<int:ballot_id>/cards")
@community_required(ORGANIZER)
def cards(community, ballot_id: int):
    ballot = community_ballot(community.id, ballot_id)
    return render_template(
        "cards/issue.html",
        community=community,
        ballot=ballot,
        form=_cards_form(community),
        revoke_form=RevokeForm(prefix="revoke"),
        summary=credential_summary(ballot.id),
        eligible=len(eligible_voters(ballot)),
    )


@bp.post("/console/c/<slug>/ballots/<int:ballot_id>/cards")
@community_required(ORGANIZER)
def issue_cards(community, ballot_id: int):
    """Issue cards and answer with the printable sheet: the only time the tokens are shown."""
    ballot = community_ballot(community.id, ballot_id)
    form = _cards_form(community)
    if not form.validate_on_submit():
        return render_template(
            "cards/issue.html",
            community=community,
            ballot=ballot,
            form=form,
            revoke_form=RevokeForm(prefix="revoke"),
            summary=credential_summary(ballot.id),
            eligible=len(eligible_voters(ballot)),
        ), 422
    issued = issue_credentials(
        ballot.id,
        form.building.data or None,
        form.count.data,
        base_url=base_url_for(current_app.config, request.url_root),
        actor=current_user,
    )
    response = make_response(
        render_template(
            "cards/sheet.html",
            community=community,
            ballot=ballot,
            batches=group_by_building(issued),
            count=len(issued),
            qr_svg=qr_svg,
        )
    )
    # The tokens exist only in this response: no cache, no history copy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/console/c/<slug>/ballots/<int:ballot_id>/cards/revoke")
@community_required(ORGANIZER)
def revoke_card(community, ballot_id: int):
    ballot = community_ballot(community.id, ballot_id)
    form = RevokeForm(prefix="revoke")
    if form.validate_on_submit():
        revoked = revoke_credentials(ballot.id, secret=form.code.data, actor=current_user)
        if revoked:
            flash(_("The card was revoked."), "success")
        else:
            flash(_("No live card matches this code."), "error")
    else:
        flash(_("Enter the card's short code or scan its QR code."), "error")
    return redirect(url_for("registry.cards", slug=community.slug, ballot_id=ballot.id), 303)
