"""Needs: the resident form, tracking, the public list, "me too", the poster, staff triage."""

import hashlib
import json
import secrets

from flask import (
    abort,
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

from ..accounts.tasks import roles_for, user_may
from ..communities.services import get_community
from ..config import public_base_url
from ..extensions import limiter
from ..forms import choices
from ..qr import qr_svg
from ..rounds.services import current_round, round_for_needs
from ..security import community_required
from ..viewhelpers import form_page_action, try_service
from . import bp
from .forms import ActionForm, DeclineForm, MergeForm, NeedForm, StaffNeedForm
from .models import CHANNEL_LABELS, NEED_STATUS_LABELS, Need
from .services import (
    accept_need,
    channel_counts,
    decline_need,
    find_by_code,
    format_code,
    get_need,
    has_supported,
    list_needs,
    merge_needs,
    merged_into,
    need_counts,
    normalize_code,
    places,
    proposals_answering,
    resolve,
    submit_need,
    support_need,
    supporter_hash,
)

SUPPORTER_COOKIE = "civicvote_supporter"


def _community(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    return community


def _submit_limit() -> str:
    # Generous enough for an assembly where many phones share one Wi-Fi address.
    return current_app.config.get("RATELIMIT_NEEDS", "10 per minute; 60 per hour")


def _support_limit() -> str:
    return current_app.config.get("RATELIMIT_SUPPORT", "20 per minute; 120 per hour")


def _public_base() -> str:
    return public_base_url(current_app.config)  # never the Host header


SENT_NEEDS = "sent_needs"  # in the session: what this browser sent -> the form's key
KEPT_SENT = 20


def _sent_key(form, community) -> tuple[str, str]:
    """The key of a need this browser already sent with the same content, else the form's own.

    Going back to a sent form, Chromium loads the page again (a new one-time key in the hidden
    field) but refills the fields the person typed: sent again, it is the same need. The session
    remembers a hash of each need's content with the key it was sent under, so the copy finds
    the first need. Another browser, or other words, make a new need.
    """
    fields = (getattr(form, name, None) for name in _NEED_FIELDS)
    content = [community.id, *((field.data or "") if field else "" for field in fields)]
    digest = hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()[:32]
    return (session.get(SENT_NEEDS) or {}).get(digest) or form.nonce.data or "", digest


def _remember_sent(digest: str, key: str) -> None:
    sent = dict(session.get(SENT_NEEDS) or {})
    sent[digest] = key
    session[SENT_NEEDS] = dict(list(sent.items())[-KEPT_SENT:])


_NEED_FIELDS = ("title", "description", "category", "place", "contact", "channel")


def _category_names(funding_round) -> dict:
    return {c.code: c.name for c in funding_round.categories} if funding_round else {}


@bp.route("/c/<slug>/needs/new", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
def submit(slug: str):
    community = _community(slug)
    funding_round = round_for_needs(community)
    if funding_round is None:
        return render_template("intake/closed.html", community=community), 200
    form = NeedForm()
    form.set_categories(funding_round)
    if request.method == "GET":
        form.nonce.data = secrets.token_urlsafe(24)
    if form.validate_on_submit():
        key, digest = _sent_key(form, community)
        secret = request.cookies.get(SUPPORTER_COOKIE) or ""
        need, refused = try_service(
            lambda: submit_need(
                community,
                title=form.title.data,
                description=form.description.data or "",
                category_code=form.category.data or "",
                place=form.place.data or "",
                contact=form.contact.data or "",
                submission_key=key or None,
                submitter_hash=supporter_hash(secret) if 16 <= len(secret) <= 100 else None,
            )
        )
        if refused is None:
            _remember_sent(digest, need.submission_key or key)
            return redirect(url_for("intake.track", code=need.tracking_code, new=1))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "intake/submit.html", community=community, round=funding_round, form=form
    ), status


@bp.get("/needs/track")
def track_lookup():
    code = request.args.get("code", "")
    if code:
        need = find_by_code(code)
        if need is not None:
            return redirect(url_for("intake.track", code=need.tracking_code))
        flash(_("No need has this code. Check the code and try again."), "error")
        return render_template("intake/lookup.html", code=code[:40]), 404
    return render_template("intake/lookup.html", code="")


@bp.get("/needs/track/<code>")
@limiter.limit("60 per minute")
def track(code: str):
    need = find_by_code(code)
    if need is None:
        abort(404)
    if normalize_code(code) != code:
        return redirect(url_for("intake.track", code=need.tracking_code))
    current = resolve(need)
    return render_template(
        "intake/track.html",
        need=need,
        current=current,
        code=format_code(need.tracking_code),
        is_new=request.args.get("new") == "1",
        categories=_category_names(need.community and current_round(need.community)),
        proposals=proposals_answering(current),
        form=ActionForm(),
    )


@bp.get("/c/<slug>/needs")
def index(slug: str):
    community = _community(slug)
    funding_round = current_round(community)
    status = request.args.get("status", "")
    category = request.args.get("category", "")
    place = request.args.get("place", "")[:100]
    needs, counts, place_options = [], None, []
    if funding_round is not None:
        if status not in ("", "new", "accepted", "declined"):
            status = ""
        if category not in funding_round.category_codes():
            category = ""
        needs = list_needs(funding_round, status=status, category=category, place=place)
        counts = need_counts(funding_round)
        place_options = places(funding_round)
    return render_template(
        "intake/index.html",
        community=community,
        round=funding_round,
        needs=needs,
        counts=counts,
        filters={"status": status, "category": category, "place": place},
        places=place_options,
        statuses={k: v for k, v in NEED_STATUS_LABELS.items() if k != "merged"},
        categories=_category_names(funding_round),
        open_for_needs=round_for_needs(community) is not None,
    )


@bp.get("/c/<slug>/needs/<int:need_id>")
def show(slug: str, need_id: int):
    community = _community(slug)
    need = get_need(community, need_id)
    if need.status == "merged":
        target = resolve(need)
        return redirect(url_for("intake.show", slug=slug, need_id=target.id))
    return render_template(
        "intake/show.html",
        community=community,
        need=need,
        categories=_category_names(current_round(community)),
        supported=has_supported(need, request.cookies.get(SUPPORTER_COOKIE)),
        proposals=proposals_answering(need),
        form=ActionForm(),
    )


@bp.post("/c/<slug>/needs/<int:need_id>/support")
@limiter.limit(_support_limit)
def support(slug: str, need_id: int):
    community = _community(slug)
    need = get_need(community, need_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    secret = request.cookies.get(SUPPORTER_COOKIE) or ""
    fresh = len(secret) < 16 or len(secret) > 100
    if fresh:
        secret = secrets.token_urlsafe(24)
    target, created = support_need(need, secret)
    flash(
        _("Thank you: your support is counted.")
        if created
        else _("You have already supported this need."),
        "success",
    )
    if request.form.get("back") == "track":
        destination = url_for("intake.track", code=need.tracking_code)
    else:
        destination = url_for("intake.show", slug=slug, need_id=target.id)
    response = make_response(redirect(destination))
    if fresh:
        response.set_cookie(
            SUPPORTER_COOKIE,
            secret,
            max_age=2 * 365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    return response


@bp.get("/c/<slug>/poster")
def poster(slug: str):
    community = _community(slug)
    target = _public_base() + url_for("intake.submit", slug=slug)
    return render_template(
        "intake/poster.html",
        community=community,
        target=target,
        qr=qr_svg(target, label=_("QR code: submit a need")),
    )


# --- Staff -------------------------------------------------------------------------------


@bp.route("/console/c/<slug>/needs/new", methods=["GET", "POST"])
@community_required(*roles_for("enter_needs"))
def staff_submit(community):
    funding_round = round_for_needs(community)
    if funding_round is None:
        flash(_("This community is not collecting needs at the moment."), "error")
        # Back to where this person's work is: a clerk may not open the triage list.
        back = "intake.triage" if user_may(current_user, community.id, "triage") else None
        return redirect(url_for(back or "workbench.console", slug=community.slug))
    form = StaffNeedForm()
    form.set_categories(funding_round)
    if request.method == "GET":
        form.nonce.data = secrets.token_urlsafe(24)
        form.channel.data = "visit"
    if form.validate_on_submit():
        key, digest = _sent_key(form, community)
        already = key != form.nonce.data
        need, refused = try_service(
            lambda: submit_need(
                community,
                title=form.title.data,
                description=form.description.data or "",
                category_code=form.category.data or "",
                place=form.place.data or "",
                contact=form.contact.data or "",
                channel=form.channel.data,
                entered_by=current_user,
                submission_key=key or None,
            )
        )
        if refused is None:
            _remember_sent(digest, need.submission_key or key)
            if already:
                message = _(
                    "This need was sent before and is recorded once. Its tracking code is "
                    "%(code)s.",
                    code=format_code(need.tracking_code),
                )
            else:
                message = _(
                    "Need recorded. Its tracking code is %(code)s: give it to the resident.",
                    code=format_code(need.tracking_code),
                )
            flash(message, "warning" if already else "success")
            return redirect(url_for("intake.staff_submit", slug=community.slug))
    status = 422 if form.is_submitted() else 200
    return render_template("intake/staff_submit.html", community=community, form=form), status


@bp.get("/console/c/<slug>/needs")
@community_required(*roles_for("triage"))
def triage(community):
    funding_round = current_round(community)
    status = request.args.get("status", "new")
    if status not in ("", *NEED_STATUS_LABELS):
        status = "new"
    needs = list_needs(funding_round, status=status, include_merged=True) if funding_round else []
    return render_template(
        "intake/triage.html",
        community=community,
        round=funding_round,
        needs=needs,
        status=status,
        statuses=NEED_STATUS_LABELS,
        counts=need_counts(funding_round) if funding_round else None,
        channels=CHANNEL_LABELS,
        categories=_category_names(funding_round),
        can_triage=user_may(current_user, community.id, "triage"),
    )


def _triage_forms(community, need: Need):
    merge_form = MergeForm(prefix="merge")
    candidates = [
        n
        for n in list_needs(current_round(community)) or []
        if n.id != need.id and n.status in ("new", "accepted") and n.round_id == need.round_id
    ]
    merge_form.target.choices = choices((n.id, f"#{n.id} {n.title}") for n in candidates)
    return DeclineForm(prefix="decline"), merge_form


@bp.route("/console/c/<slug>/needs/<int:need_id>", methods=["GET", "POST"])
@community_required(*roles_for("triage"))
def triage_need(community, need_id: int):
    need = get_need(community, need_id)
    decline_form, merge_form = _triage_forms(community, need)
    action = request.form.get("action")

    def perform() -> str | None:
        if action == "accept" and ActionForm().validate_on_submit():
            accept_need(need, actor=current_user)
            return _("The need was accepted.")
        if action == "decline" and decline_form.validate_on_submit():
            decline_need(need, decline_form.reason.data, actor=current_user)
            return _("The need was declined; the resident sees the reason.")
        if action == "merge" and merge_form.validate_on_submit():
            merge_needs(need, get_need(community, merge_form.target.data), actor=current_user)
            return _("The needs were merged.")
        return None

    done, status = form_page_action(perform, url_for("intake.triage", slug=community.slug))
    if done:
        return done
    return render_template(
        "intake/triage_need.html",
        community=community,
        need=need,
        decline_form=decline_form,
        merge_form=merge_form,
        accept_form=ActionForm(),
        categories=_category_names(current_round(community)),
        code=format_code(need.tracking_code),
        merged=merged_into(need),
        channel_counts=channel_counts(need),
        channels=CHANNEL_LABELS,
    ), status
