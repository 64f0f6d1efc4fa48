"""add1's leaps: one run far ahead vouches that every outcome in between fits the budget.

Where a run at ``y``, checked against a run at ``x``, finds another winner (or a runner-up too
close to call) in round ``R``, every budget in between still buys the first ``R`` winners, and
what it buys after them costs at most what the projects within reach at ``y`` in round ``R``
cost together, and at most what their supporters hold there (stretch.outcome_cost_bound). The
adversary's tests run every increment in between and compare; the walk's tests compare it with
the walk without leaps, which test_add1_exact.py compares with one-step add1.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from civicvote.allocation import add1
from civicvote.allocation.add1 import equal_shares
from civicvote.allocation.mes import _Prepared, run_mes
from tests.allocation.test_add1_exact import (
    TWO_RUNS,
    TWO_RUNS_SETTINGS,
    random_small_election,
    small_unit_city,
)


def outcome_cost(inp, run) -> Fraction:
    return sum((inp.costs[p] for p in run.selected), Fraction(0))


def test_every_outcome_between_two_runs_costs_at_most_their_bound():
    """The adversary's case: over a corpus of small elections, every pair of runs whose
    checks fail gives a bound, and no increment between them buys an outcome dearer than it
    (each increment run on its own). The corpus must hold bounds within the budget across
    orders that change on the way (what a leap passes over) and bounds that are tight."""
    rng = random.Random(7)
    bounded = passed_over = tight = 0
    for _ in range(60):
        inp, budget = random_small_election(rng)
        prep, base = _Prepared(inp), Fraction(budget, inp.num_voters)
        runs = [run_mes(inp, base + k, prep, money=False) for k in range(40)]
        costs = [outcome_cost(inp, run) for run, _ in runs]
        for i in range(40):
            for j in rng.sample(range(i + 1, 41), min(4, 40 - i)):
                j = min(j, 39)
                swaps = rng.random() < 0.5
                against = runs[i][1]
                high = run_mes(inp, base + j, prep, money=False, against=against, swaps=swaps)
                bounded_run = run_mes(
                    inp, base + j, prep, money=False, against=against, swaps=swaps, bound=True
                )[1]
                # The bound asks nothing of the run: the same run, the same verdict.
                assert bounded_run.rounds == high[1].rounds
                assert bounded_run.certified == high[1].certified
                bound = bounded_run.cost_bound
                if bound is None:
                    continue
                assert not bounded_run.certified
                dearest = max(costs[i : j + 1])
                assert dearest <= bound, (i, j, dearest, bound)
                bounded += 1
                orders = {tuple(runs[k][1].rounds) for k in range(i, j + 1)}
                passed_over += bound <= budget and len(orders) > 1
                tight += bound == dearest
    assert bounded >= 1000 and passed_over >= 100 and tight >= 20, (bounded, passed_over, tight)


@TWO_RUNS_SETTINGS
@TWO_RUNS
def test_a_bound_holds_at_every_budget_in_between(election, i, span, parts, swaps, near):
    """The same with close runner-ups whose prices fall with the budget (the slope and
    widening checks pass rounds before one fails), utilities by cost, count or points, swaps,
    and the run at j pricing from the run at i's record, as the walk lets it."""
    inp, budget = election
    prep, base, step = _Prepared(inp), Fraction(budget) / inp.num_voters, Fraction(1, parts)
    _low, low = run_mes(inp, base + i * step, prep, money=False)
    _high, high = run_mes(
        inp,
        base + (i + span) * step,
        prep,
        money=False,
        against=low,
        swaps=swaps,
        near=low if near else None,
        bound=True,
    )
    if high.cost_bound is not None:
        for k in range(i, i + span + 1):
            run = run_mes(inp, base + k * step, prep, money=False)[0]
            assert outcome_cost(inp, run) <= high.cost_bound, k


@pytest.mark.parametrize(("seed", "leaps_at_most", "plain"), [(1, 68, 135), (3, 53, 66)])
def test_leaps_pass_over_changes_of_order_where_outcomes_cost_well_under_the_budget(
    monkeypatch, seed, leaps_at_most, plain
):
    """On the benchmark's small-unit shape, the walk leaps over the increments where every
    outcome costs well under the budget, and runs vouch by the cost bound where they find
    another order: fewer runs for the same increment and outcome as the walk without either
    (135 and 66 runs without; 65 and 50 with)."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=seed)
    walked: dict = {}
    got = equal_shares(inp, Fraction(budget), add1=True, exact_runs=float("inf"), report=walked)
    monkeypatch.setattr(add1, "FIRST_LEAP", 0)
    monkeypatch.setattr(add1._Walk, "fit_between", lambda _walk, _trace: False)
    without: dict = {}
    want = equal_shares(inp, Fraction(budget), add1=True, exact_runs=float("inf"), report=without)
    assert got == want and walked["exact"]
    assert without["leaps"] == 0 and without["runs"] <= plain
    assert walked["leaps"] > 0 and walked["runs"] <= leaps_at_most, walked


def test_a_part_takes_the_same_runs_whichever_parts_its_process_took_before(monkeypatch):
    """--prove's processes each take parts of the walk, one after another, in whatever order
    they come free. Each part starts from the walk as it was forked (its reach, its leap), so
    a part takes the same runs to the same end whatever its process did before: the counts
    --prove reports do not depend on timing."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=1)
    prep, base = _Prepared(inp), Fraction(budget, inp.num_voters)
    first, trace = run_mes(inp, base, prep, money=False)

    def fits(selected):
        return sum(inp.costs[p] for p in selected) <= budget

    walk = add1._Walk(inp, prep, base, Fraction(1), fits, trace, Fraction(budget))
    walk.first_misfit(0, first, trace, 10**6, runs=3)
    parts = [(walk.at + 1 + 600 * i, walk.at + 600 * (i + 1)) for i in range(4)]
    monkeypatch.setattr(add1, "_PART_WALK", walk)
    in_order = [add1._walk_part(part) for part in parts]
    backwards = [add1._walk_part(part) for part in parts[::-1]][::-1]
    assert in_order == backwards
    assert sum(runs for _, runs, *_ in in_order) > 8 * len(parts)  # real walks, not one run
