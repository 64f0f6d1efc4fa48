"""add1's walk over stretches returns exactly what one-increment-at-a-time add1 returns.

The reference below is add1 by its definition (pabutools' ``exhaustion_by_budget_increase``
with ``exhaustive_stop=False``): run MES at increments 0, 1, 2, … and keep the outcome before
the first that does not fit. MES itself is compared with pabutools elsewhere
(test_against_pabutools.py); here the add1 layer is: the proof that a run vouches for the
increments below it (mes.Trace), and the walk's guesses, which may be wrong but never skip an
increment nobody vouched for.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicvote.allocation import add1, mes
from civicvote.allocation.add1 import equal_shares
from civicvote.allocation.guesses import price_at
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
@given(small_unit_elections())
def test_walk_equals_plain_stepping(election):
    costs, ballots, budget = election
    inp, _ids = compiled(costs, ballots)
    want = plain_add1(inp, budget)
    report: dict = {}
    run, _k = equal_shares(inp, Fraction(budget), add1=True, report=report)
    assert want is not None  # the first run always fits the budget
    assert set(run.selected) == set(want)
    assert report["exact"]


@SETTINGS
@given(small_unit_elections(), st.sampled_from([0, 1, 3]))
def test_search_equals_plain_stepping_where_it_checked_everything(election, exact_runs):
    """The search after a walk cut short: its probes and the walks between them."""
    costs, ballots, budget = election
    inp, _ids = compiled(costs, ballots)
    report: dict = {}
    run, _k = equal_shares(inp, Fraction(budget), add1=True, exact_runs=exact_runs, report=report)
    if report.get("unchecked_increments", 0) == 0:
        assert set(run.selected) == set(plain_add1(inp, budget))


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
    run, _k = equal_shares(inp, Fraction(budget), add1=True, fits=fits)
    if want is None:  # even the first outcome is refused: kept, for the caller to report
        assert frozenset(run.selected) == refused
    else:
        assert set(run.selected) == set(want)


def test_the_walk_skips_what_runs_vouch_for():
    """A long sequence of increments is walked in stretches, not stepped one by one."""
    costs = {p: c for p, c in zip("ABCDEF", (900, 700, 650, 400, 300, 120), strict=True)}
    ballots = [{"A", "B"}, {"B", "C"}, {"C"}, {"D", "E"}, {"A", "F"}, {"F"}, {"E"}, {"A"}]
    inp, _ids = compiled(costs, ballots)
    report: dict = {}
    run, k = equal_shares(inp, Fraction(2000), add1=True, report=report)
    assert set(run.selected) == set(plain_add1(inp, 2000))
    assert 0 < k <= 2000
    assert report["exact"] and report["stretches"] <= report["runs"] < k / 4, report


def test_a_search_walks_on_to_its_end_when_the_walk_gets_there_in_time():
    """Cut short after one run, the walk goes on from where it stood to where the search
    ended, as its pace says it arrives within the work allowed: the result is proven."""
    costs = {p: c for p, c in zip("ABCDEF", (900, 700, 650, 400, 300, 120), strict=True)}
    ballots = [{"A", "B"}, {"B", "C"}, {"C"}, {"D", "E"}, {"A", "F"}, {"F"}, {"E"}, {"A"}]
    inp, _ids = compiled(costs, ballots)
    report: dict = {}
    run, _k = equal_shares(inp, Fraction(2000), add1=True, exact_runs=1, report=report)
    assert report["probes"] > 0 and report["walked_on"], report
    assert report["exact"] and report["unchecked_increments"] == 0, report
    assert set(run.selected) == set(plain_add1(inp, 2000))


@st.composite
def mid_size_elections(draw):
    """Dozens to hundreds of voters with skewed tastes: close runner-ups whose prices fall
    with the budget, so that runs vouch by the slope check too (stretch.Slopes), not only the
    plain one. Utilities: the cost (approval), one (approval by count) or points."""
    projects = draw(st.integers(3, 8))
    costs = [draw(st.integers(50, 3000)) for _ in range(projects)]
    kind = draw(st.sampled_from(["cost", "count", "points"]))
    points = [draw(st.integers(1, 5)) for _ in range(projects)]
    taste = st.lists(st.integers(0, projects - 1), min_size=1, max_size=projects)
    ballots = draw(st.lists(taste.map(set), min_size=20, max_size=160))
    rows = [
        [(p, Fraction({"cost": costs[p], "count": 1, "points": points[p]}[kind])) for p in b]
        for b in ballots
    ]
    inp = compile_input([Fraction(c) for c in costs], rows, [1] * len(rows), list(range(projects)))
    return inp, draw(st.integers(sum(costs) // 4, sum(costs)))


def in_swapped_order(rounds, low_rounds, swaps) -> bool:
    """Whether ``rounds`` are ``low_rounds`` with any of the pairs of rounds ``r, r + 1``
    (``r`` in ``swaps``) traded: what a run that vouches with ``swaps`` promises."""
    want = list(low_rounds)
    for r in swaps:
        if r + 1 < len(rounds) and rounds[r] != low_rounds[r]:
            want[r], want[r + 1] = want[r + 1], want[r]
    return list(rounds) == want


# Two runs of a mid-size election: at increment i, and span increments on (each 1/parts of a
# unit per voter), checked against the first with swaps or not, pricing from it or not.
TWO_RUNS = given(
    mid_size_elections(),
    st.integers(0, 300),
    st.integers(1, 120),
    st.sampled_from([1, 3]),
    st.booleans(),
    st.booleans(),
)
TWO_RUNS_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@TWO_RUNS_SETTINGS
@TWO_RUNS
def test_a_run_vouches_only_for_budgets_that_select_the_same(election, i, span, parts, swaps, near):
    """The proof itself (civicvote/allocation/stretch.py): whenever a run at increment j,
    checked against the run at i, says every increment in between selects the same projects
    in the same order (with ``swaps``: or with the swaps it lists), each of them really does.
    With ``near``, the run at j prices from what the run at i gathered, as add1's walk lets a
    run do from the one before it."""
    inp, budget = election
    prep, base, step = _Prepared(inp), Fraction(budget) / inp.num_voters, Fraction(1, parts)
    low, low_trace = run_mes(inp, base + i * step, prep, money=False)
    x = base + (i + span) * step
    _high, high = run_mes(
        inp, x, prep, money=False, against=low_trace, swaps=swaps, near=low_trace if near else None
    )
    assert swaps or not high.swaps
    if high.certified:
        for k in range(i, i + span + 1):
            rounds = run_mes(inp, base + k * step, prep, money=False)[1].rounds
            assert in_swapped_order(rounds, low_trace.rounds, high.swaps), k


def small_unit_city(projects: int, voters: int, budget: int, seed: int, approvals: int = 15):
    """bench/allocation.py's small-unit shape: skewed tastes, 1 to ``approvals`` approvals,
    costs in small units asking about three times the budget."""
    rng = random.Random(seed)
    weights = [1 / (p + 1) ** 0.8 for p in range(projects)]
    rng.shuffle(weights)
    raw = [rng.lognormvariate(0, 0.9) for _ in range(projects)]
    costs = [max(1000, int(r * budget * 3.2 / sum(raw))) for r in raw]
    choose = range(projects)
    ballots = [
        set(rng.choices(choose, weights, k=rng.randint(1, approvals))) for _ in range(voters)
    ]
    rows = [[(p, Fraction(costs[p])) for p in ballot] for ballot in ballots]
    ranks = list(range(projects))
    return compile_input([Fraction(c) for c in costs], rows, [1] * voters, ranks), budget


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mid_size_elections(), st.integers(0, 400), st.integers(-40, 400), st.booleans())
def test_pricing_from_a_run_at_another_budget_changes_nothing(election, i, shift, money):
    """A run that prices from another run's record (run_mes's ``near``: the same classes, other
    budgets) selects the same projects in the same order, with the same ties, exact prices and
    money left, as a run that gathers every price itself; wherever the classes or who pays
    all they have differ between the two budgets, it must notice (near or far)."""
    inp, budget = election
    prep, base = _Prepared(inp), Fraction(budget) / inp.num_voters
    other = run_mes(inp, base + i, prep, money=False)[1]
    x = base + max(0, i + shift)
    plain, plain_trace = run_mes(inp, x, prep, money=money)
    reusing, trace = run_mes(inp, x, prep, money=money, near=other)
    assert reusing == plain and trace.rounds == plain_trace.rounds
    # Floats (guesses for add1, never part of a proof) may round otherwise in the last bits.
    assert trace.lack == pytest.approx(plain_trace.lack, rel=1e-9, abs=1e-9)


def test_a_run_right_after_another_prices_from_it_and_gets_its_own_result():
    """On a 1,500-voter city election, the run one increment after another, and the run two
    hundred after it, price from that run's record where it still holds: most prices in the
    first, fewer in the second (the classes part ways earlier); both give what a run that
    gathers every price itself gives, to the exact prices and money left."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=3)
    prep, base = _Prepared(inp), Fraction(budget, inp.num_voters)
    near = run_mes(inp, base + 500, prep, money=False)[1]
    reused = []
    for k in (501, 700):
        plain = run_mes(inp, base + k, prep)[0]
        reusing, trace = run_mes(inp, base + k, prep, near=near)
        assert reusing == plain, k
        reused.append(trace.reused)
    priced = sum(len(prices) for prices in near.priced)
    assert reused[0] > priced // 2 and 0 < reused[1] < reused[0], (reused, priced)


def test_a_run_prices_from_another_past_where_their_voters_run_out_of_money_differently():
    """Five increments after a run, voters who paid all they had there keep money here (and
    so form classes the other run does not have) from the seventh round on, before most
    prices. The run still prices nearly every project from the other's record, those classes
    added, and gets what a run that gathers every price itself gets, to the exact prices and
    money left."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=3)
    prep, base = _Prepared(inp), Fraction(budget, inp.num_voters)
    near = run_mes(inp, base + 500, prep, money=False)[1]
    reusing, trace = run_mes(inp, base + 505, prep, near=near)
    assert reusing == run_mes(inp, base + 505, prep)[0]
    assert trace.rounds == near.rounds
    kept_here = [parents.size for parents, _ in trace.value.made]
    kept_there = [parents.size for parents, _ in near.value.made]
    pairs = zip(kept_here, kept_there, strict=True)
    parted = next(r for r, (a, b) in enumerate(pairs) if a != b)
    priced = sum(len(prices) for prices in trace.priced)
    later = sum(len(prices) for prices in trace.priced[parted + 1 :])
    assert later > priced // 2, (parted, later, priced)
    assert trace.reused >= priced - 3, (trace.reused, priced)  # 6 when such classes stopped it


def test_exact_money_is_the_same_from_the_table_of_payments_or_from_each_class(monkeypatch):
    """Exact money left (every project's, and the prices deferred to the end) sums each item's
    price over the voters who paid it: counted from a table of which items each class paid,
    or, where that table would be too large (points ballots with many items), by walking each
    class's path of payments. Both give the same run to the last fraction."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=3)
    prep, x = _Prepared(inp), Fraction(budget, inp.num_voters) + 700
    by_table = run_mes(inp, x, prep)[0]
    monkeypatch.setattr(mes, "_TABLE_LIMIT", 0)
    by_path = run_mes(inp, x, prep)[0]
    assert by_path == by_table and len(by_table.selected) > 5
    assert sum(by_table.supporters_money) > 0


def vouched_and_confirmed(i: int, j: int):
    """On a 1,500-voter city election: the run at increment ``j`` must vouch for every
    increment from ``i``, and each of them, run, must select the same. Returns its trace."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=3)
    prep, base = _Prepared(inp), Fraction(budget, inp.num_voters)
    low, low_trace = run_mes(inp, base + i, prep, money=False)
    _high, high_trace = run_mes(inp, base + j, prep, money=False, against=low_trace)
    assert high_trace.certified
    for k in range(i, j + 1):
        assert run_mes(inp, base + k, prep, money=False)[0].selected == low.selected, k
    return high_trace


def test_the_slope_check_vouches_where_the_plain_one_cannot_and_rightly():
    """On a 1,500-voter election a runner-up's price falls below what the winner paid 64
    increments earlier, so only the slope check can vouch for the stretch; every increment in
    it is run to confirm."""
    high_trace = vouched_and_confirmed(500, 564)
    assert high_trace.by_slope >= 1


def test_the_widening_check_vouches_where_the_slope_check_cannot_and_rightly():
    """Further on in the same election, over 256 increments, a runner-up stays too close to
    its round's winner for the slope check, but the winner's price falls faster at every
    budget in between, so the runner-up's lead only widens as the budget grows (the widening
    check, stretch.Slopes.widening); every increment in the stretch is run to confirm."""
    high_trace = vouched_and_confirmed(1450, 1706)
    assert high_trace.by_widening >= 1


def test_the_widening_check_takes_the_slowest_fall_of_the_winners_price():
    """Projects 3 and 4 trade places at increment 8 and back at 24: the runs at 5 and at
    24 to 27 select alike, with the order otherwise in between. Found by searching small
    elections with the widening check taking the winner's fastest fall over the stretch
    instead of its slowest; then the runs at 24 to 27 vouched for 5 onwards."""
    costs = [314, 102, 285, 70, 179, 183, 196]
    ballots = [
        [3, 1, 5, 0],
        [6],
        [5, 0, 2, 4, 1, 6],
        [0, 3, 6],
        [1, 4, 6],
        [2, 4, 6, 1],
        [4, 2, 1],
        [0, 3],
        [1, 2, 0],
        [2, 1, 4, 5, 0, 3, 6],
    ]
    rows = [[(p, Fraction(costs[p])) for p in ballot] for ballot in ballots]
    inp = compile_input([Fraction(c) for c in costs], rows, [1] * len(rows), list(range(7)))
    prep, base = _Prepared(inp), Fraction(982, len(rows))
    low, low_trace = run_mes(inp, base + 5, prep, money=False)
    assert run_mes(inp, base + 8, prep, money=False)[0].selected != low.selected
    for j in (24, 25, 26, 27):
        high, high_trace = run_mes(inp, base + j, prep, money=False, against=low_trace)
        assert high.selected == low.selected and not high_trace.certified, j


def test_a_run_vouches_across_two_projects_that_trade_places_leaving_the_same_money():
    """On a 1,500-voter election (1-3 approvals) two projects bought in rounds 5 and 6 trade
    places between increments 3,350 and 3,385. Voters who support both pay both in full on
    either side, so everyone has the same money after both and the rest goes the same way:
    with ``swaps`` the run at 3,385 vouches across the change, and every increment run
    selects the same projects in one of the two orders. Without, it cannot vouch."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=4, approvals=3)
    prep, base = _Prepared(inp), Fraction(budget, inp.num_voters)
    low = run_mes(inp, base + 3350, prep, money=False)[1]
    high = run_mes(inp, base + 3385, prep, money=False, against=low, swaps=True)[1]
    assert high.certified and high.swaps == [5]
    assert prep.both(low.rounds[5], low.rounds[6]).size > 0  # their supporters overlap
    assert not run_mes(inp, base + 3385, prep, money=False, against=low)[1].certified
    orders = [run_mes(inp, base + k, prep, money=False)[1].rounds for k in range(3350, 3386)]
    assert all(in_swapped_order(rounds, low.rounds, high.swaps) for rounds in orders)
    assert orders[-1] != low.rounds  # the two really trade places in between


def test_the_walk_passes_over_projects_that_trade_places_leaving_the_same_money():
    """On a 1,500-voter election with 1-3 approvals, the walk that may vouch across such
    swaps (add1's default test of an outcome, its total cost) and the one that may not (the
    same test passed in, as fund sources pass theirs) end at the same increment with the
    same projects; the first needs far fewer runs."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=6, approvals=3)
    swapping, strict = {}, {}
    got = equal_shares(inp, budget, add1=True, exact_runs=math.inf, report=swapping)

    def fits(selection):
        return sum(inp.costs[p] for p in selection) <= budget

    want = equal_shares(inp, budget, add1=True, fits=fits, report=strict)
    assert got[1] == want[1] and set(got[0].selected) == set(want[0].selected)
    assert swapping["exact"] and swapping["runs"] * 4 < strict["runs"] * 3, (swapping, strict)


def test_no_swap_is_let_through_where_supporters_of_both_run_out():
    """Projects 1 and 3 are bought in rounds 1 and 2 at increment 26 and the other way round
    at 36, but from 27 to 35 project 1 is not bought at all: voters who support both ran
    out of money at 26, so the order of the two changes what everyone has left. Found by
    searching small elections with the check that supporters of both pay both in full taken
    out; then the run at 36 vouched for 26 onwards."""
    costs = [311, 52, 150, 80]
    ballots = [[3, 2, 1, 0], [3], [3], [0, 2, 1, 3], [0, 1], [0], [0], [1, 3, 0, 2], [3, 2, 0, 1]]
    rows = [[(p, Fraction(costs[p])) for p in ballot] for ballot in ballots]
    inp = compile_input([Fraction(c) for c in costs], rows, [1] * len(rows), list(range(4)))
    prep, base = _Prepared(inp), Fraction(266, len(rows))
    low = run_mes(inp, base + 26, prep, money=False)[1]
    assert low.rounds == [0, 1, 3]
    assert run_mes(inp, base + 30, prep, money=False)[1].rounds == [0, 3]
    high = run_mes(inp, base + 36, prep, money=False, against=low, swaps=True)[1]
    assert high.rounds == [0, 3, 1] and not high.certified


def random_small_election(rng: random.Random):
    """A small approval election whose order of winners changes every few increments."""
    projects = rng.randint(3, 7)
    costs = [rng.randint(20, 400) for _ in range(projects)]
    voters = rng.randint(2, 12)
    rows = [
        [(p, Fraction(costs[p])) for p in rng.sample(range(projects), rng.randint(1, projects))]
        for _ in range(voters)
    ]
    inp = compile_input([Fraction(c) for c in costs], rows, [1] * voters, list(range(projects)))
    return inp, rng.randint(sum(costs) // 4, sum(costs))


def test_no_run_vouches_across_an_order_that_changes_and_comes_back():
    """The adversary's case for the proof: the order at i and at j is the same, but some
    increment in between selects otherwise (it happens in about one small election in ten).
    A run at j must never vouch for i..j there, whatever the shortcut; with ``swaps``, only
    where every order in between is one it lets through."""
    rng = random.Random(5)
    caught = 0
    for _ in range(160):
        inp, budget = random_small_election(rng)
        prep, base = _Prepared(inp), Fraction(budget, inp.num_voters)
        runs = [run_mes(inp, base + k, prep, money=False) for k in range(90)]
        for i in range(90):
            for j in range(i + 2, min(90, i + 50)):
                low, top = runs[i][1].rounds, runs[j][1].rounds
                if sorted(top) != sorted(low):
                    continue
                between = [runs[k][1].rounds for k in range(i, j)]
                if not any(rounds not in (low, top) for rounds in between):
                    continue
                if top == low:
                    against = run_mes(inp, base + j, prep, money=False, against=runs[i][1])
                    assert not against[1].certified, (inp, budget, i, j)
                high = run_mes(inp, base + j, prep, money=False, against=runs[i][1], swaps=True)
                assert not high[1].certified or all(
                    in_swapped_order(rounds, low, high[1].swaps) for rounds in between
                ), (inp, budget, i, j)
                caught += 1
    assert caught >= 10  # the corpus really holds such orders


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


def test_the_walk_stops_at_the_first_increment_over_budget_in_non_monotone_sequences():
    for costs, ballots, budget in NON_MONOTONE:
        inp, _ids = compiled(costs, ballots)
        want = plain_add1(inp, budget)
        for exact_runs in (0, 1, 2, 64):
            report: dict = {}
            run, k = equal_shares(
                inp, Fraction(budget), add1=True, exact_runs=exact_runs, report=report
            )
            assert report.get("unchecked_increments", 0) == 0, report
            assert set(run.selected) == set(want), (costs, exact_runs)
            assert k == 4, (costs, exact_runs, k)


def test_parts_proven_at_once_stop_at_the_first_increment_over_budget():
    """--prove's processes each walk a part of the increments. The search's probes land on 8,
    which fits, past 5, which does not: the part holding 5 must find it and decide, not the
    probes. With no walk before the parts, everything is proven in parts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(add1, "PARTS_AFTER_WORK", 0)
        for costs, ballots, budget in NON_MONOTONE:
            inp, _ids = compiled(costs, ballots)
            want = plain_add1(inp, budget)
            report: dict = {}
            run, k = equal_shares(
                inp, Fraction(budget), add1=True, exact_runs=math.inf, workers=2, report=report
            )
            assert report["parts"] >= 5 and report["exact"], report
            assert set(run.selected) == set(want) and k == 4, (costs, k)


def test_parts_proven_at_once_end_where_everything_is_funded():
    """The walk ends add1 at the first increment that funds every project (7 here). Cut into
    parts, that increment can be the last of a part: add1 still ends there, not one later
    where the next part starts (it did, with five parts per process)."""
    inp, _ids = compiled({"A": 17, "B": 16}, [{"A", "B"}, {"B"}])
    run, k = equal_shares(inp, Fraction(37), add1=True, exact_runs=math.inf)
    assert len(run.selected) == 2 and k == 7
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(add1, "PARTS_AFTER_WORK", 0)
        for per_worker in range(1, 7):
            patch.setattr(add1, "PARTS_PER_WORKER", per_worker)
            report: dict = {}
            got = equal_shares(
                inp, Fraction(37), add1=True, exact_runs=math.inf, workers=2, report=report
            )
            assert report["parts"] > 1 and got == (run, k), per_worker


@settings(SETTINGS, max_examples=40)
@given(small_unit_elections())
def test_parts_proven_at_once_equal_plain_stepping(election):
    costs, ballots, budget = election
    inp, _ids = compiled(costs, ballots)
    report: dict = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(add1, "PARTS_AFTER_WORK", 0)
        run, _k = equal_shares(
            inp, Fraction(budget), add1=True, exact_runs=math.inf, workers=2, report=report
        )
    assert set(run.selected) == set(plain_add1(inp, budget))
    assert report["exact"] and report.get("unchecked_increments", 0) == 0


def test_choose_one_aims_at_where_a_project_becomes_affordable():
    """In a choose-1 election supporters never overlap, so prices do not move with the budget:
    what changes is which projects their supporters can afford. The walk extrapolates what
    each project left out lacks and runs just there, instead of halving its way to it."""
    counts = {"A": 9, "B": 7, "C": 6, "D": 5, "E": 4, "F": 3, "G": 2, "H": 2}
    costs = {"A": 3100, "B": 2900, "C": 2600, "D": 2500, "E": 2300, "F": 1900, "G": 1500}
    costs["H"] = 1700
    ballots = [{p} for p, n in counts.items() for _ in range(n)]
    inp, _ids = compiled(costs, ballots)
    budget = 6000
    report: dict = {}
    run, k = equal_shares(inp, Fraction(budget), add1=True, report=report)
    assert set(run.selected) == set(plain_add1(inp, budget))
    assert report["exact"] and report["stretches"] >= 3, report
    assert report["runs"] <= 5 * report["stretches"], report  # 43 runs when it halved


def test_the_walk_aims_at_where_a_project_stays_within_reach(without_cost_bounds):
    """Here the order changes where a project that ran out of reach in a middle round (its
    supporters had paid for others) keeps enough money to win a later one. Neither run around
    the change priced it there, so the walk interpolates what its supporters lacked, and runs
    where that closes, instead of halving its way to the change. (Without cost bounds, which
    would pass over the change here: test_add1_leaps.py.)"""
    costs = {"A": 10537, "B": 14736, "C": 9047, "D": 6040, "E": 2091, "F": 2545}
    ballots = [{"F", "A"}, {"C", "A"}, {"B"}, {"C", "B", "E"}, {"C", "B", "A"}]
    inp, _ids = compiled(costs, ballots)
    budget = 15071
    report: dict = {}
    run, _k = equal_shares(inp, Fraction(budget), add1=True, report=report)
    assert set(run.selected) == set(plain_add1(inp, budget))
    assert report["exact"] and report["stretches"] == 3, report
    assert report["runs"] <= 24, report  # 37 runs when it halved


@pytest.mark.parametrize(("seed", "most"), [(1, 138), (3, 69)])
def test_the_walk_aims_where_prices_at_its_last_run_say_the_order_changes(seed, most):
    """Each run of a stretch, its first included, goes where the prices and money of the
    last run that vouched, moving at the pace they move there, say a runner-up catches up
    with a winner or a project comes within reach. On these elections: 135 and 66 runs;
    with straight lines from each price's slope (not bending where who pays all changes),
    136 and 73; extrapolating from two runs instead took 147 and 90; without a guess for a
    stretch's first run (one increment on), 165 and 85; without one after a run that
    vouched (twice as far), 163 and 120. Guesses cost runs, never exactness."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=seed)
    report: dict = {}
    equal_shares(inp, Fraction(budget), add1=True, exact_runs=math.inf, report=report)
    assert report["exact"] and report["runs"] <= most, report


def test_prices_worked_out_again_along_the_way_bend_as_the_real_ones_do():
    """Where a runner-up meets its winner is guessed from one run's record of who supports
    each project, every class's money moving at its pace (``guesses.price_at``): at the run's
    own budget that gives its prices exactly, and twenty units per voter on, the prices a
    run there finds, over three times closer than each price's straight line from its
    slope (who pays all they have changes on the way, and the price bends)."""
    inp, budget = small_unit_city(30, 1500, 10_000_000, seed=3)
    prep, x = _Prepared(inp), Fraction(budget, inp.num_voters) + 500
    here = run_mes(inp, x, prep, money=False)[1]
    there = run_mes(inp, x + 20, prep, money=False)[1]
    bent, straight = [], []
    for rnd, prices in enumerate(here.priced):
        for p, price in prices.items():
            assert price_at(here, rnd, p, 0.0) == price
        if there.rounds[: rnd + 1] != here.rounds[: rnd + 1]:
            break
        for p, price in there.priced[rnd].items():
            if p in prices:
                bent.append(abs(price_at(here, rnd, p, 20.0) - price) / price)
                straight.append(abs(prices[p] + here.slope[rnd][p] * 20 - price) / price)
    assert len(bent) > 10 and max(bent) < 2e-4
    assert 3 * max(bent) < max(straight), (max(bent), max(straight))


def test_where_the_order_changes_at_nearly_every_increment_the_walk_steps(without_cost_bounds):
    """Here four stretches in a row are under four increments long on average: proofs cost
    more than they save, so the walk runs the next increments one by one, plainly. Its result
    is still one-step add1's. (Without cost bounds: the outcomes here cost well under the
    budget, and runs vouch by bounding them over many changes of order.)"""
    costs = {"A": 277, "B": 141, "C": 76, "D": 76, "E": 71, "F": 88, "G": 198}
    ballots = [set("FBAGCE"), {"E"}, set("CGBFDA"), set("FEGBD")]
    inp, _ids = compiled(costs, ballots)
    report: dict = {}
    run, _k = equal_shares(inp, Fraction(428), add1=True, exact_runs=math.inf, report=report)
    assert run.selected == plain_add1(inp, 428)
    assert report["exact"] and report["stepped"] >= 8, report


def test_a_search_ends_where_everything_is_funded_as_the_walk_does():
    """Everything fits the budget here, and every project is funded from increment 6: the
    walk ends add1 there. A search that checks the stretch up to its next probe must end
    there too, not at the probe after it, while it says its result is exact."""
    inp, _ids = compiled({"A": 60, "B": 41, "C": 16, "D": 57}, [{"B", "C"}, {"D", "C"}])
    walked, k = equal_shares(inp, Fraction(119), add1=True, exact_runs=math.inf)
    assert k == 6 and len(walked.selected) == 3
    for exact_runs in (0, 1, 2):
        report: dict = {}
        got = equal_shares(inp, Fraction(119), add1=True, exact_runs=exact_runs, report=report)
        assert report["exact"] and got == (walked, k), (exact_runs, got[1], report)
