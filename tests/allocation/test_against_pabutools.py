"""Generated instances: our rules must fund exactly what pabutools funds (lexico ties)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicvote.allocation import Project, Votes, allocate
from tests.allocation import pabu

# Ids that sort differently as strings and as numbers ("10" < "9"), costs with many ties.
IDS = ["1", "2", "9", "10", "11", "20", "a", "B", "p-7", "x/1", "03", "3"]
COSTS = st.sampled_from([1, 2, 3, 5, 5, 8, 10, 10, 13, 20])


@st.composite
def instances(draw, max_projects=12, max_voters=40):
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=max_projects, unique=True))
    costs = {pid: draw(COSTS) for pid in ids}
    ballot = st.sets(st.sampled_from(ids), max_size=len(ids))
    ballots = draw(st.lists(ballot, min_size=1, max_size=max_voters))
    budget = draw(st.integers(min_value=1, max_value=max(1, sum(costs.values()))))
    return costs, ballots, budget


def ours(costs, ballots, budget, **kwargs) -> set[str]:
    projects = [Project(pid, cost) for pid, cost in costs.items()]
    outcome = allocate(
        projects, Votes.approval(ballots), budget=budget, tie_break="lexico", **kwargs
    )
    assert outcome.total_cost <= budget
    return set(outcome.funded)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances())
def test_greedy_by_votes_matches_pabutools(instance):
    costs, ballots, budget = instance
    assert ours(costs, ballots, budget, rule="greedy") == pabu.greedy_by_votes(
        costs, ballots, budget
    )


@SETTINGS
@given(instances())
def test_plain_mes_matches_pabutools(instance):
    costs, ballots, budget = instance
    got = ours(costs, ballots, budget, rule="mes", completion="none")
    assert got == pabu.mes_plain(costs, ballots, budget)


@SETTINGS
@given(instances())
def test_mes_add1_matches_pabutools(instance):
    costs, ballots, budget = instance
    got = ours(costs, ballots, budget, rule="mes", completion="add1")
    assert got == pabu.mes_add1(costs, ballots, budget)


@SETTINGS
@given(instances())
def test_mes_greedy_completion_matches_pabutools(instance):
    costs, ballots, budget = instance
    got = ours(costs, ballots, budget, rule="mes", completion="greedy")
    assert got == pabu.mes_greedy(costs, ballots, budget)


@st.composite
def cumulative_instances(draw):
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=8, unique=True))
    costs = {pid: draw(COSTS) for pid in ids}
    ballot = st.dictionaries(st.sampled_from(ids), st.integers(1, 5), max_size=len(ids))
    ballots = draw(st.lists(ballot, min_size=1, max_size=20))
    budget = draw(st.integers(min_value=1, max_value=max(1, sum(costs.values()))))
    return costs, ballots, budget


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cumulative_instances(), st.booleans())
def test_mes_points_utilities_match_pabutools(instance, add1):
    costs, ballots, budget = instance
    projects = [Project(pid, cost) for pid, cost in costs.items()]
    outcome = allocate(
        projects,
        Votes.points(ballots),
        budget=budget,
        rule="mes",
        completion="add1" if add1 else "none",
        tie_break="lexico",
    )
    assert set(outcome.funded) == pabu.mes_points(costs, ballots, budget, add1)


def test_greedy_by_votes_is_cost_sat_not_cardinality_sat():
    # pabutools' greedy orders by satisfaction per unit of cost. With Cardinality_Sat that is
    # votes / cost; with Cost_Sat it is (votes * cost) / cost = votes, i.e. greedy by votes.
    from pabutools.election import Cardinality_Sat
    from pabutools.rules import greedy_utilitarian_welfare

    costs, ballots, budget = {"A": 10, "B": 1}, [{"A"}, {"A", "B"}, {"A", "B"}, {"A"}], 10
    assert ours(costs, ballots, budget, rule="greedy") == {"A"}
    assert pabu.greedy_by_votes(costs, ballots, budget) == {"A"}
    instance, profile = pabu.build(costs, ballots, budget)
    by_card = greedy_utilitarian_welfare(instance, profile, sat_class=Cardinality_Sat)
    assert {p.name for p in by_card} == {"B"}
