"""Helpers that run pabutools (a test-only dependency) on our plain values."""

from __future__ import annotations

from fractions import Fraction

from pabutools.election import (
    ApprovalBallot,
    ApprovalProfile,
    Cost_Sat,
    Instance,
)
from pabutools.election import Project as PabuProject
from pabutools.rules import (
    completion_by_rule_combination,
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)


def build(costs: dict[str, int], ballots: list[set[str]], budget: int):
    """An (instance, profile) pair for approval ballots."""
    projects = {pid: PabuProject(pid, cost) for pid, cost in costs.items()}
    instance = Instance(projects.values(), budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot(projects[p] for p in b) for b in ballots])
    return instance, profile


def names(allocation) -> set[str]:
    return {p.name for p in allocation}


def greedy_by_votes(costs, ballots, budget) -> set[str]:
    """Greedy by approval count: pabutools' greedy welfare with Cost_Sat (density = votes)."""
    instance, profile = build(costs, ballots, budget)
    return names(greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat))


def mes_plain(costs, ballots, budget) -> set[str]:
    instance, profile = build(costs, ballots, budget)
    return names(method_of_equal_shares(instance, profile, sat_class=Cost_Sat))


def mes_add1(costs, ballots, budget) -> set[str]:
    instance, profile = build(costs, ballots, budget)
    return names(
        exhaustion_by_budget_increase(
            instance,
            profile,
            method_of_equal_shares,
            {"sat_class": Cost_Sat},
            exhaustive_stop=False,
            budget_step=profile.num_ballots(),
        )
    )


def mes_greedy(costs, ballots, budget) -> set[str]:
    instance, profile = build(costs, ballots, budget)
    return names(
        completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat}, {"sat_class": Cost_Sat}],
        )
    )


__all__ = ["Fraction", "build", "greedy_by_votes", "mes_add1", "mes_greedy", "mes_plain"]


def mes_points(costs, ballots, budget, add1=False) -> set[str]:
    """MES with points utilities (Additive_Cardinal_Sat) on cumulative ballots."""
    from pabutools.election import Additive_Cardinal_Sat, CumulativeBallot, CumulativeProfile

    projects = {pid: PabuProject(pid, cost) for pid, cost in costs.items()}
    instance = Instance(projects.values(), budget_limit=budget)
    profile = CumulativeProfile(
        [CumulativeBallot({projects[p]: pts for p, pts in b.items()}) for b in ballots]
    )
    if not add1:
        return names(method_of_equal_shares(instance, profile, sat_class=Additive_Cardinal_Sat))
    return names(
        exhaustion_by_budget_increase(
            instance,
            profile,
            method_of_equal_shares,
            {"sat_class": Additive_Cardinal_Sat},
            exhaustive_stop=False,
            budget_step=profile.num_ballots(),
        )
    )


def checker_errors(text: str) -> dict:
    """Errors Pabulib's own checker (pabulib-checker) finds in a file's text."""
    from pabulib.checker import Checker

    report = Checker().process_files([text])
    (entry,) = [v for k, v in report.items() if k not in ("metadata", "summary")]
    return entry["results"]["errors"]
