"""Organizer pages: the voter registry (import, list, add, edit) and voter cards."""

import secrets
import time
from datetime import date

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.tasks import roles_for
from ..ballots.setup import community_ballot, community_ballots
from ..forms import choices
from ..qr import qr_svg
from ..sealed import seal, unseal
from ..security import community_required
from ..viewhelpers import try_service
from . import bp
from .batches import batch_cards, batch_purpose, get_batch, issue_card_batch
from .cards import group_by_building
from .credentials import (
    base_url_for,
    credential_summary,
    eligible_voters,
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
@community_required(*roles_for("registry"))
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
@community_required(*roles_for("registry"))
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
@community_required(*roles_for("registry"))
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
    if not form.is_submitted():
        form.request_key.data = secrets.token_urlsafe(24)
    return form


RECENT_BATCHES = "card_batches"  # in the session: each ballot's last batch from this browser
RECENT_MINUTES = 30


def _recent_batch(ballot_id: int) -> dict | None:
    """The batch this browser issued last for the ballot, if within the last half hour."""
    recent = (session.get(RECENT_BATCHES) or {}).get(str(ballot_id))
    if not recent or time.time() - recent["at"] > RECENT_MINUTES * 60:
        return None
    return recent


def _remember_batch(ballot_id: int, batch, building, count) -> None:
    kept = dict(session.get(RECENT_BATCHES) or {})
    kept[str(ballot_id)] = {"id": batch.id, "building": building, "count": count, "at": time.time()}
    session[RECENT_BATCHES] = dict(list(kept.items())[-10:])


def _cards_page(community, ballot, form, status=200):
    return render_template(
        "cards/issue.html",
        community=community,
        ballot=ballot,
        recent=_recent_batch(ballot.id),
        form=form,
        revoke_form=RevokeForm(prefix="revoke"),
        summary=credential_summary(ballot.id),
        eligible=len(eligible_voters(ballot)),
    ), status


@bp.get("/console/c/<slug>/ballots/<int:ballot_id>/cards")
@community_required(*roles_for("registry"))
def cards(community, ballot_id: int):
    ballot = community_ballot(community.id, ballot_id)
    return _cards_page(community, ballot, _cards_form(community))


@bp.post("/console/c/<slug>/ballots/<int:ballot_id>/cards")
@community_required(*roles_for("registry"))
def issue_cards(community, ballot_id: int):
    """Issue one batch per form, then show its sheet as a page of its own (POST-redirect-GET)."""
    ballot = community_ballot(community.id, ballot_id)
    form = _cards_form(community)
    if not form.validate_on_submit():
        return _cards_page(community, ballot, form, 422)
    building, count = form.building.data or None, form.count.data
    recent = _recent_batch(ballot.id)
    if (
        recent
        and (recent["building"], recent["count"]) == (building, count)
        and not (form.another.data)
    ):
        # Back to the form (Chromium reloads it with a new key and refills the choices) and
        # sent again: the same choices show the batch just issued instead of issuing more.
        flash(
            _(
                "You issued cards with the same choices a moment ago: here they are. To issue "
                "more, tick “Issue another batch with the same choices”."
            ),
            "warning",
        )
        return redirect(
            url_for(
                "registry.card_sheet",
                slug=community.slug,
                ballot_id=ballot.id,
                batch_id=recent["id"],
            ),
            303,
        )
    issued, refused = try_service(
        lambda: issue_card_batch(
            ballot.id,
            form.request_key.data,
            building=building,
            count=count,
            base_url=base_url_for(current_app.config),
            seal=seal,
            actor=current_user,
        ),
        field=form.building,
    )
    if refused:
        return _cards_page(community, ballot, form, refused)
    batch, created = issued
    _remember_batch(ballot.id, batch, building, count)
    if not created:
        flash(_("This form had already issued its cards: here they are again."), "warning")
    return redirect(
        url_for("registry.card_sheet", slug=community.slug, ballot_id=ballot.id, batch_id=batch.id),
        303,
    )


@bp.get("/console/c/<slug>/ballots/<int:ballot_id>/cards/batches/<int:batch_id>")
@community_required(*roles_for("registry"))
def card_sheet(community, ballot_id: int, batch_id: int):
    """The printable sheet of one batch: reloading shows the same cards, never issues more."""
    ballot = community_ballot(community.id, ballot_id)
    batch = get_batch(ballot.id, batch_id)
    values = unseal(batch.sealed, batch_purpose(batch.id))
    if values is None and batch.issued:
        flash(
            _(
                "This batch's sheet can be shown only in the browser that issued it. If it is "
                "lost, revoke its cards and issue new ones."
            ),
            "error",
        )
        return redirect(url_for("registry.cards", slug=community.slug, ballot_id=ballot.id), 303)
    issued = batch_cards(values or [])
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
    # The tokens are in this page: no cache, no copy for other sites.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/console/c/<slug>/ballots/<int:ballot_id>/cards/revoke")
@community_required(*roles_for("registry"))
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
