"""Why each project was funded or not, how fair the outcome is, and what the other rule would
have done: for the results page, the board, the report and the API.

Everything is computed from the round's own anonymised Pabulib export (the file anyone can
download), through :mod:`civicvote.allocation.explain`, so that ``civicvote allocate FILE.pb
--explain`` on that file prints the same figures. Amounts in the file are yuan; here they are
turned back into fen.
"""

from fractions import Fraction

from flask import current_app

from ..allocation.explain import explain
from ..allocation.pabulib import PabulibError, parse_pb, replay
from ..extensions import db
from ..rounds.models import FundingRound
from .charts_data import chart_sets
from .export import export_pabulib
from .models import AllocationRun

_CACHE_SIZE = 32


def _fen(yuan) -> int:
    return round(Fraction(yuan) * 100)


def _explained_pair(run: AllocationRun):
    """The published outcome explained, and the other rule's (greedy <-> MES), from the export."""
    election = parse_pb(export_pabulib(run))
    outcome = replay(election)
    projects, votes = election.to_projects(), election.to_votes()
    # Per-building shares from the published ballots' neighbourhood column only.
    groups = election.voter_groups()
    rival = "greedy" if outcome.rule.startswith("mes") else "mes"
    # MES as the field runs it: with add1 completion, not the greedy round's "none".
    completion = "add1" if rival == "mes" else None
    try:
        counter = explain(
            replay(election, rule=rival, completion=completion), projects, votes, groups
        )
    except ValueError:  # e.g. MES cannot count this ballot method
        counter = None
    return explain(outcome, projects, votes, groups), counter


def _project_view(row: dict, titles: dict) -> dict:
    """One project's explanation in fen, with the titles of the projects that used its money."""
    return {
        "id": row["id"],
        "title": titles.get(row["id"], row["id"]),
        "funded": row["funded"],
        "reason": row["reason"],
        "votes": row["votes"],
        "cost_fen": _fen(row["cost"]),
        "passed_threshold": row["passed_threshold"],
        "lacked_fen": _fen(row["lacked"]) if row["lacked"] is not None else None,
        "effective_support": row["effective_support"],
        "used_by": [
            {"id": q, "title": titles.get(q, q), "amount_fen": _fen(v)} for q, v in row["used_by"]
        ],
    }


def _fairness_view(fair: dict, category_names: dict) -> dict:
    return {
        "voters": fair["voters"],
        "share_with_one": fair["share_with_one"],
        "average_funded": fair["average_funded"],
        "by_group": dict(fair["by_group"]),
        "by_category": [
            {
                "code": code,
                "name": category_names.get(code, code),
                "votes": shares["votes"],
                "money": shares["money"],
            }
            for code, shares in fair["by_category"].items()
        ],
    }


def _side(explained: dict, titles: dict, category_names: dict) -> dict:
    projects = [_project_view(r, titles) for r in explained["projects"]]
    return {
        "rule": explained["rule"],
        "projects": projects,
        "funded": [p["id"] for p in projects if p["funded"]],
        "money_fen": sum(p["cost_fen"] for p in projects if p["funded"]),
        "fairness": _fairness_view(explained["fairness"], category_names),
    }


def _compute(run: AllocationRun) -> dict | None:
    try:
        explained, counter = _explained_pair(run)
    except (PabulibError, ValueError):  # a ballot the Pabulib format cannot carry
        return None
    funding_round = db.session.get(FundingRound, run.round_id)
    titles = {str(p.proposal_id): p.proposal.title for p in run.projects}
    names = {c.code: c.name for c in funding_round.categories}
    result = {
        "published": _side(explained, titles, names),
        "counterfactual": _side(counter, titles, names) if counter else None,
    }
    result["charts"] = chart_sets(result)
    return result


def explanation(run: AllocationRun | None) -> dict | None:
    """The run's explanation (see the module docstring), or None when there is none to give.

    A run's outcome never changes (a new result is a new run), so each worker keeps the last
    few it computed.
    """
    if run is None:
        return None
    cache = current_app.extensions.setdefault("civicvote_explanations", {})
    if run.id not in cache:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[run.id] = _compute(run)
    return cache[run.id]


def as_json(explained: dict | None) -> dict | None:
    """The explanation for the API: shares as decimals with 4 places, amounts in fen."""
    if explained is None:
        return None

    def share(value) -> float | None:
        return None if value is None else round(float(value), 4)

    def side(s: dict) -> dict:
        fair = s["fairness"]
        return {
            "rule": s["rule"],
            "funded": [int(p) for p in s["funded"]],
            "money_fen": s["money_fen"],
            "projects": [
                {
                    "proposal_id": int(p["id"]),
                    "funded": p["funded"],
                    "reason": p["reason"],
                    "passed_threshold": p["passed_threshold"],
                    "lacked_fen": p["lacked_fen"],
                    "effective_support": share(p["effective_support"]),
                    "used_by": [
                        {"proposal_id": int(u["id"]), "amount_fen": u["amount_fen"]}
                        for u in p["used_by"]
                    ],
                }
                for p in s["projects"]
            ],
            "fairness": {
                "voters": fair["voters"],
                "share_with_one": share(fair["share_with_one"]),
                "average_funded": share(fair["average_funded"]),
                "by_group": {g: share(v) for g, v in fair["by_group"].items()},
                "by_category": [
                    {"code": c["code"], "votes": share(c["votes"]), "money": share(c["money"])}
                    for c in fair["by_category"]
                ],
            },
        }

    counter = explained["counterfactual"]
    return {
        "published": side(explained["published"]),
        "counterfactual": side(counter) if counter else None,
    }
