"""Why each project was funded or not, how fair the outcome is, and what another rule would do.

Pure: everything is computed from the outcome and the anonymised ballots (the ones a round
publishes in its ``.pb`` file), so anyone recomputing from the file gets the same figures.
Shares are exact ``Fraction`` values between 0 and 1; amounts are in the outcome's unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from civicvote.allocation.describe import describe_reason
from civicvote.allocation.model import Outcome, Project, Votes


def fairness(
    funded: Sequence[str],
    projects: Sequence[Project],
    votes: Votes,
    groups: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """How an outcome serves the voters, without any personal data.

    * ``share_with_one``: share of voters with at least one funded project they supported
      (pabutools' ``percent_non_empty_handed``);
    * ``average_funded``: average number of their supported projects funded per voter
      (pabutools' ``avg_satisfaction`` with ``Cardinality_Sat``);
    * ``by_group``: ``share_with_one`` per group (a building or neighbourhood), when
      ``groups`` names each entry of ``votes.ballots``; entries whose group is None (paper
      ballots) count in no group;
    * ``by_category``: per category, its share of the votes and of the money funded.
    """
    chosen = frozenset(funded)
    voters = votes.num_voters
    served = total_funded = 0
    per_group: dict[str, list[int]] = {}
    for i, (ballot, n) in enumerate(votes.weighted()):
        hits = len(frozenset(votes.support(ballot)) & chosen)
        total_funded += n * hits
        served += n if hits else 0
        if groups is not None and groups[i] is not None:
            tally = per_group.setdefault(groups[i], [0, 0])
            tally[0] += n if hits else 0
            tally[1] += n
    count, _ = votes.tally()
    all_votes = sum(count.values())
    money = sum((Fraction(p.cost) for p in projects if p.id in chosen), Fraction(0))
    by_category: dict[str, dict[str, Fraction]] = {}
    for p in projects:
        for category in sorted(p.categories):
            entry = by_category.setdefault(category, {"votes": Fraction(0), "money": Fraction(0)})
            if all_votes:
                entry["votes"] += Fraction(count.get(p.id, 0), all_votes)
            if p.id in chosen and money:
                entry["money"] += Fraction(p.cost) / money
    return {
        "voters": voters,
        "share_with_one": Fraction(served, voters) if voters else Fraction(0),
        "average_funded": Fraction(total_funded, voters) if voters else Fraction(0),
        "by_group": {g: Fraction(s, t) for g, (s, t) in sorted(per_group.items())},
        "by_category": by_category,
    }


def _mes_payments(outcome: Outcome, projects: Sequence[Project], votes: Votes):
    """Replay MES's payments: money each project's supporters spent on each funded project,
    and what they had left at the end. None unless MES with cost utilities decided it."""
    details = outcome.details
    if details.get("utility") != "cost" or "budget_per_voter" not in details:
        return None
    cost = {p.id: Fraction(p.cost) for p in projects}
    rounds = []
    for r in sorted(outcome.results, key=lambda r: r.order or 0):
        main = r.reasons[0] if r.reasons else None
        if r.funded and main and main.params.get("stage") == "equal_shares":
            rounds.append((r.project_id, Fraction(main.params["rho"]) * cost[r.project_id]))
    spent: dict[str, dict[str, Fraction]] = {p.id: {} for p in projects}
    left = {p.id: Fraction(0) for p in projects}
    for ballot, n in votes.weighted():
        supported = frozenset(votes.support(ballot))
        budget = Fraction(details["budget_per_voter"])
        paid = []
        for q, share in rounds:
            if q in supported:
                pay = min(budget, share)
                budget -= pay
                paid.append((q, pay))
        for p in supported:
            for q, pay in paid:
                if q != p and pay:
                    spent[p][q] = spent[p].get(q, Fraction(0)) + n * pay
            left[p] += n * budget
    return spent, left


def explain(
    outcome: Outcome,
    projects: Sequence[Project],
    votes: Votes,
    groups: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """Per project: funded or not and why, and the figures that say why.

    Each entry has ``id``, ``funded``, ``reason`` (the main reason code), ``why`` (that
    reason in plain English, for the command line), ``votes``,
    ``cost``, ``passed_threshold`` (None without a threshold), ``lacked`` (greedy: the money
    missing when its turn came), ``effective_support`` (MES: its supporters' money left at
    the end as a share of its cost, at least 1 when funded) and ``used_by`` (MES: the funded
    projects its supporters' money went to, most first). ``fairness`` is :func:`fairness`.
    """
    payments = _mes_payments(outcome, projects, votes)
    rows = []
    for r in outcome.results:
        codes = [x.code for x in r.reasons]
        main = r.reasons[0] if r.reasons else None
        row: dict[str, Any] = {
            "id": r.project_id,
            "funded": r.funded,
            "reason": main.code if main else None,
            "why": describe_reason(main) if main else None,
            "votes": r.votes,
            "cost": r.cost,
            "passed_threshold": None,
            "lacked": None,
            "effective_support": None,
            "used_by": [],
        }
        if "below_threshold" in codes:
            row["passed_threshold"] = False
        elif "threshold" in outcome.details:
            row["passed_threshold"] = True
        for x in r.reasons:
            if x.code == "did_not_fit":
                row["lacked"] = Fraction(x.params["cost"]) - Fraction(x.params["available"])
        if payments is not None and r.cost:
            spent, left = payments
            support = left[r.project_id] / Fraction(r.cost)
            row["effective_support"] = max(support, Fraction(1)) if r.funded else support
            row["used_by"] = sorted(spent[r.project_id].items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append(row)
    return {
        "rule": outcome.rule,
        "projects": rows,
        "fairness": fairness(outcome.funded, projects, votes, groups),
    }


def percent(share: Fraction) -> str:
    """A share as a percentage with one decimal, e.g. ``"62.5%"``."""
    return f"{float(share) * 100:.1f}%"


def describe_explanation(
    explained: Mapping[str, Any], other: Mapping[str, Any] | None = None
) -> str:
    """Plain English text of :func:`explain` (for the command line), with a counterfactual."""
    lines = [f"Rule: {explained['rule']}"]
    for row in explained["projects"]:
        why = row["why"] or ("funded" if row["funded"] else "not funded")
        if not row["funded"] and not why.startswith("not "):
            why = f"not funded, {why}"
        parts = [f"{row['id']}: {why}", f"{row['votes']} votes, cost {_amount(row['cost'])}"]
        if row["passed_threshold"]:
            parts.append("passed the threshold")
        elif row["passed_threshold"] is False and row["reason"] != "below_threshold":
            parts.append("below the threshold")
        if row["lacked"] is not None:
            parts.append(f"lacked {_amount(row['lacked'])} at its turn")
        if row["effective_support"] is not None:
            parts.append(f"effective support {percent(row['effective_support'])}")
        if row["used_by"] and not row["funded"]:
            used = ", ".join(f"{q} {_amount(v)}" for q, v in row["used_by"][:5])
            parts.append(f"its supporters' money went to {used}")
        lines.append("; ".join(parts))
    lines += _fairness_lines(explained)
    if other is not None:
        lines.append("")
        lines.append(f"Counterfactual: {other['rule']} would fund " + _funded(other))
        lines += _fairness_lines(other)
    return "\n".join(lines)


def _funded(explained: Mapping[str, Any]) -> str:
    return ", ".join(r["id"] for r in explained["projects"] if r["funded"]) or "nothing"


def _fairness_lines(explained: Mapping[str, Any]) -> list[str]:
    f = explained["fairness"]
    lines = [
        f"Voters with at least one funded project they supported: {percent(f['share_with_one'])}",
        f"Supported projects funded per voter, on average: {float(f['average_funded']):.2f}",
    ]
    for group, share in f["by_group"].items():
        lines.append(f"  {group}: {percent(share)} with at least one")
    for category, shares in f["by_category"].items():
        lines.append(
            f"  category {category}: {percent(shares['votes'])} of the votes, "
            f"{percent(shares['money'])} of the money"
        )
    return lines


def _amount(value) -> str:
    value = Fraction(value)
    return f"{int(value):,}" if value.denominator == 1 else f"{float(value):,.2f}"
