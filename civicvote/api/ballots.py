"""The casting API: ballot description, vote submission and public receipt lookup.

``POST /api/v1/ballots/<id>/votes`` takes ``{"credential": TOKEN, "selections": [...],
"points": {...}, "answers": {...}, "idempotency_key": K}`` and answers 201 ``{"receipt": CODE}``;
the same request again 200 with the same receipt; a second vote 409; invalid choices 422; a ballot
not open 409; an unknown credential 403 (failures are limited per code and per ballot, after
the lookup: ratelimit.refuse_credential). Malformed bodies,
wrong types, oversized bodies and tokens of the wrong shape are refused before anything is read
from or written to the database.
"""

import json
import re

from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..ballots.models import Ballot
from ..ballots.rules import ballot_budget
from ..board.services import results_visible
from ..checkin.walkins import walk_ins_by_assembly
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..main.errors import error_response
from ..ratelimit import refuse_credential
from ..security import CONTROL_CHARACTERS
from ..timeutil import iso_utc
from ..voting.casting import CastResult, cast_vote
from ..voting.receipts import lookup_receipt
from ..voting.tally import public_counts
from . import bp
from .pagination import paginate
from .rounds import get_round

MAX_VOTE_BODY = 16 * 1024
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,64}")
VOTE_KEYS = {"credential", "selections", "points", "answers", "idempotency_key"}
REFUSAL_KEY = "civicvote.vote.refusal"  # set by the fast path (fastpath.py) when it was refused


def ballot_json(ballot: Ballot) -> dict:
    """Public description of a ballot with its turnout, and its results when they may be shown."""
    counts = public_counts(ballot)  # while voting: the published batch (ballots.live)
    visible = results_visible(ballot)
    results = None
    if visible:
        results = [
            {
                "proposal_id": item.proposal_id,
                "title": item.proposal.title,
                "votes": counts.votes.get(item.proposal_id, 0),
                "no_votes": (
                    counts.no_votes.get(item.proposal_id, 0) if ballot.method == "yes_no" else None
                ),
            }
            for item in ballot.items
        ]
    return {
        "id": ballot.id,
        "round_id": ballot.round_id,
        "title": ballot.title,
        "method": ballot.method,
        "mode": ballot.mode,
        "status": ballot.status,
        "limits": {
            "min": ballot.min_choices,
            "max": ballot.max_choices,
            "budget": ballot_budget(ballot) if ballot.method == "knapsack" else ballot.budget_fen,
            "points": ballot.points_total,
        },
        "online_opens_at": iso_utc(ballot.online_opens_at),
        "online_closes_at": iso_utc(ballot.online_closes_at),
        "pass_threshold_percent": ballot.pass_threshold_percent,
        "proposals": [
            {"id": item.proposal.id, "title": item.proposal.title, "cost": item.proposal.total_fen}
            for item in ballot.items
        ],
        "turnout": {
            "cast": counts.cast,
            "eligible": counts.eligible,
            "percent": counts.turnout_percent,
        },
        "walk_ins": [
            {"assembly_id": row["assembly_id"], "title": row["title"], "count": row["walk_ins"]}
            for row in walk_ins_by_assembly(ballot.id)
        ],
        "results_visible": visible,
        "results": results,
    }


@bp.get("/v1/ballots/<int:ballot_id>")
def ballot(ballot_id: int):
    found = db.session.get(Ballot, ballot_id)
    if found is None or found.status == "draft":  # a draft is the organizers' until it opens
        abort(404)
    return ballot_json(found)


@bp.get("/v1/rounds/<int:round_id>/ballots")
def round_ballots(round_id: int):
    funding_round = get_round(round_id)
    query = (
        db.select(Ballot)
        .filter(Ballot.round_id == funding_round.id, Ballot.status != "draft")
        .order_by(Ballot.id)
    )
    body = paginate(query, "ballots", ballot_json, round_id=round_id)
    return {"round_id": funding_round.id, **body}


class MalformedVote(DomainError):
    """A vote body the API does not accept: refused before anything is read or written."""

    status_code = 400


def parse_body(data: bytes):
    """The JSON value of a request body, or None when it is not JSON (including nesting too
    deep for the parser, which raises RecursionError rather than ValueError)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def read_vote(body) -> tuple[str, str | None, dict]:
    """The credential, idempotency key and choices of a vote's parsed JSON ``body``.

    Raises MalformedVote when it is not an object, has unknown fields, or its credential or key
    has the wrong form; the choices themselves are checked by the service.
    """
    if not isinstance(body, dict):
        raise MalformedVote(_l("The body must be a JSON object."), code="malformed")
    if set(body) - VOTE_KEYS:
        raise MalformedVote(_l("Unknown fields in the body."), code="unknown_fields")
    token = body.get("credential")
    if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
        raise MalformedVote(
            _l("The credential is missing or has the wrong form."), code="credential"
        )
    key = body.get("idempotency_key")
    if key is not None and (
        not isinstance(key, str)
        or not 1 <= len(key) <= 100
        or CONTROL_CHARACTERS.search(key)  # the fast path skips the app's own check
    ):
        raise MalformedVote(
            _l("The idempotency key must be a text of 1 to 100 characters."), code="key"
        )
    payload = {name: body[name] for name in ("selections", "points", "answers") if name in body}
    return token, key, payload


def cast_from_api(ballot_id: int, body) -> CastResult:
    """Cast the vote of a parsed JSON ``body``; the same steps for the view and the fast path.

    A refused credential is counted against its code and its ballot once it was looked up
    (never against the client's address, which a whole hall may share).
    """
    token, key, payload = read_vote(body)
    # An unknown ballot is a 404 from the service (it reads the ballot anyway).
    try:
        return cast_vote(ballot_id, token, payload, idempotency_key=key)
    except Forbidden as refusal:
        raise refuse_credential(refusal, str(ballot_id), token) from None


@bp.post("/v1/ballots/<int:ballot_id>/votes")
def vote(ballot_id: int):
    decided = request.environ.get(REFUSAL_KEY)
    if decided is not None:  # the fast path cast it and was refused: answer that refusal
        raise decided
    request.max_content_length = MAX_VOTE_BODY
    if (request.content_length or 0) > MAX_VOTE_BODY:
        abort(413)
    result = cast_from_api(ballot_id, parse_body(request.get_data()) if request.is_json else None)
    return {"receipt": result.receipt}, 201 if result.created else 200


@bp.get("/v1/receipts/<code>")
def receipt(code: str):
    found = lookup_receipt(code[:40])
    if found is None:
        return error_response(404, _("No counted ballot has this receipt code."), "not_found")
    return {"counted": True, "ballot": found.ballot_id}
