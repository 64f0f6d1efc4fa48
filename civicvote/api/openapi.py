"""GET /api/openapi.json: the OpenAPI 3.0 description of every /api endpoint.

The schemas say exactly what the serializers in this package return: every property listed is
required, ``nullable`` where the value can be null, money is integer fen. tests/api checks that
each route under /api is described and validates real answers against these schemas.
"""

from flask import request

from ..timeutil import ISO_UTC_EXAMPLE
from . import MAX_ID, bp
from .ballots import MAX_VOTE_BODY
from .pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from .schemas import SCHEMAS, ref


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(ref("Error"), description)


NOT_MODIFIED = {"description": "Not modified (the ETag given in If-None-Match still holds)."}
PAGE_PARAMS = [
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    },
    {
        "name": "per_page",
        "in": "query",
        "required": False,
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PER_PAGE,
            "default": DEFAULT_PER_PAGE,
        },
    },
]
ETAG_PARAM = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
}


def _id(name: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "example": 1,
    }


def _get(
    summary: str,
    schema: dict,
    *,
    params=(),
    paged=False,
    not_found=True,
    bad_request=False,
    tag="open data",
):
    responses = {"200": _json(schema, "OK"), "304": NOT_MODIFIED}
    # Every request is refused when its address carries control characters (security.py).
    responses["400"] = _error(
        "A query parameter has a value it cannot take"
        if bad_request
        else "The address carries control characters"
    )
    if paged:
        responses["422"] = _error("page or per_page out of range")
    if not_found:
        responses["404"] = _error("No such object")
    return {
        "get": {
            "summary": summary,
            "tags": [tag],
            "parameters": [*params, *(PAGE_PARAMS if paged else []), ETAG_PARAM],
            "responses": responses,
        }
    }


def _community_paths() -> dict:
    return {
        "/api/openapi.json": _get("This document", {"type": "object"}, not_found=False, tag="meta"),
        "/api/v1/communities": _get(
            "Communities, with their public page and board",
            ref("CommunityPage"),
            paged=True,
            not_found=False,
        ),
        "/api/v1/communities/{community_id}": _get(
            "One community", ref("Community"), params=[_id("community_id")]
        ),
    }


def _round_paths() -> dict:
    round_id = _id("round_id")
    return {
        "/api/v1/rounds": _get(
            "Funding rounds: phases, budget, categories, fund sources, ballots",
            ref("RoundPage"),
            paged=True,
            not_found=False,
        ),
        "/api/v1/rounds/{round_id}": _get("One funding round", ref("Round"), params=[round_id]),
        "/api/v1/rounds/{round_id}/needs": _get(
            "Residents' needs of a round (never contacts or tracking codes)",
            ref("NeedPage"),
            params=[
                round_id,
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["new", "accepted", "declined", "merged"]},
                },
            ],
            paged=True,
            bad_request=True,
        ),
        "/api/v1/rounds/{round_id}/proposals": _get(
            "Submitted proposals of a round, as last submitted (never drafts)",
            ref("ProposalPage"),
            params=[round_id],
            paged=True,
        ),
        "/api/v1/proposals/{proposal_id}": _get(
            "One submitted proposal", ref("Proposal"), params=[_id("proposal_id")]
        ),
        "/api/v1/rounds/{round_id}/ballots": _get(
            "Ballots of a round: method, status, turnout and results when visible",
            ref("BallotPage"),
            params=[round_id],
            paged=True,
        ),
        "/api/v1/rounds/{round_id}/funded-projects": _get(
            "Projects funded by the round's final allocation, with their progress",
            ref("FundedProjectPage"),
            params=[round_id],
            paged=True,
        ),
        "/api/v1/rounds/{round_id}/allocation": _get(
            "The published allocation: each proposal's votes, rank, funding and reason; each "
            "fund source's use; the objections and their answers",
            ref("Allocation"),
            params=[round_id],
        ),
        "/api/v1/ballots/{ballot_id}": _get(
            "One ballot: choices, limits, turnout and results when visible",
            ref("Ballot"),
            params=[_id("ballot_id")],
        ),
    }


def _casting_paths() -> dict:
    return {
        "/api/v1/ballots/{ballot_id}/votes": {
            "post": {
                "summary": "Cast a vote with a voter credential",
                "tags": ["casting"],
                "description": (
                    "The same request again (same credential, idempotency key and contents) "
                    "answers 200 with the same receipt. Failed credentials are rate-limited per "
                    f"address. Bodies over {MAX_VOTE_BODY} bytes are refused."
                ),
                "parameters": [_id("ballot_id")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("VoteRequest")}},
                },
                "responses": {
                    "201": _json(ref("Receipt"), "Counted"),
                    "200": _json(ref("Receipt"), "A retry of a vote already counted"),
                    "400": _error("Malformed body, unknown fields, badly formed credential"),
                    "403": _error("Unknown, revoked, expired or used-up credential"),
                    "404": _error("No such ballot"),
                    "409": _error("Already voted, or the ballot is not open to this channel"),
                    "413": _error("Body too large"),
                    "422": _error("The choices break the ballot's rules"),
                    "429": _error("Too many failed credentials from this address"),
                },
            }
        },
        "/api/v1/receipts/{code}": _get(
            "Look up a receipt code: was this ballot counted?",
            ref("ReceiptLookup"),
            params=[{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            tag="casting",
        ),
    }


def _audit_paths() -> dict:
    return {
        "/api/v1/audit/heads": _get(
            "Signed heads of the audit log, newest first: one is published at every milestone "
            "(a ballot opened or closed, the allocation run, the result final)",
            ref("AuditHeadPage"),
            params=[
                {
                    "name": "community_id",
                    "in": "query",
                    "required": False,
                    "description": "Only heads published at this community's milestones.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                }
            ],
            paged=True,
            not_found=False,
            tag="audit",
        ),
        "/api/v1/audit/public-key": _get(
            "The public key that checks every head's signature",
            ref("PublicKey"),
            not_found=False,
            tag="audit",
        ),
    }


def _paths() -> dict:
    return {**_community_paths(), **_round_paths(), **_casting_paths(), **_audit_paths()}


def document(server_url: str = "/") -> dict:
    """The OpenAPI document, with ``server_url`` as its server."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "civicvote open data API",
            "version": "1",
            "description": (
                "Read-only open data of participatory budgeting rounds, and the casting "
                "endpoint. Every GET answer carries an ETag (send If-None-Match for a 304) "
                "and may be read from any origin (CORS). Money is integer fen. Times are UTC in "
                f"ISO 8601 with a Z ({ISO_UTC_EXAMPLE}); dates are YYYY-MM-DD."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": _paths(),
        "components": {"schemas": SCHEMAS},
    }


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this server."""
    return document(request.url_root)
