"""Fund sources: hand-worked max-flow examples (amounts in yuan)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from civicvote.allocation import FundSource, MaxFlow, Project, Votes, allocate, payable


def sources_sum(sources):
    return sum(s.amount for s in sources)


def test_max_flow_textbook():
    g = MaxFlow(4)
    g.add_edge(0, 1, 3)
    g.add_edge(0, 2, 2)
    g.add_edge(1, 2, 5)
    g.add_edge(1, 3, 2)
    g.add_edge(2, 3, 3)
    assert g.max_flow(0, 3) == 5


def test_restricted_source_pays_its_category_first():
    # Youth fund (50) may only pay youth projects; the general fund (100) pays the rest.
    sources = [FundSource("general", 100), FundSource("youth", 50, "restricted", {"youth"})]
    a, b = Project("A", 80, {"youth"}), Project("B", 60, {"sport"})
    ok, pay = payable([a, b], sources)
    assert ok
    assert pay == {"A": {"general": 30, "youth": 50}, "B": {"general": 60}}


def test_naive_sum_says_yes_but_flow_says_no_restricted():
    # 50 + 100 >= 60 + 40, but only the general fund may pay the sport project (60 > 50).
    sources = [FundSource("general", 50), FundSource("youth", 100, "restricted", {"youth"})]
    a, b = Project("A", 60, {"sport"}), Project("B", 40, {"youth"})
    assert sources_sum(sources) >= a.cost + b.cost
    assert payable([a, b], sources)[0] is False
    outcome = allocate([a, b], Votes.approval([["A"], ["A"], ["B"]]), sources=sources)
    assert outcome.funded == ("B",)
    reason = outcome.result("A").reasons[0]
    assert reason.code == "did_not_fit"
    assert reason.params == {"cost": 60, "available": 50, "sources": ["general"]}
    assert outcome.funding == {"B": {"youth": 40}}
    assert outcome.leftover == {"general": 50, "youth": 60}


def test_naive_sum_says_yes_but_flow_says_no_per_project_cap():
    # The district fund pays at most 30 per project, so two 70s need 80 from a general 50.
    sources = [
        FundSource("general", 50),
        FundSource("district", 200, "restricted", per_project_cap=30),
    ]
    a, b = Project("A", 70), Project("B", 70)
    assert sources_sum(sources) >= 140
    assert payable([a], sources)[0]
    assert payable([a, b], sources)[0] is False
    outcome = allocate([a, b], Votes.approval([["A", "B"], ["A"]]), sources=sources)
    assert outcome.funded == ("A",)
    assert outcome.funding["A"] == {"general": 40, "district": 30}
    assert outcome.result("B").reasons[0].params["available"] == 40  # 10 general + 30 district


def test_matching_donor_adds_one_for_one():
    # A donor matches residents' money 1:1 up to 100 in total.
    sources = [FundSource("general", 60), FundSource("donor", 100, "matching")]
    a, b, c = Project("A", 100), Project("B", 30), Project("C", 20)
    ballots = Votes.approval([["A", "B", "C"], ["A", "B", "C"], ["A", "B"], ["A"]])
    outcome = allocate([a, b, c], ballots, sources=sources)
    # A: 50 residents + 50 matched. B (30) would need 15 from residents, only 10 are left:
    # the naive sum (10 + 50 >= 30) says yes, the flow says no. C: 10 + 10 fits exactly.
    # "available" for B counts the donor up to its per-project limit (15): 10 + 15.
    assert outcome.funded == ("A", "C")
    assert outcome.funding == {"A": {"general": 50, "donor": 50}, "C": {"general": 10, "donor": 10}}
    b_reason = outcome.result("B").reasons[0]
    assert b_reason.code == "did_not_fit" and b_reason.params["available"] == 25
    assert outcome.leftover == {"general": 0, "donor": 40}


def test_matching_ratio_and_category():
    # 2:1 matching for culture only: the donor may cover 2/3 of a culture project.
    sources = [
        FundSource("general", 40),
        FundSource("donor", 500, "matching", {"culture"}, match_ratio=Fraction(2)),
    ]
    culture, sport = Project("C", 90, {"culture"}), Project("S", 10, {"sport"})
    ok, pay = payable([culture, sport], sources)
    assert ok and pay["C"] == {"general": 30, "donor": 60} and pay["S"] == {"general": 10}
    assert not payable([Project("C2", 150, {"culture"})], sources)[0]  # needs 50 of residents


def test_matching_sources_must_share_a_ratio():
    sources = [
        FundSource("d1", 10, "matching"),
        FundSource("d2", 10, "matching", match_ratio=Fraction(1, 2)),
    ]
    with pytest.raises(ValueError, match="match_ratio"):
        payable([Project("A", 1)], sources)


def test_single_general_source_is_plain_greedy():
    projects = [Project("A", 60), Project("B", 50), Project("C", 40)]
    ballots = Votes.approval([["A", "B", "C"], ["A", "B"], ["A"]])
    one = allocate(projects, ballots, budget=100)
    assert one.funded == ("A", "C")
    two = allocate(projects, ballots, sources=[FundSource("g", 100, per_project_cap=100)])
    assert two.funded == one.funded and two.funding == {"A": {"g": 60}, "C": {"g": 40}}


def test_fractional_amounts_are_exact():
    sources = [FundSource("general", Fraction(201, 2)), FundSource("y", 1, "restricted", {"y"})]
    ok, pay = payable(
        [Project("A", Fraction(161, 4), {"y"}), Project("B", Fraction(241, 4))], sources
    )
    assert ok
    assert sum(pay["A"].values()) == Fraction(161, 4)


@pytest.mark.parametrize("completion", ["none", "add1", "greedy"])
def test_mes_with_restricted_sources_reports_what_the_flow_cannot_pay(completion):
    # MES shares out 100 and picks A (60, sport) then B (40, youth); only the general fund
    # (50) may pay A, so A does not fit and B is paid by the youth fund.
    sources = [FundSource("general", 50), FundSource("youth", 50, "restricted", {"youth"})]
    projects = [Project("A", 60, {"sport"}), Project("B", 40, {"youth"})]
    votes = Votes.approval([["A"]] * 3 + [["B"]] * 2)
    out = allocate(projects, votes, sources=sources, rule="mes", completion=completion)
    assert out.funded == ("B",)
    assert out.funding == {"B": {"youth": 40}}
    reason = out.result("A").reasons[0]
    assert reason.code == "did_not_fit" and reason.params["available"] == 50
