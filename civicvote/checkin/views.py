"""Assemblies (organizers) and the check-in desk with walk-ins (organizers and clerks)."""

from flask import (
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_time, to_user_timezone, to_utc
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.tasks import roles_for, user_may
from ..ballots.setup import community_ballots
from ..errors import DomainError
from ..extensions import db, limiter
from ..forms import choices
from ..qr import qr_svg
from ..registry.credentials import (
    WALK_IN_MINUTES,
    base_url_for,
    eligible_voters,
    has_voted,
    voter_for_key,
)
from ..registry.services import search_residents
from ..rounds.models import VOTE_UNIT_RESIDENT
from ..sealed import seal, unseal
from ..security import community_required
from ..viewhelpers import try_service
from . import bp
from .forms import AssemblyForm, CheckInForm, WalkInConfirmForm, WalkInForm
from .models import CheckIn
from .services import (
    CheckInRefused,
    assembly_attendance,
    check_in,
    check_in_voter,
    community_assemblies,
    delete_assembly,
    get_assembly,
    parse_scan_time,
    quorum_label,
    quorum_status,
    recent_check_ins,
    save_assembly,
)
from .walkins import (
    WALK_IN_REASONS,
    SecondPersonMissing,
    SecondPersonRefused,
    get_walk_in,
    issue_confirmed_walk_in,
    live_cards,
    walk_in_purpose,
)


def _checkin_limit() -> str:
    return current_app.config.get("RATELIMIT_CHECKIN", "20 per minute")


def _desk_user_key() -> str:
    user_id = getattr(current_user, "id", None)
    return f"checkin-user:{user_id}"


def _refused(response) -> bool:
    """Only refused codes count against the guessing limit, not successful check-ins."""
    return response.status_code in (403, 404)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


# --- assemblies --------------------------------------------------------------------------------


@bp.get("/console/c/<slug>/assemblies")
@community_required(*roles_for("assemblies"))
def index(community):
    assemblies = community_assemblies(community.id)
    ballots = {a.ballot_id: a.ballot for a in assemblies}
    return render_template(
        "checkin/assemblies.html",
        community=community,
        assemblies=assemblies,
        quorums={
            ballot_id: (quorum_label(ballot), quorum_status(ballot))
            for ballot_id, ballot in ballots.items()
        },
        ballots=community_ballots(community.id),
        can_manage=user_may(current_user, community.id, "manage_assemblies"),
    )


def _assembly_form(community, assembly=None) -> AssemblyForm:
    form = AssemblyForm(obj=assembly)
    form.ballot.choices = choices((b.id, b.title) for b in community_ballots(community.id))
    if assembly is not None and request.method == "GET":
        form.ballot.data = assembly.ballot_id
        form.starts_at.data = to_user_timezone(assembly.starts_at).replace(tzinfo=None)
    return form


@bp.route("/console/c/<slug>/assemblies/new", methods=["GET", "POST"])
@bp.route("/console/c/<slug>/assemblies/<int:assembly_id>/edit", methods=["GET", "POST"])
@community_required(*roles_for("manage_assemblies"))
def edit(community, assembly_id: int | None = None):
    assembly = get_assembly(community.id, assembly_id) if assembly_id else None
    form = _assembly_form(community, assembly)
    if request.method == "GET" and assembly is None and request.args.get("ballot", "").isdigit():
        form.ballot.data = int(request.args["ballot"])
    if form.validate_on_submit():
        saved, refused = try_service(
            lambda: save_assembly(
                community.id,
                ballot_id=form.ballot.data,
                title=form.title.data,
                place=form.place.data,
                starts_at=to_utc(form.starts_at.data),
                assembly=assembly,
                actor=current_user,
            ),
            field=form.ballot,
        )
        if refused is None:
            flash(_("Assembly saved."), "success")
            return redirect(url_for("checkin.desk", slug=community.slug, assembly_id=saved.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "checkin/assembly_form.html", community=community, form=form, assembly=assembly
    ), status


@bp.post("/console/c/<slug>/assemblies/<int:assembly_id>/delete")
@community_required(*roles_for("manage_assemblies"))
def delete(community, assembly_id: int):
    delete_assembly(community.id, assembly_id, actor=current_user)
    flash(_("Assembly deleted."), "success")
    return redirect(url_for("checkin.index", slug=community.slug), 303)


# --- the desk ----------------------------------------------------------------------------------


def _desk_page(community, assembly, form, status=200, result=None):
    ballot = assembly.ballot
    return render_template(
        "checkin/desk.html",
        community=community,
        assembly=assembly,
        ballot=ballot,
        form=form,
        result=result,
        attendance=assembly_attendance(assembly),
        quorum=quorum_status(ballot),
        quorum_text=quorum_label(ballot),
        recent=recent_check_ins(assembly),
        can_manage=user_may(current_user, community.id, "manage_assemblies"),
    ), status


@bp.get("/console/c/<slug>/assemblies/<int:assembly_id>")
@community_required(*roles_for("assemblies"))
def desk(community, assembly_id: int):
    assembly = get_assembly(community.id, assembly_id)
    return _desk_page(community, assembly, CheckInForm())


def _result_message(result) -> str:
    if result.already:
        return _(
            "%(voter)s already checked in at %(time)s.",
            voter=result.voter_label,
            time=format_time(result.checked_in_at, "HH:mm"),
        )
    return _("Checked in: %(voter)s", voter=result.voter_label)


@bp.post("/console/c/<slug>/assemblies/<int:assembly_id>/check-in")
@limiter.limit(_checkin_limit, key_func=_desk_user_key, deduct_when=_refused)
@limiter.limit(_checkin_limit, deduct_when=_refused)
@community_required(*roles_for("assemblies"))
def check_in_post(community, assembly_id: int):
    assembly = get_assembly(community.id, assembly_id)
    form = CheckInForm()
    if not form.validate_on_submit():
        if _wants_json():
            return jsonify({"ok": False, "message": _("Scan a card or type its code.")}), 422
        return _desk_page(community, assembly, form, 422)
    try:
        result = check_in(
            assembly,
            form.code.data,
            actor=current_user,
            remote_addr=request.remote_addr or "",
            counts=_wants_json(),
            scanned_at=parse_scan_time(form.scanned_at.data),
        )
    except CheckInRefused as error:
        db.session.rollback()
        if _wants_json():
            return jsonify({"ok": False, "error": error.code, "message": str(error.message)}), 404
        form.code.errors.append(str(error.message))
        form.code.data = ""  # never echo a guessed code back
        return _desk_page(community, assembly, form, 404)
    message = _result_message(result)
    if _wants_json():
        answer = {
            "ok": True,
            "already": result.already,
            "message": message,
            "address": result.address,
            "name": result.name,
            "time": format_time(result.checked_in_at, "HH:mm"),
            "attendance": result.attendance,
            "quorum": result.quorum,
        }
        return jsonify(answer), (200 if result.already else 201)
    flash(message, "warning" if result.already else "success")
    return redirect(url_for("checkin.desk", slug=community.slug, assembly_id=assembly.id), 303)


@bp.get("/console/c/<slug>/assemblies/<int:assembly_id>/attendance.json")
@community_required(*roles_for("assemblies"))
def attendance(community, assembly_id: int):
    assembly = get_assembly(community.id, assembly_id)
    recent = [
        {"address": r["address"], "name": r["name"], "time": format_time(r["at"], "HH:mm")}
        for r in recent_check_ins(assembly)
    ]
    response = jsonify(
        {
            "assembly": assembly.id,
            "attendance": assembly_attendance(assembly),
            "quorum": quorum_status(assembly.ballot),
            "recent": recent,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- walk-ins ----------------------------------------------------------------------------------


@bp.get("/console/c/<slug>/assemblies/<int:assembly_id>/walk-in")
@community_required(*roles_for("assemblies"))
def walk_in(community, assembly_id: int):
    """Find a resident in the registry: who may vote, who has voted, who is checked in."""
    assembly = get_assembly(community.id, assembly_id)
    ballot = assembly.ballot
    query = request.args.get("q", "").strip()[:60]
    rows = []
    if query:
        eligible = {v.key for v in eligible_voters(ballot)}
        present = set(
            db.session.scalars(db.select(CheckIn.voter_key).filter_by(assembly_id=assembly.id))
        )
        per_resident = ballot.round.vote_unit == VOTE_UNIT_RESIDENT
        for resident in search_residents(community.id, query, limit=30):
            key = f"r{resident.id}" if per_resident else f"h{resident.household_id}"
            rows.append(
                {
                    "resident": resident,
                    "key": key,
                    "eligible": key in eligible,
                    "voted": key in eligible and has_voted(ballot.id, key),
                    "present": key in present,
                }
            )
    return render_template(
        "checkin/walk_in.html",
        community=community,
        assembly=assembly,
        ballot=ballot,
        query=query,
        rows=rows,
        form=WalkInForm(),
    )


def _second_person_refused(response) -> bool:
    """A wrong second person counts against the login limit: the form checks a password."""
    return response.status_code == 403


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _confirm_page(community, assembly, form, status=200):
    voter = voter_for_key(assembly.ballot, form.voter.data or "")
    if voter is None:
        flash(_("Choose a resident from the search results."), "error")
        return redirect(url_for("checkin.walk_in", slug=community.slug, assembly_id=assembly.id))
    return render_template(
        "checkin/walk_in_confirm.html",
        community=community,
        assembly=assembly,
        voter=voter,
        has_card=bool(live_cards(assembly.ballot_id, voter.key)),
        form=form,
    ), status


@bp.get("/console/c/<slug>/assemblies/<int:assembly_id>/walk-in/new")
@community_required(*roles_for("assemblies"))
def walk_in_confirm(community, assembly_id: int):
    """The walk-in form for one resident: why no card, and the second person who confirms."""
    assembly = get_assembly(community.id, assembly_id)
    form = WalkInConfirmForm(formdata=None).setup(WALK_IN_REASONS)
    form.voter.data = request.args.get("voter", "")[:30]
    return _confirm_page(community, assembly, form)


@bp.post("/console/c/<slug>/assemblies/<int:assembly_id>/walk-in/new")
@limiter.limit(_login_limit, deduct_when=_second_person_refused)
@community_required(*roles_for("assemblies"))
def walk_in_issue(community, assembly_id: int):
    """Issue the walk-in code once a second staff member confirmed; show it on its own page."""
    assembly = get_assembly(community.id, assembly_id)
    form = WalkInConfirmForm().setup(WALK_IN_REASONS)
    if not form.validate_on_submit():
        return _confirm_page(community, assembly, form, 422)
    try:
        issued = issue_confirmed_walk_in(
            assembly,
            form.voter.data,
            reason=form.reason.data,
            clerk=current_user,
            second_username=form.second_username.data,
            second_password=form.second_password.data,
            base_url=base_url_for(current_app.config),
            seal=seal,
        )
    except DomainError as error:
        db.session.rollback()
        second = isinstance(error, (SecondPersonMissing, SecondPersonRefused))
        field = form.second_username if second else form.reason
        field.errors = [*field.errors, str(error.message)]
        form.second_password.data = ""
        return _confirm_page(community, assembly, form, error.status_code)
    return redirect(
        url_for(
            "checkin.walk_in_code",
            slug=community.slug,
            assembly_id=assembly.id,
            walk_in_id=issued.walk_in.id,
        ),
        303,
    )


@bp.get("/console/c/<slug>/assemblies/<int:assembly_id>/walk-ins/<int:walk_in_id>")
@community_required(*roles_for("assemblies"))
def walk_in_code(community, assembly_id: int, walk_in_id: int):
    """The walk-in's one-time QR, shown again on reload in the browser that issued it."""
    assembly = get_assembly(community.id, assembly_id)
    walk_in = get_walk_in(assembly, walk_in_id)
    code = unseal(walk_in.sealed, walk_in_purpose(walk_in.id))
    if code is None:
        flash(_("This walk-in code can be shown only on the desk that issued it."), "error")
        return redirect(url_for("checkin.walk_in", slug=community.slug, assembly_id=assembly.id))
    response = make_response(
        render_template(
            "checkin/walk_in_qr.html",
            community=community,
            assembly=assembly,
            code=code,
            qr=qr_svg(code["link"], label=_("Voting link")),
            minutes=WALK_IN_MINUTES,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/console/c/<slug>/assemblies/<int:assembly_id>/walk-in/check-in")
@community_required(*roles_for("assemblies"))
def walk_in_check_in(community, assembly_id: int):
    """Mark a resident found in the registry present, without a phone (e.g. a paper voter)."""
    assembly = get_assembly(community.id, assembly_id)
    form = WalkInForm()
    if not form.validate_on_submit():
        flash(_("Choose a resident from the search results."), "error")
        return redirect(url_for("checkin.walk_in", slug=community.slug, assembly_id=assembly.id))
    result, refused = try_service(
        lambda: check_in_voter(assembly, form.voter.data, actor=current_user)
    )
    if refused:
        return redirect(url_for("checkin.walk_in", slug=community.slug, assembly_id=assembly.id))
    flash(_result_message(result), "warning" if result.already else "success")
    query = request.form.get("q", "").strip()[:60]
    if query:  # back to the search, where the walk-in code can now be given
        return redirect(
            url_for("checkin.walk_in", slug=community.slug, assembly_id=assembly.id, q=query), 303
        )
    return redirect(url_for("checkin.desk", slug=community.slug, assembly_id=assembly.id), 303)
