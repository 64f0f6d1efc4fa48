"""add1's fast search returns exactly what one-increment-at-a-time add1 returns.

The reference below is add1 by its definition (pabutools' ``exhaustion_by_budget_increase``
with ``exhaustive_stop=False``): run MES at increments 0, 1, 2, … and keep the outcome before
the first that does not fit. MES itself is compared with pabutools elsewhere
(test_against_pabutools.py); here the add1 layer is: exact skipping, the gallop and bisection,
and the chain check with its exact fallback.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicvote.allocation.add1 import equal_shares
from civicvote.allocation.mes import _Prepared, compile_input, run_mes

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compiled(costs: dict[str, int], ballots: list[set[str]]):
    ids = sorted(costs)
    index = {pid: i for i, pid in enumerate(ids)}
    cost = [Fraction(costs[p]) for p in ids]
    rows = [[(index[p], cost[index[p]]) for p in b] for b in ballots]
    return compile_input(cost, rows, [1] * len(rows), list(range(len(ids)))), ids


def plain_add1(inp, budget, fits=None):
    """add1 one increment at a time: the outcome before the first that does not fit."""
    budget = Fraction(budget)
    fits = fits or (lambda sel: sum(inp.costs[p] for p in sel) <= budget)
    prep, base = _Prepared(inp), budget / inp.num_voters
    previous = None
    for k in range(int(budget) + 1):  # pabutools' bound, one unit per voter per step
        selected = run_mes(inp, base + k, prep, money=False)[0].selected
        if not fits(selected):
            return previous
        previous = selected
    return previous


@st.composite
def small_unit_elections(draw):
    """Few voters, budgets of up to a few hundred units: many increments, cheap to step."""
    names = "ABCDEFG"[: draw(st.integers(2, 7))]
    costs = {p: draw(st.integers(1, 120)) for p in names}
    ballot = st.sets(st.sampled_from(names), min_size=1, max_size=len(names))
    ballots = draw(st.lists(ballot, min_size=1, max_size=9))
    budget = draw(st.integers(1, min(300, sum(costs.values()))))
    return costs, ballots, budget


@SETTINGS
@given(small_unit_elections(), st.sampled_from([0, 1, 3, 16]))
def test_search_equals_plain_stepping(election, exact_runs):
    costs, ballots, budget = election
    inp, _ids = compiled(costs, ballots)
    want = plain_add1(inp, budget)
    run, _k = equal_shares(inp, Fraction(budget), add1=True, exact_runs=exact_runs)
    assert want is not None  # the first run always fits the budget
    assert set(run.selected) == set(want)


@SETTINGS
@given(small_unit_elections(), st.data())
def test_a_callers_fits_is_stepped_exactly(election, data):
    """A caller's test (restricted fund sources) need not behave like a budget: here it
    refuses one outcome from the middle of the sequence, and add1 must stop before it."""
    costs, ballots, budget = election
    inp, _ids = compiled(costs, ballots)
    prep, base = _Prepared(inp), Fraction(budget) / inp.num_voters
    seen = [
        frozenset(run_mes(inp, base + k, prep, money=False)[0].selected) for k in range(budget + 1)
    ]
    refused = data.draw(st.sampled_from(seen))

    def fits(sel):
        return sum(inp.costs[p] for p in sel) <= budget and frozenset(sel) != refused

    want = plain_add1(inp, budget, fits)
    run, _k = equal_shares(inp, Fraction(budget), add1=True, exact_runs=0, fits=fits)
    if want is None:  # even the first outcome is refused: kept, for the caller to report
        assert frozenset(run.selected) == refused
    else:
        assert set(run.selected) == set(want)


def test_search_reports_its_checks():
    """The search runs its probes and checks them; a long sequence is searched, not stepped."""
    costs = {p: c for p, c in zip("ABCDEF", (900, 700, 650, 400, 300, 120), strict=True)}
    ballots = [{"A", "B"}, {"B", "C"}, {"C"}, {"D", "E"}, {"A", "F"}, {"F"}, {"E"}, {"A"}]
    inp, _ids = compiled(costs, ballots)
    report: dict = {}
    run, k = equal_shares(inp, Fraction(2000), add1=True, exact_runs=0, report=report)
    assert report["probes"] >= 2 and report["chain_breaks"] >= 0
    assert set(run.selected) == set(plain_add1(inp, 2000))
    assert 0 < k <= 2000


# Found by brute force over small elections (one increment at a time): the outcome fits, then
# does not, then fits again, so "fits" is not monotone in the budget. T = fits, F = does not.
NON_MONOTONE = [
    # TTTTTFFTFFF…: the first increment that does not fit is 5.
    ({"A": 25, "B": 15, "C": 23, "D": 14, "E": 10}, [{"A", "D", "E"}, {"A", "E", "B"}, {"D"}], 40),
    # TTTTTFTTTFFF…: 5 does not fit, 6 to 8 do; galloping 1, 2, 4, 8 lands on 8, which fits.
    (
        {"A": 16, "B": 22, "C": 13, "D": 4, "E": 16, "F": 4},
        [{"F", "A", "E", "C", "D"}, {"A", "E", "C", "B", "D"}, {"D", "C", "B"}],
        49,
    ),
]


def test_non_monotone_sequences_exist():
    """The crafted elections really have an outcome over budget between two that fit."""
    for costs, ballots, budget in NON_MONOTONE:
        inp, _ids = compiled(costs, ballots)
        prep, base = _Prepared(inp), Fraction(budget) / inp.num_voters
        fit = [
            sum(inp.costs[p] for p in run_mes(inp, base + k, prep, money=False)[0].selected)
            <= budget
            for k in range(12)
        ]
        first = fit.index(False)
        assert any(fit[first + 1 :]), fit


def test_search_stops_at_the_first_increment_over_budget_in_non_monotone_sequences():
    for costs, ballots, budget in NON_MONOTONE:
        inp, _ids = compiled(costs, ballots)
        want = plain_add1(inp, budget)
        for exact_runs in (0, 1, 2, 3):
            report: dict = {}
            run, k = equal_shares(
                inp, Fraction(budget), add1=True, exact_runs=exact_runs, report=report
            )
            assert set(run.selected) == set(want), (costs, exact_runs, report)
            assert k == 4, (costs, exact_runs, k, report)
