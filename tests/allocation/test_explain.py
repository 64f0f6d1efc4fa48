"""Explanations and fairness figures: hand-worked rounds, and pabutools' analysis module."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from pabutools.analysis import avg_satisfaction, percent_non_empty_handed
from pabutools.election import Cardinality_Sat

from civicvote.allocation import Project, Votes, allocate
from civicvote.allocation.explain import explain, fairness
from tests.allocation import pabu
from tests.allocation.test_against_pabutools import instances


def test_greedy_round_by_hand():
    projects = [Project("A", 2, {"x"}), Project("B", 2, {"x"}), Project("C", 2, {"y"})]
    votes = Votes.approval([{"A"}, {"A", "B"}, {"B"}, {"C"}])
    outcome = allocate(projects, votes, budget=4, rule="greedy", tie_break="lexico")
    assert outcome.funded == ("A", "B")
    out = explain(outcome, projects, votes, groups=["g1", "g1", "g2", "g2"])
    rows = {r["id"]: r for r in out["projects"]}
    assert rows["C"]["funded"] is False and rows["C"]["reason"] == "did_not_fit"
    assert rows["C"]["lacked"] == 2  # nothing was left when its turn came
    assert rows["A"]["lacked"] is None and rows["A"]["passed_threshold"] is None
    f = out["fairness"]
    assert f["share_with_one"] == Fraction(3, 4)
    assert f["average_funded"] == Fraction(1)  # (1 + 2 + 1 + 0) / 4
    assert f["by_group"] == {"g1": 1, "g2": Fraction(1, 2)}
    assert f["by_category"] == {
        "x": {"votes": Fraction(4, 5), "money": Fraction(1)},
        "y": {"votes": Fraction(1, 5), "money": Fraction(0)},
    }


def test_threshold_is_reported():
    projects = [Project("A", 1), Project("B", 1)]
    votes = Votes.approval([{"A"}, {"A"}, {"B"}])
    outcome = allocate(projects, votes, budget=2, rule="greedy-threshold", threshold=2)
    rows = {r["id"]: r for r in explain(outcome, projects, votes)["projects"]}
    assert rows["A"]["passed_threshold"] is True
    assert rows["B"]["passed_threshold"] is False and rows["B"]["reason"] == "below_threshold"


def test_mes_round_by_hand():
    # Budget 3, one unit each. A's supporters (voters 1 and 2) pay 1 each. B's supporters:
    # voter 1 spent everything on A, voter 3 has 1 of the 2 it costs: effective support 50%.
    projects = [Project("A", 2), Project("B", 2)]
    votes = Votes.approval([{"A", "B"}, {"A"}, {"B"}])
    outcome = allocate(projects, votes, budget=3, rule="mes", completion="none")
    assert outcome.funded == ("A",)
    rows = {r["id"]: r for r in explain(outcome, projects, votes)["projects"]}
    assert rows["B"]["effective_support"] == Fraction(1, 2)
    assert rows["B"]["used_by"] == [("A", 1)]
    assert rows["A"]["effective_support"] == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_fairness_equals_pabutools_analysis(instance):
    costs, ballots, budget = instance
    projects = [Project(pid, cost) for pid, cost in costs.items()]
    votes = Votes.approval(ballots)
    pb_instance, profile = pabu.build(costs, ballots, budget)
    by_name = {p.name: p for p in pb_instance}
    for rule in ("greedy", "mes"):
        outcome = allocate(projects, votes, budget=budget, rule=rule, tie_break="lexico")
        chosen = [by_name[p] for p in outcome.funded]
        f = fairness(outcome.funded, projects, votes)
        assert f["share_with_one"] == percent_non_empty_handed(pb_instance, profile, chosen)
        expected = avg_satisfaction(pb_instance, profile, chosen, Cardinality_Sat)
        assert f["average_funded"] == Fraction(expected)


def test_threshold_under_mes_is_reported():
    projects = [Project("A", 1), Project("B", 1)]
    votes = Votes.approval([{"A"}, {"A"}, {"B"}])
    outcome = allocate(projects, votes, budget=2, rule="mes", threshold=2, completion="none")
    rows = {r["id"]: r for r in explain(outcome, projects, votes)["projects"]}
    assert rows["A"]["passed_threshold"] is True and rows["A"]["funded"]
    assert rows["B"]["passed_threshold"] is False
