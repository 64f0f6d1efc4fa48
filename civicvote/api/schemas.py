"""The schemas of the API's answers, for the OpenAPI document (api/openapi.py).

They say exactly what the serializers in this package return: every property listed is
required, ``nullable`` where the value can be null, money is integer fen.
"""

from ..audit.actions import MILESTONES
from ..ballots.models import METHODS, MODES, STATUSES
from ..rounds.models import PHASES, SOURCE_KINDS
from ..timeutil import ISO_UTC_EXAMPLE, ISO_UTC_PATTERN
from .ballots import TOKEN_SHAPE
from .pagination import MAX_PER_PAGE


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


def ref(name: str) -> dict:
    """A reference to one of the SCHEMAS."""
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


def _share(nullable: bool = False, **extra) -> dict:
    """A share of a whole, as a decimal with 4 places (effective support may exceed 1)."""
    schema = {"type": "number", "minimum": 0, **extra}
    if nullable:
        schema["nullable"] = True
    return schema


PAGE_FIELDS = {
    "page": _int(minimum=1),
    "per_page": _int(minimum=1, maximum=MAX_PER_PAGE),
    "total": _int(minimum=0),
    "pages": _int(minimum=1),
    "next": _str(description="Path of the next page; absent on the last page."),
}


def _page(key: str, item: str, **extra_fields) -> dict:
    return _object({**extra_fields, key: _array(ref(item)), **PAGE_FIELDS}, optional=("next",))


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
            "fund_sources": _array(ref("FundSource")),
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
            "explanation": ref("Explanation"),
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
    "Explanation": _object(
        {"published": ref("ExplainedOutcome"), "counterfactual": ref("ExplainedOutcome")},
        description="Why each project was funded or not, how fair the outcome is, and what the "
        "other rule (greedy or MES) would fund with the same ballots; computed from the round's "
        "anonymised .pb export, as `civicvote allocate FILE.pb --explain` does. Null when the "
        "ballot cannot be written as a Pabulib file.",
        nullable=True,
    ),
    "ExplainedOutcome": _object(
        {
            "rule": _str(description="The rule as the allocation names it, e.g. greedy, mes."),
            "funded": _array(_int()),
            "money_fen": _fen(),
            "projects": _array(
                _object(
                    {
                        "proposal_id": _int(),
                        "funded": _bool(),
                        "reason": _str(nullable=True),
                        "passed_threshold": {**_bool(), "nullable": True},
                        "lacked_fen": _int(
                            nullable=True, description="Greedy: money missing at its turn."
                        ),
                        "effective_support": _share(
                            nullable=True,
                            description="MES: its supporters' money left, as a share of its cost.",
                        ),
                        "used_by": _array(
                            _object({"proposal_id": _int(), "amount_fen": _int(minimum=0)})
                        ),
                    }
                )
            ),
            "fairness": _object(
                {
                    "voters": _int(minimum=0),
                    "share_with_one": _share(),
                    "average_funded": {"type": "number", "minimum": 0},
                    "by_group": {"type": "object", "additionalProperties": _share()},
                    "by_category": _array(
                        _object({"code": _str(), "votes": _share(), "money": _share()})
                    ),
                }
            ),
        },
        nullable=True,
    ),
}
