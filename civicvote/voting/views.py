"""Voting pages: the residents' voting flow (no JavaScript needed), the public receipt lookup,
and the console's ballot page with its count and paper ballots."""

import secrets

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import CLERK, ORGANIZER, SUPERVISOR
from ..ballots.forms import StatusForm
from ..ballots.models import METHOD_LABELS, Ballot
from ..ballots.rules import MAX_SELECTIONS, ballot_budget, refusal_for_status, validate_contents
from ..ballots.setup import community_ballot
from ..errors import DomainError
from ..extensions import db
from ..forms import choices
from ..ratelimit import count_card_failure
from ..registry.credentials import (
    claim_credential,
    find_credential,
    find_credential_by_token,
    has_voted,
    open_from_session,
    seal_for_session,
    usable_credential_or_refuse,
)
from ..security import community_required, private_page
from ..timeutil import utcnow
from . import bp
from .casting import cast_vote, channel_for
from .forms import CodeForm
from .paper import disputes, paper_summary
from .receipts import format_receipt, lookup_receipt
from .tally import public_counts, tally

# {ballot id: {"s": credential secret, "k": seal secret}, encrypted (seal_for_session)}
SESSION_KEY = "ballot_voters"
RECEIPTS_KEY = "ballot_receipts"  # {ballot id: receipt code}, shown on the "done" page

bp.after_request(private_page)


# --------------------------------------------------------------------------- residents


def _remember_voter(ballot_id: int, secret: str, seal: str) -> None:
    voters = dict(session.get(SESSION_KEY) or {})
    voters[str(ballot_id)] = seal_for_session({"s": secret, "k": seal})
    session[SESSION_KEY] = voters


def _voter(ballot_id: int) -> dict | None:
    return open_from_session((session.get(SESSION_KEY) or {}).get(str(ballot_id)))


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
    _remember_voter(credential.ballot_id, token, token)
    return redirect(url_for("voting.vote", ballot_id=credential.ballot_id))


def _open_ballots() -> list[Ballot]:
    query = db.select(Ballot).where(Ballot.status.in_(("open", "paused"))).order_by(Ballot.id)
    return list(db.session.scalars(query))


@bp.route("/vote/code", methods=["GET", "POST"])
def enter_code():
    """For phones without a camera: the short code printed on the voter card. Refused codes
    are limited per code and per ballot, after the lookup: a valid code is always taken."""
    form = CodeForm()
    ballots = _open_ballots()
    form.ballot.choices = choices((b.id, f"{b.round.community.name} · {b.title}") for b in ballots)
    if form.validate_on_submit():
        credential = find_credential(form.ballot.data, form.code.data)
        try:
            usable_credential_or_refuse(credential, utcnow())
        except DomainError as error:
            count_card_failure(str(form.ballot.data), form.code.data)
            # Logged for the organizers, without the code itself.
            current_app.logger.warning(
                "voter code refused for ballot %s from %s (%s)",
                form.ballot.data,
                request.remote_addr,
                error.code,
            )
            form.code.errors.append(_("This code is not valid for this ballot."))
            return render_template("voting/code.html", form=form, ballots=ballots), 403
        # The short code is weak (about 49 bits): receipts are sealed with a random secret
        # that lives only in this browser's session.
        _remember_voter(credential.ballot_id, form.code.data, secrets.token_urlsafe(32))
        return redirect(url_for("voting.vote", ballot_id=credential.ballot_id))
    status = 422 if form.is_submitted() else 200
    return render_template("voting/code.html", form=form, ballots=ballots), status


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


def _ballot_page(ballot, *, chosen=None, error=None, status=200):
    voter = _voter(ballot.id)
    credential = find_credential(ballot.id, voter["s"]) if voter else None
    receipt = (session.get(RECEIPTS_KEY) or {}).get(str(ballot.id))
    voted = receipt is not None or (
        credential is not None and has_voted(ballot.id, credential.voter_key)
    )
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
        "chosen": chosen or {},
        "error": error,
        "has_voter": credential is not None or receipt is not None,
        "voted": voted,
        "receipt": format_receipt(receipt) if receipt else None,
        "refusal": refusal,
    }
    if credential is None and receipt is None and status == 200:
        status = 403
    return render_template("voting/vote.html", **context), status


def _chosen_for_template(ballot: Ballot, payload: dict) -> dict:
    """What to pre-fill: {"selections": set of ids, "points": {id: text}, "answers": {id: bool}}."""
    return {
        "selections": {str(v) for v in payload.get("selections", [])},
        "points": {str(k): str(v) for k, v in (payload.get("points") or {}).items()},
        "answers": {str(k): v for k, v in (payload.get("answers") or {}).items()},
    }


@bp.route("/ballots/<int:ballot_id>/vote", methods=["GET", "POST"])
def vote(ballot_id: int):
    """The ballot. POST comes from "change my choices" on the review page and pre-fills it."""
    ballot = _ballot_or_404(ballot_id)
    chosen = {}
    if request.method == "POST":
        chosen = _chosen_for_template(ballot, choices_from_form(ballot, request.form))
    return _ballot_page(ballot, chosen=chosen)


@bp.post("/ballots/<int:ballot_id>/review")
def review(ballot_id: int):
    """Check the choices and show them for confirmation (no vote is stored yet)."""
    ballot = _ballot_or_404(ballot_id)
    if _voter(ballot_id) is None:
        return _ballot_page(ballot)
    payload = choices_from_form(ballot, request.form)
    chosen = _chosen_for_template(ballot, payload)
    refusal = refusal_for_status(ballot)
    if refusal is not None:
        return _ballot_page(ballot, chosen=chosen, status=refusal.status_code)
    try:
        contents = validate_contents(ballot, payload)
    except DomainError as error:
        return _ballot_page(ballot, chosen=chosen, error=str(error.message), status=422)
    proposals = {item.proposal_id: item.proposal for item in ballot.items}
    if ballot.method in ("approval", "knapsack"):
        rows = [(proposals[pid], None) for pid in contents["selections"]]
    elif ballot.method == "cumulative":
        rows = [(proposals[int(pid)], n) for pid, n in contents["points"].items()]
    else:
        rows = [(proposals[int(pid)], yes) for pid, yes in contents.items()]
    total = sum(p.total_fen for p, _value in rows) if ballot.method == "knapsack" else None
    return render_template(
        "voting/review.html",
        ballot=ballot,
        rows=rows,
        total=total,
        budget=ballot_budget(ballot),
        points_used=sum(contents["points"].values()) if ballot.method == "cumulative" else None,
        hidden=_hidden_fields(ballot, payload),
        idempotency_key=secrets.token_urlsafe(16),
    )


def _hidden_fields(ballot: Ballot, payload: dict) -> list[tuple[str, str]]:
    if ballot.method in ("approval", "knapsack"):
        return [("selection", str(v)) for v in payload["selections"]]
    if ballot.method == "cumulative":
        return [(f"points-{k}", str(v)) for k, v in payload["points"].items()]
    return [(f"answer-{k}", "yes" if v else "no") for k, v in payload["answers"].items()]


@bp.post("/ballots/<int:ballot_id>/cast")
def cast(ballot_id: int):
    """Record the confirmed vote through the casting service, then show the receipt."""
    ballot = _ballot_or_404(ballot_id)
    voter = _voter(ballot_id)
    if voter is None:
        return _ballot_page(ballot)
    payload = choices_from_form(ballot, request.form)
    key = request.form.get("idempotency_key", "")[:100] or None
    try:
        result = cast_vote(
            ballot_id, voter["s"], payload, idempotency_key=key, seal_secret=voter["k"]
        )
    except DomainError as error:
        chosen = _chosen_for_template(ballot, payload)
        return _ballot_page(
            ballot, chosen=chosen, error=str(error.message), status=error.status_code
        )
    receipts = dict(session.get(RECEIPTS_KEY) or {})
    receipts[str(ballot_id)] = result.receipt
    session[RECEIPTS_KEY] = receipts
    # The phone may be shared: once the vote is in, the session no longer holds the secret.
    voters = dict(session.get(SESSION_KEY) or {})
    voters.pop(str(ballot_id), None)
    session[SESSION_KEY] = voters
    return redirect(url_for("voting.done", ballot_id=ballot_id), code=303)


@bp.get("/ballots/<int:ballot_id>/done")
def done(ballot_id: int):
    ballot = _ballot_or_404(ballot_id)
    receipt = (session.get(RECEIPTS_KEY) or {}).get(str(ballot_id))
    if receipt is None:
        return redirect(url_for("voting.vote", ballot_id=ballot_id))
    return render_template("voting/done.html", ballot=ballot, receipt=format_receipt(receipt))


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
@community_required(ORGANIZER, CLERK, SUPERVISOR)
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
        roles=current_user.roles_in(community.id),
    )


# The paper ballot pages add their routes to this blueprint.
from . import paper_views  # noqa: E402, F401
