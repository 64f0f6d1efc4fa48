"""Every MES completion against pabutools (and, for the comparison step, by its definition)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from pabutools.election import Cost_Sat
from pabutools.rules import (
    completion_by_rule_combination,
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

from civicvote.allocation import Project, Votes, allocate
from civicvote.allocation.add1 import equal_shares
from civicvote.allocation.mes import compile_input
from tests.allocation import pabu
from tests.allocation.test_against_pabutools import instances

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ours(costs, ballots, budget, completion):
    projects = [Project(pid, cost) for pid, cost in costs.items()]
    return allocate(
        projects,
        Votes.approval(ballots),
        budget=budget,
        rule="mes",
        completion=completion,
        tie_break="lexico",
    )


def pabu_add1_greedy(costs, ballots, budget):
    instance, profile = pabu.build(costs, ballots, budget)
    add1 = {
        "rule": method_of_equal_shares,
        "rule_params": {"sat_class": Cost_Sat},
        "exhaustive_stop": False,
        "budget_step": profile.num_ballots(),
    }
    result = completion_by_rule_combination(
        instance,
        profile,
        [exhaustion_by_budget_increase, greedy_utilitarian_welfare],
        [add1, {"sat_class": Cost_Sat}],
    )
    return pabu.names(result)


@SETTINGS
@given(instances())
def test_add1_greedy_matches_pabutools(instance):
    costs, ballots, budget = instance
    got = ours(costs, ballots, budget, "add1+greedy")
    assert set(got.funded) == pabu_add1_greedy(costs, ballots, budget)


def _add1_searched(costs, ballots, budget):
    """Our add1, walked in stretches."""
    ids = sorted(costs)  # lexico tie-break: rank = position in string order
    index = {pid: i for i, pid in enumerate(ids)}
    cost = [Fraction(costs[p]) for p in ids]
    rows = [[(index[p], cost[index[p]]) for p in b] for b in ballots]
    inp = compile_input(cost, rows, [1] * len(rows), list(range(len(ids))))
    run, _ = equal_shares(inp, Fraction(budget), add1=True)
    return {ids[i] for i in run.selected}


@SETTINGS
@given(instances(max_projects=12, max_voters=40))
def test_add1_search_matches_pabutools(instance):
    costs, ballots, budget = instance
    assert _add1_searched(costs, ballots, budget) == pabu.mes_add1(costs, ballots, budget)


@SETTINGS
@given(instances())
def test_comparison_step_takes_what_more_voters_prefer(instance):
    costs, ballots, budget = instance
    got = ours(costs, ballots, budget, "add1+greedy+compare")
    mes = pabu_add1_greedy(costs, ballots, budget)
    greedy = pabu.greedy_by_votes(costs, ballots, budget)
    prefer_mes = sum(len(set(b) & mes) > len(set(b) & greedy) for b in ballots)
    prefer_greedy = sum(len(set(b) & greedy) > len(set(b) & mes) for b in ballots)
    assert set(got.funded) == (greedy if prefer_greedy > prefer_mes else mes)
    assert got.details["comparison"] == {"prefer_mes": prefer_mes, "prefer_greedy": prefer_greedy}


def test_comparison_step_hand_worked():
    # Budget 3, six voters with 0.5 each. MES funds A (its two supporters hold 1.0); one more
    # unit each (add1) would fund A, B and C (5 > 3), so add1 keeps {A}; the greedy
    # completion adds B. Greedy by votes funds C alone (4 votes). Voters {A} and {B} prefer
    # MES, the three {C} voters prefer greedy, {C, A} has one either way: greedy wins 3 to 2.
    costs = {"A": 1, "B": 1, "C": 3}
    ballots = [{"A"}, {"B"}, {"C"}, {"C"}, {"C"}, {"C", "A"}]
    assert set(ours(costs, ballots, 3, "add1+greedy").funded) == {"A", "B"}
    compared = ours(costs, ballots, 3, "add1+greedy+compare")
    assert set(compared.funded) == {"C"}
    assert compared.details["comparison"] == {"prefer_mes": 2, "prefer_greedy": 3}
    assert compared.rule == "mes/add1+greedy+compare:greedy"
    # One {C} voter fewer: 2 to 2, MES stays.
    kept = ours(costs, ballots[:-2] + ballots[-1:], 3, "add1+greedy+compare")
    assert set(kept.funded) == {"A", "B"}
    assert kept.details["comparison"] == {"prefer_mes": 2, "prefer_greedy": 2}


def test_add1_search_matches_pabutools_with_small_units():
    """Budgets in small units: many increments, so the search gallops and bisects far."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "allocation.py"
    spec = importlib.util.spec_from_file_location("bench_allocation", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for seed in range(12):
        costs, ballots, budget = bench.generate_small_units(8, 25, seed, budget=3000)
        assert _add1_searched(costs, ballots, budget) == pabu.mes_add1(costs, ballots, budget)
