"""Geometry of the explanation charts (the SVG markup is templates/results/_charts.html).

Each chart compares two series per row (votes and money; the published rule and the other
rule), so each row carries two bars scaled against the chart's largest value.
"""

from fractions import Fraction


def _pair_rows(rows: list[tuple[str, bool, object, object]], *, apart=False) -> list[dict]:
    """``(label, marked, a, b)`` rows with each value's width as a share of the largest
    (of its own column when ``apart``: votes and money have different units)."""
    columns = [[Fraction(r[2]) for r in rows], [Fraction(r[3]) for r in rows]]
    both = max(columns[0] + columns[1], default=Fraction(0))
    tops = [max(c, default=Fraction(0)) for c in columns] if apart else [both, both]
    out = []
    for label, marked, a, b in rows:
        bars = [
            {"value": v, "width": float(Fraction(v) / top) if top else 0.0}
            for v, top in zip((a, b), tops, strict=True)
        ]
        out.append({"label": label, "marked": marked, "bars": bars, "any_money": bool(a or b)})
    return out


def chart_sets(explained: dict) -> dict:
    """The rows of the votes/money, category, fairness and counterfactual charts."""
    published, counter = explained["published"], explained["counterfactual"]
    projects = sorted(published["projects"], key=lambda p: (-p["votes"], p["title"]))
    charts = {
        "votes_money": _pair_rows(
            [(p["title"], p["funded"], p["votes"], p["cost_fen"]) for p in projects],
            apart=True,
        ),
        "categories": _pair_rows(
            [
                (c["name"], False, c["votes"], c["money"])
                for c in published["fairness"]["by_category"]
            ]
        ),
    }
    if counter is not None:
        other = {p["id"]: p for p in counter["projects"]}
        charts["counterfactual"] = _pair_rows(
            [
                (
                    p["title"],
                    p["funded"],
                    p["cost_fen"] if p["funded"] else 0,
                    p["cost_fen"] if other[p["id"]]["funded"] else 0,
                )
                for p in projects
            ]
        )
        mine, theirs = published["fairness"], counter["fairness"]
        # Shares of the voters: a full bar is everyone.
        charts["fairness"] = _pair_rows(
            [
                ("share_with_one", False, mine["share_with_one"], theirs["share_with_one"]),
                ("everyone", False, 1, 1),
            ]
        )[:1]
    return charts
