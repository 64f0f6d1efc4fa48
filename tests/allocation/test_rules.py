"""Rules, thresholds, tie-breaking, reason records, and module purity."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicvote.allocation import (
    FundSource,
    Project,
    Threshold,
    TieBreak,
    Votes,
    allocate,
)
from civicvote.allocation.describe import describe_outcome
from tests.allocation.conftest import REPO

P = [Project("a", 40), Project("b", 30), Project("c", 30), Project("d", 10)]
# votes: a 4, b 3, c 3, d 1
V = Votes.approval([["a", "b", "c"], ["a", "b", "c"], ["a", "b"], ["a", "c", "d"]])


def test_greedy_skips_what_does_not_fit_and_explains():
    out = allocate(P, V, budget=80, tie_break="lexico")
    assert out.funded == ("a", "b", "d")
    c = out.result("c")
    assert not c.funded and c.rank == 3 and c.votes == 3
    assert c.reasons[0].code == "did_not_fit"
    assert c.reasons[0].params == {"cost": 30, "available": 10, "sources": ["general"]}
    assert out.result("a").reasons[0].code == "funded"
    assert out.leftover == {"general": 0}
    assert {r.project_id for r in out.results} == {"a", "b", "c", "d"}


def test_greedy_no_skip_stops_at_first_misfit():
    out = allocate(P, V, budget=80, rule="greedy-no-skip", tie_break="lexico")
    assert out.funded == ("a", "b")
    assert out.result("c").reasons[0].code == "did_not_fit"
    assert out.result("d").reasons[0].code == "not_reached"
    assert out.result("d").reasons[0].params == {"stopped_at": "c"}


def test_absolute_threshold_with_any_rule():
    for rule in ("greedy-threshold", "greedy", "greedy-no-skip", "mes"):
        out = allocate(P, V, budget=200, rule=rule, threshold=3, tie_break="lexico")
        assert set(out.funded) == {"a", "b", "c"}, rule
        reason = out.result("d").reasons[0]
        assert reason.code == "below_threshold"
        assert reason.params == {"score": 1, "required": 3, "threshold": "3"}


def test_relative_threshold_is_a_share_of_ballots():
    out = allocate(P, V, budget=200, threshold=Threshold(Fraction(3, 4), relative=True))
    assert set(out.funded) == {"a", "b", "c"}  # needs 3 of 4 ballots
    assert out.result("d").reasons[0].params["required"] == 3
    assert out.result("d").reasons[0].params["threshold"] == "75%"


def test_greedy_threshold_needs_a_threshold():
    with pytest.raises(ValueError):
        allocate(P, V, budget=10, rule="greedy-threshold")


def test_default_tie_break_is_cost_then_lot_and_is_recorded():
    # b and c tie on 3 votes and on cost 30: the lot with seed "0" decides.
    out = allocate(P, V, budget=70)
    assert out.tie_break == "cost:0"
    lot = sorted(["a", "b", "c", "d"])
    random.Random("0").shuffle(lot)
    assert out.details["lot"] == lot
    first = min(["b", "c"], key=lot.index)
    assert out.funded == ("a", first)
    ties = [r for r in out.result(first).reasons if r.code == "tie_broken_by"]
    assert ties and ties[0].params["rule"] == "cost:0"
    assert set(ties[0].params["tied_with"]) == {"b", "c"} - {first}


def test_cost_tie_break_prefers_cheaper():
    projects = [Project("x", 50), Project("y", 20)]
    votes = Votes.approval([["x", "y"]])
    assert allocate(projects, votes, budget=50, tie_break="cost").funded == ("y",)
    assert allocate(projects, votes, budget=50, tie_break="lexico").funded == ("x",)


def test_lot_tie_break_is_reproducible():
    projects = [Project(str(i), 10) for i in range(8)]
    votes = Votes.approval([[str(i) for i in range(8)]])
    a = allocate(projects, votes, budget=30, tie_break="lot:2026-round-1")
    b = allocate(projects, votes, budget=30, tie_break="lot:2026-round-1")
    assert a.funded == b.funded and a.tie_break == "lot:2026-round-1"
    assert list(a.funded) == a.details["lot"][:3]
    with pytest.raises(ValueError):
        TieBreak.parse("coin")


def test_lexico_is_string_order():
    projects = [Project("9", 10), Project("10", 10)]
    votes = Votes.approval([["9", "10"]])
    assert allocate(projects, votes, budget=10, tie_break="lexico").funded == ("10",)


def test_mes_reasons_and_details():
    out = allocate(P, V, budget=80, rule="mes", completion="none", tie_break="lexico")
    for r in out.results:
        assert r.reasons, r.project_id
        assert r.reasons[0].code in {"funded", "not_affordable", "no_support"}
    funded = out.result(out.funded[0]).reasons[0]
    assert funded.params["stage"] == "equal_shares" and funded.params["round"] == 1
    cost = out.result(out.funded[0]).cost
    assert funded.params["share"] == funded.params["rho"] * cost
    assert out.details["utility"] == "cost" and out.details["completion"] == "none"
    json.dumps(out.to_dict())
    assert "Rule: mes" in describe_outcome(out)


def test_mes_greedy_completion_marks_stage():
    out = allocate(P, V, budget=80, rule="mes", completion="greedy", tie_break="lexico")
    stages = {r.project_id: r.reasons[0].params.get("stage") for r in out.results if r.funded}
    assert "greedy_completion" in stages.values() or out.total_cost == 80


def test_mes_with_points_utilities():
    # Two voters: one gives 3 points to x, one 1 point to y; each holds half the budget.
    projects = [Project("x", 60), Project("y", 60)]
    votes = Votes.points([{"x": 3}, {"y": 1}])
    out = allocate(projects, votes, budget=120, rule="mes", completion="none")
    assert set(out.funded) == {"x", "y"}
    assert out.details["utility"] == "points"


def test_yes_no_ballots_rank_by_yes_and_threshold_on_share():
    projects = [Project("p", 10), Project("q", 10)]
    votes = Votes.yes_no([{"p": True, "q": False}, {"p": True, "q": True}, {"q": False}])
    out = allocate(projects, votes, budget=20, threshold=Threshold(Fraction(1, 2), relative=True))
    assert out.funded == ("p",)
    assert out.result("q").reasons[0].code == "below_threshold"
    assert out.result("q").reasons[0].params["required"] == Fraction(3, 2)


def test_ordinal_score_is_len_minus_position():
    votes = Votes.ordinal([["a", "b", "c"], ["c", "a"]])
    counts, score = votes.tally()
    assert score == {"a": 3 + 1, "b": 2, "c": 1 + 2}
    assert counts == {"a": 2, "b": 1, "c": 2}


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        allocate(P, Votes.approval([["zz"]]), budget=10)
    with pytest.raises(ValueError):
        allocate(P, V, budget=10, rule="borda")
    with pytest.raises(TypeError):
        Project("f", 1.5)


@settings(max_examples=60, deadline=None)
@given(
    costs=st.lists(st.integers(1, 30), min_size=1, max_size=6),
    cats=st.lists(st.sampled_from(["x", "y", "z"]), min_size=6, max_size=6),
    amounts=st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60)),
    cap=st.integers(1, 20),
)
def test_flow_assignment_is_always_valid(costs, cats, amounts, cap):
    projects = [Project(f"p{i}", c, {cats[i]}) for i, c in enumerate(costs)]
    sources = [
        FundSource("general", amounts[0]),
        FundSource("xfund", amounts[1], "restricted", {"x"}, per_project_cap=cap),
        FundSource("donor", amounts[2], "matching", {"x", "y"}),
    ]
    votes = Votes.approval([[p.id for p in projects]])
    out = allocate(projects, votes, sources=sources, tie_break="lexico")
    by_id = {p.id: p for p in projects}
    spent = {s.id: 0 for s in sources}
    for pid, pay in out.funding.items():
        p = by_id[pid]
        assert sum(pay.values()) == p.cost
        assert pay.get("xfund", 0) <= cap and ("xfund" not in pay or "x" in p.categories)
        assert pay.get("donor", 0) * 2 <= p.cost  # 1:1 matching: at most half
        for sid, amount in pay.items():
            spent[sid] += amount
    for s in sources:
        assert spent[s.id] + out.leftover[s.id] == s.amount


def test_importing_allocation_pulls_in_no_web_or_database_modules():
    code = (
        "import sys, civicvote.allocation, civicvote.allocation.pabulib;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug', 'click') "
        "or m.startswith('flask_')];"
        "other = [m for m in sys.modules if m.startswith('civicvote.') "
        "and not m.startswith('civicvote.allocation')];"
        "assert civicvote.allocation.__file__.startswith(sys.argv[1]), civicvote.__file__;"
        "print(bad + other)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert result.stdout.strip() == "[]"
