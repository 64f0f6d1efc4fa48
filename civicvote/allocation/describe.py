"""Plain English rendering of an Outcome, for the command line (the web app translates codes)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from civicvote.allocation.model import Outcome, Reason


def _amount(value: Any) -> str:
    if isinstance(value, Fraction):
        return f"{float(value):,.2f}" if value.denominator != 1 else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def describe_reason(reason: Reason) -> str:
    """One reason as an English phrase."""
    p = reason.params
    code = reason.code
    if code == "funded":
        stage = {
            "greedy": "in vote order",
            "equal_shares": f"by equal shares in round {p.get('round')}",
            "greedy_completion": "when the leftover was spent in vote order",
        }.get(p.get("stage"), "")
        return f"funded {stage}".strip()
    if code == "did_not_fit":
        return (
            f"did not fit: costs {_amount(p['cost'])} but only {_amount(p['available'])} "
            f"could still be paid from {', '.join(p['sources']) or 'no source'}"
        )
    if code == "below_threshold":
        return (
            f"below the threshold {p['threshold']}: score {_amount(p['score'])}, "
            f"needs {_amount(p['required'])}"
        )
    if code == "not_reached":
        return f"not reached: the rule stopped at project {p['stopped_at']}"
    if code == "no_support":
        return "nobody supported it"
    if code == "not_affordable":
        return (
            f"its supporters had only {_amount(p['supporters_money'])} of their equal shares "
            f"left, less than its cost {_amount(p['cost'])}"
        )
    if code == "tie_broken_by":
        return f"tied with {', '.join(p['tied_with'])}; order decided by {p['rule']}"
    return f"{code} {dict(p)}"


def describe_outcome(outcome: Outcome) -> str:
    """The whole outcome as a short English report."""
    lines = [
        f"Rule: {outcome.rule}; ties broken by {outcome.tie_break}.",
        f"Funded ({len(outcome.funded)}): {', '.join(outcome.funded) or 'none'}; "
        f"total cost {_amount(outcome.total_cost)}.",
        "Left over: " + ", ".join(f"{s} {_amount(v)}" for s, v in outcome.leftover.items()) + ".",
    ]
    for r in outcome.results:
        paid = ", ".join(f"{s} {_amount(v)}" for s, v in r.funding.items())
        lines.append(
            f"#{r.rank} {r.project_id} (cost {_amount(r.cost)}, votes {r.votes}, "
            f"score {_amount(r.score)}): "
            + "; ".join(describe_reason(x) for x in r.reasons)
            + (f" [paid by {paid}]" if paid else "")
        )
    return "\n".join(lines)
