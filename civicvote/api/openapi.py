"""GET /api/openapi.json: the OpenAPI 3.0 description of every /api endpoint.

The schemas say exactly what the serializers in this package return: every property listed is
required, ``nullable`` where the value can be null, money is integer fen. tests/api checks that
each route under /api is described and validates real answers against these schemas.
"""

from flask import request

from ..audit.actions import MILESTONES
from ..ballots.models import METHODS, MODES, STATUSES
from ..rounds.models import PHASES, SOURCE_KINDS
from ..timeutil import ISO_UTC_EXAMPLE, ISO_UTC_PATTERN
from . import MAX_ID, bp
from .ballots import MAX_VOTE_BODY, TOKEN_SHAPE
from .pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE


def _int(nullable: bool = False, **extra) -> dict:
    schema = {"type": "integer", **extra}
    if nullable:
        schema["nullable"] = True
    return schema


def _str(nullable: bool = False, **extra) -> dict:
    schema = {"type": "string", **extra}
    if nullable:
        schema["nullable"] = True
    return schema


def _bool() -> dict:
    return {"type": "boolean"}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, optional: tuple = (), nullable: bool = False, **extra) -> dict:
    """An object whose properties are all required except ``optional``; no others allowed."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
        **extra,
    }
    if nullable:
        schema["nullable"] = True
    return schema


def _fen(nullable: bool = False) -> dict:
    return _int(nullable, minimum=0, description="Money in integer fen (1 yuan = 100 fen).")


def _time(nullable: bool = False) -> dict:
    """Every time the API answers: ISO 8601 in UTC to the second, with a Z (timeutil.iso_utc)."""
    return _str(
        nullable,
        format="date-time",
        pattern=ISO_UTC_PATTERN,
        description=f"UTC, ISO 8601 with a Z, e.g. {ISO_UTC_EXAMPLE}.",
    )


PAGE_FIELDS = {
    "page": _int(minimum=1),
    "per_page": _int(minimum=1, maximum=MAX_PER_PAGE),
    "total": _int(minimum=0),
    "pages": _int(minimum=1),
    "next": _str(description="Path of the next page; absent on the last page."),
}


def _page(key: str, item: str, **extra_fields) -> dict:
    return _object({**extra_fields, key: _array(_ref(item)), **PAGE_FIELDS}, optional=("next",))


SCHEMAS = {
    "Error": _object({"error": _str(), "message": _str()}),
    "Community": _object(
        {
            "id": _int(),
            "slug": _str(),
            "name": _str(),
            "district": _str(),
            "url": _str(format="uri", description="The community's public page."),
            "board_url": _str(format="uri", description="The community's public results board."),
            "round_ids": _array(_int()),
        }
    ),
    "FundSource": _object(
        {
            "id": _int(),
            "name": _str(),
            "kind": _str(enum=list(SOURCE_KINDS)),
            "amount_fen": _fen(),
            "categories": _array(_str()),
            "per_project_cap_fen": _fen(nullable=True),
            "match_ratio_percent": _int(nullable=True),
        }
    ),
    "Round": _object(
        {
            "id": _int(),
            "community_id": _int(),
            "name": _str(),
            "year": _int(),
            "description": _str(),
            "phase": _str(enum=list(PHASES), description="The current phase."),
            "phases": _array(_str(enum=list(PHASES))),
            "budget_fen": _fen(),
            "per_project_cap_fen": _fen(nullable=True),
            "vote_unit": _str(enum=["resident", "household"]),
            "allocation_rule": _str(),
            "categories": _array(_object({"code": _str(), "name": _str()})),
            "fund_sources": _array(_ref("FundSource")),
            "ballot_ids": _array(_int()),
        }
    ),
    "Need": _object(
        {
            "id": _int(),
            "round_id": _int(nullable=True),
            "title": _str(),
            "description": _str(),
            "category": _str(),
            "place": _str(),
            "channel": _str(),
            "status": _str(enum=["new", "accepted", "declined", "merged"]),
            "decline_reason": _str(),
            "merged_into": _int(nullable=True),
            "supports": _int(minimum=0),
            "created_at": _time(),
        }
    ),
    "Proposal": _object(
        {
            "id": _int(),
            "round_id": _int(),
            "organization": _str(nullable=True),
            "status": _str(),
            "version": _int(),
            "title": _str(nullable=True),
            "summary": _str(nullable=True),
            "category": _str(nullable=True),
            "location": _str(nullable=True),
            "beneficiaries_count": _int(nullable=True),
            "beneficiaries_desc": _str(nullable=True),
            "start_date": _str(nullable=True, format="date"),
            "end_date": _str(nullable=True, format="date"),
            "implementer": _str(nullable=True),
            "total_fen": _fen(nullable=True),
            "line_items": _array(
                _object(
                    {
                        "description": _str(),
                        "quantity": _str(description="Decimal quantity as text."),
                        "unit": _str(),
                        "unit_cost_fen": _fen(),
                        "total_fen": _fen(),
                    }
                )
            ),
            "milestones": _array(
                _object({"title": _str(), "planned_date": _str(nullable=True, format="date")})
            ),
            "need_ids": _array(_int()),
            "documents": _array(_str()),
            "automatic_checks": _array(
                {
                    "type": "object",
                    "properties": {"code": _str(), "ok": _bool()},
                    "required": ["code", "ok"],
                    "additionalProperties": True,
                }
            ),
            "rejection_reason": _str(),
            "reviews": _array(
                _object(
                    {
                        "version": _int(),
                        "decision": _str(),
                        "comment": _str(),
                        "at": _time(),
                    }
                )
            ),
        }
    ),
    "Ballot": _object(
        {
            "id": _int(),
            "round_id": _int(),
            "title": _str(),
            "method": _str(enum=list(METHODS)),
            "mode": _str(enum=list(MODES)),
            "status": _str(enum=list(STATUSES)),
            "limits": _object(
                {
                    "min": _int(),
                    "max": _int(nullable=True),
                    "budget": _fen(nullable=True),
                    "points": _int(nullable=True),
                }
            ),
            "online_opens_at": _time(nullable=True),
            "online_closes_at": _time(nullable=True),
            "pass_threshold_percent": _int(),
            "proposals": _array(_object({"id": _int(), "title": _str(), "cost": _fen()})),
            "turnout": _object(
                {
                    "cast": _int(minimum=0),
                    "eligible": _int(minimum=0),
                    "percent": {"type": "number", "minimum": 0},
                }
            ),
            "walk_ins": {
                "type": "array",
                "description": "Walk-in voting codes given at each of the ballot's assemblies.",
                "items": _object(
                    {"assembly_id": _int(), "title": _str(), "count": _int(minimum=0)}
                ),
            },
            "results_visible": _bool(),
            "results": {
                "type": "array",
                "nullable": True,
                "description": "Votes per proposal; null while the ballot hides its results.",
                "items": _object(
                    {
                        "proposal_id": _int(),
                        "title": _str(),
                        "votes": _int(
                            minimum=0,
                            description="Approvals, points (cumulative) or yes votes (yes_no).",
                        ),
                        "no_votes": _int(nullable=True, description="yes_no ballots only."),
                    }
                ),
            },
        }
    ),
    "FundedProject": _object(
        {
            "proposal_id": _int(),
            "title": _str(),
            "category": _str(),
            "implementer": _str(),
            "votes": _int(),
            "rank": _int(),
            "amount_fen": _fen(),
            "funding_by_source": _array(_object({"fund_source_id": _int(), "amount_fen": _fen()})),
            "progress": _object(
                {
                    "percent": _int(
                        minimum=0, maximum=100, description="Share of milestones completed."
                    ),
                    "milestones_done": _int(minimum=0),
                    "milestones_total": _int(minimum=0),
                    "reported_percent": _int(
                        nullable=True,
                        minimum=0,
                        maximum=100,
                        description="The implementer's latest progress report.",
                    ),
                    "last_update_at": _time(nullable=True),
                }
            ),
            "milestones": _array(
                _object(
                    {
                        "title": _str(),
                        "planned_date": _str(nullable=True, format="date"),
                        "actual_date": _str(nullable=True, format="date"),
                    }
                )
            ),
        }
    ),
    "CommunityPage": _page("communities", "Community"),
    "RoundPage": _page("rounds", "Round"),
    "NeedPage": _page(
        "needs",
        "Need",
        round_id=_int(),
        counts=_object(
            {
                "status": {"type": "object", "additionalProperties": _int()},
                "category": {"type": "object", "additionalProperties": _int()},
                "channel": {"type": "object", "additionalProperties": _int()},
                "total": _int(),
            }
        ),
    ),
    "ProposalPage": _page("proposals", "Proposal", round_id=_int()),
    "BallotPage": _page("ballots", "Ballot", round_id=_int()),
    "FundedProjectPage": _page("projects", "FundedProject", round_id=_int()),
    "VoteRequest": {
        "type": "object",
        "required": ["credential"],
        "additionalProperties": False,
        "properties": {
            "credential": _str(
                pattern=f"^{TOKEN_SHAPE.pattern}$",
                description="The token of the voter card (or personal link).",
            ),
            "selections": _array(_int()),
            "points": {
                "type": "object",
                "additionalProperties": _int(minimum=0),
                "description": "Cumulative ballots: proposal id -> points.",
            },
            "answers": {
                "type": "object",
                "additionalProperties": _bool(),
                "description": "yes_no ballots: proposal id -> yes (true) or no (false).",
            },
            "idempotency_key": _str(
                minLength=1, maxLength=100, description="Repeat it to retry safely."
            ),
        },
    },
    "Allocation": _object(
        {
            "round_id": _int(),
            "ballot_id": _int(),
            "status": _str(enum=["provisional", "final"]),
            "rule": _str(enum=["greedy", "greedy-no-skip", "greedy-threshold", "mes"]),
            "tie_break": _str(description="The tie-break rule, with the lot's published seed."),
            "seed": _str(),
            "threshold_percent": _int(nullable=True),
            "published_at": _time(),
            "notice_ends_at": _time(nullable=True),
            "finalized_at": _time(nullable=True),
            "decision_note": _str(),
            "projects": _array(
                _object(
                    {
                        "proposal_id": _int(),
                        "title": _str(),
                        "rank": _int(minimum=1),
                        "votes": _int(minimum=0),
                        "cost_fen": _fen(),
                        "funded": _bool(),
                        "amount_fen": _fen(),
                        "funding_by_source": {"type": "object", "additionalProperties": _int()},
                        "reason": _object({"code": _str(), "text": _str()}),
                    }
                )
            ),
            "fund_sources": _array(
                _object(
                    {
                        "id": _int(),
                        "name": _str(),
                        "kind": _str(enum=list(SOURCE_KINDS)),
                        "amount_fen": _fen(),
                        "used_fen": _fen(),
                        "left_fen": _int(),
                    }
                )
            ),
            "objections": _array(
                _object(
                    {
                        "id": _int(),
                        "text": _str(),
                        "status": _str(enum=["open", "answered"]),
                        "answer": _str(),
                        # Versions replaced by an amendment, oldest first.
                        "earlier_answers": _array(
                            _object({"text": _str(), "answered_at": _time()})
                        ),
                    }
                )
            ),
        }
    ),
    "AuditHead": _object(
        {
            "count": _int(minimum=1, description="Entries 1..count of the audit log."),
            "hash": _str(description="SHA-256 (hex) chaining every entry up to the count-th."),
            "created_at": _time(),
            "signature": _str(description="Ed25519 signature (base64) of signed_text."),
            "key_fingerprint": _str(description="SHA-256 (hex) of the raw public key."),
            "signed_text": _str(description="Exactly what the signature covers (UTF-8)."),
            "milestone": _object(
                {
                    "action": _str(
                        enum=sorted(MILESTONES), description="What made the head published."
                    ),
                    "community_id": _int(nullable=True),
                    "object_type": _str(),
                    "object_id": _int(nullable=True),
                }
            ),
        }
    ),
    "AuditHeadPage": _page("heads", "AuditHead"),
    "PublicKey": _object(
        {
            "algorithm": _str(enum=["Ed25519"]),
            "public_key": _str(description="The 32-byte public key, base64."),
            "public_key_pem": _str(description="The same key as PEM (SubjectPublicKeyInfo)."),
            "fingerprint": _str(description="SHA-256 (hex) of the raw public key."),
        }
    ),
    "Receipt": _object({"receipt": _str(description="The code to look the vote up by.")}),
    "ReceiptLookup": _object({"counted": {"type": "boolean", "enum": [True]}, "ballot": _int()}),
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


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
    if bad_request:
        responses["400"] = _error("A query parameter has a value it cannot take")
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


def _paths() -> dict:
    round_id = _id("round_id")
    paths = {
        "/api/openapi.json": _get("This document", {"type": "object"}, not_found=False, tag="meta"),
        "/api/v1/communities": _get(
            "Communities, with their public page and board",
            _ref("CommunityPage"),
            paged=True,
            not_found=False,
        ),
        "/api/v1/communities/{community_id}": _get(
            "One community", _ref("Community"), params=[_id("community_id")]
        ),
        "/api/v1/rounds": _get(
            "Funding rounds: phases, budget, categories, fund sources, ballots",
            _ref("RoundPage"),
            paged=True,
            not_found=False,
        ),
        "/api/v1/rounds/{round_id}": _get("One funding round", _ref("Round"), params=[round_id]),
        "/api/v1/rounds/{round_id}/needs": _get(
            "Residents' needs of a round (never contacts or tracking codes)",
            _ref("NeedPage"),
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
            _ref("ProposalPage"),
            params=[round_id],
            paged=True,
        ),
        "/api/v1/proposals/{proposal_id}": _get(
            "One submitted proposal", _ref("Proposal"), params=[_id("proposal_id")]
        ),
        "/api/v1/rounds/{round_id}/ballots": _get(
            "Ballots of a round: method, status, turnout and results when visible",
            _ref("BallotPage"),
            params=[round_id],
            paged=True,
        ),
        "/api/v1/rounds/{round_id}/funded-projects": _get(
            "Projects funded by the round's final allocation, with their progress",
            _ref("FundedProjectPage"),
            params=[round_id],
            paged=True,
        ),
        "/api/v1/rounds/{round_id}/allocation": _get(
            "The published allocation: each proposal's votes, rank, funding and reason; each "
            "fund source's use; the objections and their answers",
            _ref("Allocation"),
            params=[round_id],
        ),
        "/api/v1/ballots/{ballot_id}": _get(
            "One ballot: choices, limits, turnout and results when visible",
            _ref("Ballot"),
            params=[_id("ballot_id")],
        ),
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
                    "content": {"application/json": {"schema": _ref("VoteRequest")}},
                },
                "responses": {
                    "201": _json(_ref("Receipt"), "Counted"),
                    "200": _json(_ref("Receipt"), "A retry of a vote already counted"),
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
        "/api/v1/audit/heads": _get(
            "Signed heads of the audit log, newest first: one is published at every milestone "
            "(a ballot opened or closed, the allocation run, the result final)",
            _ref("AuditHeadPage"),
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
            _ref("PublicKey"),
            not_found=False,
            tag="audit",
        ),
        "/api/v1/receipts/{code}": _get(
            "Look up a receipt code: was this ballot counted?",
            _ref("ReceiptLookup"),
            params=[{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            tag="casting",
        ),
    }
    return paths


def document(server_url: str = "/") -> dict:
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
    return document(request.url_root)
