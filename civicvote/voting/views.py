"""Voting pages: the residents' voting flow (no JavaScript needed), the public receipt lookup,
and the console's ballot page with its count and paper ballots."""

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..accounts.tasks import roles_for
from ..ballots.forms import StatusForm
from ..ballots.models import METHOD_LABELS, Ballot
from ..ballots.rules import MAX_SELECTIONS, ballot_budget, refusal_for_status, validate_contents
from ..ballots.setup import community_ballot
from ..errors import DomainError
from ..extensions import db
from ..qr import qr_svg
from ..ratelimit import count_card_failure
from ..registry.credentials import (
    base_url_for,
    claim_credential,
    find_credential,
    find_credential_by_code,
    find_credential_by_token,
    has_voted,
    usable_credential_or_refuse,
)
from ..security import community_required, private_page
from ..timeutil import utcnow
from . import bp, cards
from .cards import WEB_KEY
from .casting import cast_vote, channel_for
from .forms import CodeForm
from .paper import disputes, paper_summary
from .receipts import format_receipt, lookup_receipt
from .tally import public_counts, tally

bp.after_request(private_page)


# --------------------------------------------------------------------------- residents


@bp.get("/v/<token>")
def landing(token: str):
    """A personal link: exchange the token for a session entry, then drop it from the address.
    Refused links are limited per link and in all (ratelimit.count_card_failure), after the
    lookup: a valid link always opens."""
    credential = find_credential_by_token(token)
    if credential is None:
        count_card_failure("link", token)
        current_app.logger.warning("unknown voting link from %s", request.remote_addr)
        message = _("This voting link is not valid. Check the card, or type its code instead.")
        return render_template("voting/refused.html", message=message), 404
    try:
        claim_credential(credential)
    except DomainError as error:
        count_card_failure(str(credential.ballot_id), token)
        return render_template("voting/refused.html", message=str(error.message)), 403
    cards.remember(credential.ballot_id, credential.id, token, seal=token)
    return redirect(url_for("voting.vote", ballot_id=credential.ballot_id))


def _open_ballots() -> list[Ballot]:
    query = db.select(Ballot).where(Ballot.status.in_(("open", "paused"))).order_by(Ballot.id)
    return list(db.session.scalars(query))


def _take_code(form: CodeForm, ballot: Ballot | None):
    """The typed code's ballot, found by the code alone (its keyed hash is unique across
    ballots); the redirect to that ballot, or None with the form's error. Refused codes are
    limited per code and per ballot, after the lookup: a valid code is always taken. An unknown
    code names no ballot: it counts against the page's ballot, or all typed codes ("code")."""
    credential = find_credential_by_code(form.code.data)
    try:
        usable_credential_or_refuse(credential, utcnow())
    except DomainError as error:
        ballot_key = credential.ballot_id if credential else (ballot.id if ballot else "code")
        count_card_failure(str(ballot_key), form.code.data)
        # Logged for the organizers, without the code itself.
        current_app.logger.warning(
            "voter code refused for ballot %s from %s (%s)",
            ballot_key,
            request.remote_addr,
            error.code,
        )
        form.code.errors.append(_("This code is not valid. Check it against your voter card."))
        return None
    # The short code is weak (about 49 bits): receipts are sealed with a random secret
    # that lives only in this browser's session.
    cards.remember(credential.ballot_id, credential.id, form.code.data, seal=None)
    return redirect(url_for("voting.vote", ballot_id=credential.ballot_id))


def _code_page(ballot: Ballot | None):
    form = CodeForm()
    if form.validate_on_submit():
        taken = _take_code(form, ballot)
        if taken is not None:
            return taken
        status = 403
    else:
        status = 422 if form.is_submitted() else 200
    context = {"form": form, "ballot": ballot, "ballots": [ballot] if ballot else _open_ballots()}
    return render_template("voting/code.html", **context), status


@bp.route("/vote/code", methods=["GET", "POST"])
def enter_code():
    """For phones without a camera: the short code printed on the voter card, alone (the code
    finds its ballot)."""
    return _code_page(None)


@bp.route("/vote/code/<int:ballot_id>", methods=["GET", "POST"])
def ballot_code(ballot_id: int):
    """The same for one ballot, named on the page with when and where it is voted: where the
    board's QR code, the posters and the community page lead."""
    return _code_page(_ballot_or_404(ballot_id))


@bp.get("/vote/code/<int:ballot_id>/poster")
def ballot_poster(ballot_id: int):
    """A poster for the notice board: its QR code leads to the ballot's code page, and it says
    when and where the ballot is voted (printed links use the configured base, never the Host
    header)."""
    ballot = _ballot_or_404(ballot_id)
    target = base_url_for(current_app.config) + url_for("voting.ballot_code", ballot_id=ballot.id)
    qr = qr_svg(target, label=_("Scan to vote"))
    return render_template("voting/poster.html", ballot=ballot, target=target, qr=qr)


def _ballot_or_404(ballot_id: int) -> Ballot:
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        abort(404)
    return ballot


def choices_from_form(ballot: Ballot, form) -> dict:
    """The voter's choices from a submitted ballot form, in the API's shape."""
    if ballot.method in ("approval", "knapsack"):
        return {"selections": form.getlist("selection")[: MAX_SELECTIONS + 1]}
    if ballot.method == "cumulative":
        points = {}
        for item in ballot.items:
            value = form.get(f"points-{item.proposal_id}", "").strip()
            if value:
                points[str(item.proposal_id)] = value[:12]
        return {"points": points}
    answers = {}
    for item in ballot.items:
        value = form.get(f"answer-{item.proposal_id}", "")
        if value in ("yes", "no"):
            answers[str(item.proposal_id)] = value == "yes"
    return {"answers": answers}


def _ballot_page(ballot, card: cards.Card | None, *, chosen=None, error=None, status=200):
    """The ballot for the browser's current card: its form, or what became of its vote."""
    credential = find_credential(ballot.id, card.secret) if card and card.secret else None
    if card and card.receipt is None and credential and has_voted(ballot.id, credential.voter_key):
        cards.recover(ballot.id, card, credential.id)
    voted = card is not None and card.voted
    refusal = refusal_for_status(ballot)
    if refusal is None and credential is not None and not voted:
        try:  # an assembly-only ballot before check-in, or outside the online window
            channel_for(ballot, credential.voter_key, utcnow())
        except DomainError as failure:
            refusal = failure
    context = {
        "ballot": ballot,
        "method_label": METHOD_LABELS.get(ballot.method),
        "budget": ballot_budget(ballot),
        "chosen": chosen if chosen is not None else _chosen_for_template(card and card.draft),
        "error": error,
        "has_voter": card is not None and (credential is not None or voted),
        "voted": voted,
        "receipt": format_receipt(card.receipt) if voted and card.receipt else None,
        "notice": card.notice if voted else None,
        "card": card,
        "refusal": refusal,
    }
    if not context["has_voter"] and status == 200:
        status = 403
    return render_template("voting/vote.html", **context), status


def _chosen_for_template(payload: dict | None) -> dict:
    """What to pre-fill: {"selections": set of ids, "points": {id: text}, "answers": {id: bool}}."""
    payload = payload or {}
    return {
        "selections": {str(v) for v in payload.get("selections", [])},
        "points": {str(k): str(v) for k, v in (payload.get("points") or {}).items()},
        "answers": {str(k): v for k, v in (payload.get("answers") or {}).items()},
    }


@bp.route("/ballots/<int:ballot_id>/vote", methods=["GET", "POST"])
def vote(ballot_id: int):
    """The ballot, pre-filled with the card's reviewed choices ("change my choices"); POST
    pre-fills it with the choices sent."""
    ballot = _ballot_or_404(ballot_id)
    chosen = None
    if request.method == "POST":
        chosen = _chosen_for_template(choices_from_form(ballot, request.form))
    return _ballot_page(ballot, cards.current(ballot_id), chosen=chosen)


@bp.post("/ballots/<int:ballot_id>/review")
def review(ballot_id: int):
    """Check the choices; if they hold, keep them for this card and show them (GET) for
    confirmation. Nothing is stored in the database yet."""
    ballot = _ballot_or_404(ballot_id)
    card = cards.current(ballot_id)
    if card is None or card.voted or not card.secret:
        return _ballot_page(ballot, card)
    payload = choices_from_form(ballot, request.form)
    chosen = _chosen_for_template(payload)
    refusal = refusal_for_status(ballot)
    if refusal is not None:
        return _ballot_page(ballot, card, chosen=chosen, status=refusal.status_code)
    try:
        validate_contents(ballot, payload)
    except DomainError as error:
        return _ballot_page(ballot, card, chosen=chosen, error=str(error.message), status=422)
    cards.keep_draft(ballot_id, card, payload)
    return redirect(url_for("voting.review_page", ballot_id=ballot_id, card=card.id), code=303)


@bp.get("/ballots/<int:ballot_id>/review")
def review_page(ballot_id: int):
    """The reviewed choices and "confirm": a page of its own, so that Back from the receipt
    comes here without asking to send a form again."""
    ballot = _ballot_or_404(ballot_id)
    card = cards.named(ballot_id, request.args.get("card"))
    if card is None or card.voted or not card.draft:
        return redirect(url_for("voting.vote", ballot_id=ballot_id))
    if has_voted_with(ballot.id, card):
        return redirect(url_for("voting.vote", ballot_id=ballot_id))
    try:
        contents = validate_contents(ballot, card.draft)
    except DomainError:
        return redirect(url_for("voting.vote", ballot_id=ballot_id))
    return render_template(
        "voting/review.html",
        ballot=ballot,
        card=card,
        rows=_review_rows(ballot, contents),
        total=_review_total(ballot, contents),
        budget=ballot_budget(ballot),
        points_used=sum(contents["points"].values()) if ballot.method == "cumulative" else None,
        hidden=_hidden_fields(ballot, card.draft),
    )


def has_voted_with(ballot_id: int, card: cards.Card) -> bool:
    """Whether the card's voter has a vote recorded (the answer to "confirm" may have been lost)."""
    credential = find_credential(ballot_id, card.secret) if card.secret else None
    return credential is not None and has_voted(ballot_id, credential.voter_key)


def _review_rows(ballot: Ballot, contents: dict) -> list:
    proposals = {item.proposal_id: item.proposal for item in ballot.items}
    if ballot.method in ("approval", "knapsack"):
        return [(proposals[pid], None) for pid in contents["selections"]]
    if ballot.method == "cumulative":
        return [(proposals[int(pid)], n) for pid, n in contents["points"].items()]
    return [(proposals[int(pid)], yes) for pid, yes in contents.items()]


def _review_total(ballot: Ballot, contents: dict) -> int | None:
    if ballot.method != "knapsack":
        return None
    costs = {item.proposal_id: item.proposal.total_fen for item in ballot.items}
    return sum(costs[pid] for pid in contents["selections"])


def _hidden_fields(ballot: Ballot, payload: dict) -> list[tuple[str, str]]:
    if ballot.method in ("approval", "knapsack"):
        return [("selection", str(v)) for v in payload["selections"]]
    if ballot.method == "cumulative":
        return [(f"points-{k}", str(v)) for k, v in payload["points"].items()]
    return [(f"answer-{k}", "yes" if v else "no") for k, v in payload["answers"].items()]


@bp.post("/ballots/<int:ballot_id>/cast")
def cast(ballot_id: int):
    """Record the confirmed vote through the casting service, then show the receipt (GET).

    The vote's idempotency key belongs to the card, not to the page: a second confirm, a
    reload or a retry after a lost answer replays the first vote's receipt."""
    ballot = _ballot_or_404(ballot_id)
    card = cards.named(ballot_id, request.form.get("card"))
    if card is not None and card.receipt:
        return redirect(url_for("voting.done", ballot_id=ballot_id, card=card.id), code=303)
    if card is None:
        return _ballot_page(ballot, cards.current(ballot_id))
    if not card.secret:  # counted before, its receipt no longer shown: the vote page says so
        return redirect(url_for("voting.vote", ballot_id=ballot_id), code=303)
    payload = choices_from_form(ballot, request.form)
    try:
        result = cast_vote(
            ballot_id, card.secret, payload, idempotency_key=WEB_KEY, seal_secret=card.seal
        )
    except DomainError as error:
        if error.code == "already_voted":  # counted before; its receipt cannot be replayed
            cards.counted(ballot_id, card, None)
            return redirect(url_for("voting.vote", ballot_id=ballot_id), code=303)
        chosen = _chosen_for_template(payload)
        return _ballot_page(
            ballot, card, chosen=chosen, error=str(error.message), status=error.status_code
        )
    cards.counted(ballot_id, card, result.receipt, again=not result.created)
    return redirect(url_for("voting.done", ballot_id=ballot_id, card=card.id), code=303)


@bp.get("/ballots/<int:ballot_id>/done")
def done(ballot_id: int):
    """The receipt, shown to the browser session of the card that cast it."""
    ballot = _ballot_or_404(ballot_id)
    card = cards.named(ballot_id, request.args.get("card"))
    if card is None or not card.receipt:
        return redirect(url_for("voting.vote", ballot_id=ballot_id))
    return render_template(
        "voting/done.html",
        ballot=ballot,
        receipt=format_receipt(card.receipt),
        notice=card.notice,
    )


@bp.get("/receipts")
def receipt_lookup():
    """Public: anyone can check that a receipt code was counted (and nothing more)."""
    code = request.args.get("code", "")[:40].strip()
    found = lookup_receipt(code) if code else None
    status = 404 if code and found is None else 200
    return render_template(
        "voting/receipt_lookup.html",
        code=code,
        found=found,
        ballot=db.session.get(Ballot, found.ballot_id) if found else None,
    ), status


# --------------------------------------------------------------------------- console


@bp.get("/console/c/<slug>/ballots/<int:ballot_id>")
@community_required(*roles_for("ballots"))
def console_show(community, ballot_id: int):
    ballot = community_ballot(community.id, ballot_id)
    return render_template(
        "voting/console_show.html",
        community=community,
        ballot=ballot,
        tally=tally(ballot.id),
        # Staff see the count per proposal as the board does: in batches while voting.
        counts=public_counts(ballot),
        method_label=METHOD_LABELS.get(ballot.method),
        budget=ballot_budget(ballot),
        status_form=StatusForm(),
        paper=paper_summary(ballot.id),
        disputes=disputes(ballot.id),
    )


# The paper ballot pages add their routes to this blueprint.
from . import paper_views  # noqa: E402, F401
