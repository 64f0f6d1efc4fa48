"""MES with the budget split equally, and add1: equalshares.net's completion.

add1 (pabutools' ``exhaustion_by_budget_increase`` with ``exhaustive_stop=False``) runs MES
with every voter's budget raised by 0, 1, 2, … steps and returns the outcome just before the
*first* increment whose outcome does not fit (or the last one within pabutools' bound).

Elections with budgets in small units need thousands of increments, but the order in which
MES selects projects changes far less often. So add1 *walks in stretches*: from a run at
increment ``k`` it looks for the last increment ``j`` that runs prove select the same projects
in the same order at every increment in between (:mod:`civicvote.allocation.stretch`; or in
orders that differ only by two projects trading places where that leaves everyone the same
money, as add1 asks only which projects an outcome holds), and starts the next stretch at
``j + 1``. Every increment is covered by a proof or a run of its own, so the walk's result is
exactly one-step add1's, whatever the shape of the outcomes (the total cost of MES's outcome
is not monotone in the budget: tests/allocation/test_add1_exact.py).

Where every outcome costs well under the budget, the order of winners need not be followed:
a run far ahead whose checks bound the cost of every outcome in between within the budget
vouches that they all fit, whatever they buy (a *leap*: :meth:`_Walk.leap_over`,
:func:`civicvote.allocation.stretch.outcome_cost_bound`).

The walk costs about four runs per change of order (two at the least); where the order
changes at nearly every increment, it steps through the increments instead, one plain run
each. Where the order changes hundreds of times (the largest city elections), it stops after
the runs ``EXACT_WORK`` allows and :func:`_search` gallops and bisects over the rest. If the
walk's pace says it reaches the search's end well within ``FINISH_WORK``, it walks on there;
else it checks the stretches between the search's probes for the runs ``CHECK_WORK`` allows,
and increments no proof reached are reported as ``unchecked_increments`` (docs/recount.md says
what that means and how to recount them). A proof asked for (``exact_runs=math.inf``) may be
walked in parts by several processes at once (``workers``): the same result, sooner on several
cores.
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from civicvote.allocation.guesses import ahead, crossing, first_change
from civicvote.allocation.mes import MESInput, MESRun, _Prepared, run_mes
from civicvote.allocation.stretch import Trace

# Work (what runs cost, counted as they go: mes.CALL_WORK) for the exact walk before add1
# searches instead, and for checking the search. Small elections get thousands of runs, the
# largest a few dozen. At 10 ns a unit, the walk has 2 s, the check 1 s.
EXACT_WORK = 200_000_000
CHECK_WORK = 100_000_000
# With ``--prove`` on several cores, the walk goes this far in one process before it splits
# what is left among processes (:func:`_walk_in_parts`): enough for most elections to end
# without forking, while the largest no longer keep one core idle for all of EXACT_WORK
# (on the 175 x 28,943 instance, 52 runs in one process before, 8 now).
PARTS_AFTER_WORK = EXACT_WORK // 8
# Once the search has found where add1 ends, the walk goes on to there if its pace so far says
# it arrives within this much work in all (5.6 s): a proven result for a few more runs. It
# also bounds add1 as a whole, whatever the shape of the election.
FINISH_WORK = 560_000_000
# ... if its pace says it arrives within this share of the work that leaves: the walk slows
# where changes of order come closer together. The benchmark's proven walks-on are paced at
# 0.36 (60 x 3,000) and 0.42 (150 x 100,000); 1-2 approvals (seed 1), paced at 0.95 and then
# 0.73 as the walk got faster, spent all of it and still left increments unchecked, in 8.5 s
# on a slow day instead of a 4.7 s search (with later guesses, just under 0.6: it walks on
# and is proven).
PACE_MARGIN = 0.6
# How many increments a proof is first trusted to reach (its bounds loosen with distance).
FIRST_REACH = 64
# Where the order changes at nearly every increment, proofs cost more than they save: each
# run checked against another costs a quarter more than a plain run, and vouches for next to
# nothing. So where the last STEP_AFTER stretches were under STEP_BELOW increments long on
# average, the walk steps through STEP_FOR times as many increments as they covered, one plain
# run each. On the 150 x 100,000 instance (175 increments, the order changing at most of
# them): 5.1-5.2 s instead of 6.2-6.6 s on the same machine, 190 runs either way.
STEP_AFTER = 4
STEP_BELOW = 4
STEP_FOR = 4
# Leaps (_Walk.leap_over): the first goes this many increments; each that vouches doubles the
# next, each that does not halves it (a run lost), and none go below LEAP_LEAST, or from an
# outcome that costs more than LEAP_BELOW of the budget, where cost bounds rarely come within
# it. Exact walk runs on the 175 x 28,943 instances (seeds 1 and 2): 434 and 388 as set; 426
# and 437 from under 17/20; 436 and 388 from under 19/20; 450 and 448 down to 32 increments;
# 424 and 398 from 1,024; 429 and 396 from 256.
FIRST_LEAP = 512
LEAP_LEAST = 8
LEAP_BELOW = Fraction(9, 10)
# A run within this many increments of the last reuses what that one gathered while the two
# buy the same winners (run_mes's ``near``): a run right after another (just before and just
# after a change of order) shares most of its rounds with it, and their classes mostly.
NEAR = 16


def equal_shares(
    inp: MESInput,
    budget: Fraction,
    *,
    add1: bool = False,
    step: Fraction = Fraction(1),
    fits: Callable[[Sequence[int]], bool] | None = None,
    exact_runs: int | float | None = None,
    report: dict | None = None,
    workers: int = 1,
) -> tuple[MESRun, int]:
    """MES with the budget split equally; with ``add1``, the equalshares.net completion.

    ``add1`` raises every voter's budget by ``step`` at a time and keeps the last outcome that
    still ``fits`` (default: total cost <= ``budget``), stopping at the first that does not,
    like pabutools' ``exhaustion_by_budget_increase(..., exhaustive_stop=False,
    budget_step=step * num_voters)``, whose budget bound we also honour.

    The walk is exact. After ``EXACT_WORK`` (or, if given, ``exact_runs`` runs; ``math.inf``
    walks to the end, however long that takes) it searches instead,
    unless a caller's ``fits`` (fund sources with restrictions) is given: such a test need
    not behave like a budget, so the walk goes on. ``report``, if given, receives what the
    walk and the search did. Returns the chosen run and its increment.

    ``workers`` > 1 with ``exact_runs=math.inf``: past ``PARTS_AFTER_WORK``, the walk is
    split into parts that as many processes walk at once (:func:`_walk_in_parts`); the
    result is the same, in less time on a machine with as many cores.
    """
    n = inp.num_voters
    budget = Fraction(budget)
    if n == 0:
        return MESRun(Fraction(0), (), (), (), tuple(Fraction(0) for _ in inp.costs)), 0
    prep = _Prepared(inp)
    base = budget / n
    first, trace = run_mes(inp, base, prep, money=not add1)
    if not add1:
        return first, 0
    searchable = fits is None
    if fits is None:

        def fits(sel: Sequence[int]) -> bool:
            return sum(inp.costs[p] for p in sel) <= budget

    if not fits(first.selected):
        # Only with restricted sources: even the first outcome cannot be paid. Keep it and
        # let the caller report what does not fit (pabutools would return nothing).
        return run_mes(inp, base, prep)[0], 0
    last = math.floor(budget / Fraction(step))  # pabutools' bound: budget * (voters + 1)
    walk = _Walk(inp, prep, base, Fraction(step), fits, trace, budget if searchable else None)
    parts = searchable and exact_runs == math.inf and workers > 1 and _can_fork()
    if not searchable:
        found = walk.first_misfit(0, first, trace, last)
    elif parts:
        found = walk.first_misfit(0, first, trace, last, work=PARTS_AFTER_WORK)
    elif exact_runs is None:
        found = walk.first_misfit(0, first, trace, last, work=EXACT_WORK)
    else:
        found = walk.first_misfit(0, first, trace, last, runs=exact_runs)
    search: dict = {}
    if found is not None:
        k = found - 1
    elif parts:
        k = _walk_in_parts(walk, last, workers, search)
    else:
        k = _search(walk, last, search)
    # Exact: the walk went all the way, or the search's walks left nothing unchecked.
    search["exact"] = search.get("unchecked_increments", 0) == 0
    if report is not None:
        report.update(
            search,
            runs=walk.runs + 1,
            stretches=walk.stretches,
            stepped=walk.stepped,
            leaps=walk.leaps,
        )
    final = run_mes(inp, base + k * walk.step, prep)[0]  # the same selection, with money left
    return final, k


class _Walk:
    """add1's increments, one stretch of outcomes with the same projects at a time."""

    def __init__(
        self,
        inp: MESInput,
        prep: _Prepared,
        base: Fraction,
        step: Fraction,
        fits,
        first: Trace,
        budget: Fraction | None = None,
    ):
        """``budget``: where ``fits`` is the total cost within it (else None)."""
        self.inp, self.prep, self.base, self.step, self.fits = inp, prep, base, step, fits
        # Whether a stretch may hold outcomes in orders that differ by commuting swaps: only
        # when ``fits`` asks for no more than the set of projects (the total cost does).
        self.swaps = budget is not None
        self.everything = len(prep.candidates) + len(prep.free)
        self.runs = self.stretches = self.leaps = 0
        self.recent: list[int] = []  # the lengths of the last stretches, in increments
        self.steps_left = 0  # increments to step through, one plain run each
        self.stepped = 0  # increments stepped through so far
        self.work = first.work  # what the runs so far cost, the first one included
        self.reach = FIRST_REACH
        # The same, for a stretch's first long run: a proof reaches less far from where two
        # projects just changed places, so this one is learnt apart.
        self.opening_reach = FIRST_REACH
        # Where the walk stands: every increment up to ``at`` fits; ``at_run`` is run there.
        self.at: int = 0
        self.at_run: tuple[MESRun, Trace] | None = None
        self.last: tuple[int, Trace] = (0, first)  # the last run, which the next may reuse
        # Runs may vouch by bounding what outcomes cost (:meth:`fit_between`) only where the
        # total cost decides, and an outcome within the budget cannot fund everything, where
        # add1 would stop (first_misfit): else None.
        everything = sum(inp.costs[p] for p in prep.candidates)
        self.budget = budget if budget is not None and everything > budget else None
        self.leap = 0 if self.budget is None else FIRST_LEAP  # the next leap's length, or none

    def run(self, k: int, against: Trace | None = None, bound=False) -> tuple[MESRun, Trace]:
        self.runs += 1
        x = self.base + k * self.step
        last, near = self.last
        near = near if abs(k - last) <= NEAR else None
        run = run_mes(
            self.inp,
            x,
            self.prep,
            money=False,
            against=against,
            swaps=self.swaps,
            near=near,
            bound=bound,
        )
        self.last = (k, run[1])
        self.work += run[1].work
        return run

    def first_misfit(
        self, k: int, run: MESRun, trace: Trace, upto: int, runs=math.inf, work=math.inf
    ) -> int | None:
        """The first increment after ``k`` (whose ``run`` fits) up to ``upto`` whose outcome
        does not fit; ``upto + 1`` if none does; None if ``runs`` more runs or ``work`` more
        work did not settle it.

        Stops early, as add1 always has, once everything is funded: every later outcome is a
        subset of it.
        """
        start, start_work = self.runs, self.work
        while True:
            self.at, self.at_run = k, (run, trace)
            if len(run.selected) == self.everything:
                return k + 1
            if k >= upto:
                return upto + 1
            if self.runs - start >= runs or self.work - start_work >= work:
                return None
            if self.steps_left:
                # Every increment run: exact by add1's own definition, with nothing to prove.
                self.steps_left -= 1
                self.stepped += 1
                end, after = k, self.run(k + 1)
            else:
                self.stretches += 1
                leapt, end, after = self.leap_over(k, run, trace, upto)
                if not leapt:
                    end, after = self.stretch_end(k, run.selected, trace, upto, above=after)
                if after is None:
                    return upto + 1  # the stretch reaches the end
                self._stretched(end - k + 1)
            k, (run, trace) = end + 1, after
            if not self.fits(run.selected):
                self.at = end
                return k

    def _stretched(self, length: int) -> None:
        """Note a stretch's length; after ``STEP_AFTER`` short ones, step for a while."""
        self.recent.append(length)
        if len(self.recent) == STEP_AFTER:
            if sum(self.recent) < STEP_BELOW * STEP_AFTER:
                self.steps_left = STEP_FOR * sum(self.recent)
            self.recent.clear()

    def ended(self, found: int | None, upto: int) -> int | None:
        """The increment add1 ends at, given what :meth:`first_misfit` up to ``upto`` returned:
        the one before the first that does not fit, or the first that funds everything
        (which ``first_misfit`` reports as the next increment, so at ``upto`` itself as if
        none did). None if add1 does not end by ``upto``, or the walk ran out of work."""
        if found is None:
            return None
        if found <= upto:
            return found - 1
        if len(self.at_run[0].selected) == self.everything:
            return self.at  # everything is funded at ``upto``: the walk stopped there
        return None

    def leap_over(self, k: int, run: MESRun, trace: Trace, upto: int):
        """Where outcomes cost well under the budget: a run ``leap`` increments on whose
        checks bound the cost of every outcome in between within the budget
        (:func:`.stretch.outcome_cost_bound`) vouches that all of them fit, whatever they
        buy. Returns whether it did, the increment before that run, and the run. Where there
        is no leap, or it did not vouch (the leap then halves, and stops below
        ``LEAP_LEAST``): False, ``k``, and the run if it selects differently (the stretch
        ends before it), else None.
        """
        cost = sum((self.inp.costs[p] for p in run.selected), Fraction(0))
        if not self.leap or k >= upto or cost > LEAP_BELOW * self.budget:
            return False, k, None
        probe, last = min(k + self.leap, upto), self.last
        after = self.run(probe, trace, bound=True)
        if after[1].certified or self.fit_between(after[1]):
            self.leaps += 1
            self.leap *= 2
            return True, probe - 1, after
        self.leap = self.leap // 2 if self.leap > 2 * LEAP_LEAST else 0
        self.last = last  # the stretch's next run is closer to the one before the leap
        if after[0].selected != run.selected and not self.swapped(trace, after[1]):
            return False, k, after  # it selects differently: the stretch ends before it
        return False, k, None

    def fit_between(self, trace: Trace) -> bool:
        """Whether a run's checks bound the cost of every outcome between it and the run it
        was checked against within the budget (:func:`.stretch.outcome_cost_bound`)."""
        return trace.cost_bound is not None and trace.cost_bound <= self.budget

    def stretch_end(self, k: int, selected, trace: Trace, upto: int, above=None):
        """The last increment ``j <= upto`` that runs prove select ``selected`` (increment
        ``k``'s outcome), and the run at ``j + 1`` (None if ``j == upto``).

        Each run is checked against the last one that vouched (the closer the two, the
        tighter the proof). Where to run next is a guess from the prices the runs found:
        the budget where a runner-up catches up with a winner, going on at the pace prices
        and money moved at the last run that vouched (:func:`.guesses.ahead`), or, once a
        run selects differently, interpolated between it and the last that vouched
        (:func:`.guesses.crossing`).
        The next run goes just before that, within the distance proofs have lately reached;
        where nothing closes in, one increment on. A run that selects differently bounds the
        stretch from above; one that selects the same but cannot vouch (too far for the
        proof) halves the stride. ``above``, a run further on that selects differently (a
        leap that did not vouch), bounds the stretch from the start.
        """
        good, guide, stride = k, trace, 1
        top, after = upto + 1, None  # the first increment known to select differently
        opening = k + 1  # where the stretch's first long jump starts
        at = self.increment(ahead(trace, self.commutes))
        if above is not None:
            top, after = int((above[0].budget_per_voter - self.base) / self.step), above
            near = self.increment(crossing(trace, above[1], self.commutes))
            if near is not None and k <= near < top:
                at = near
        if at is not None and at > k:
            opening, stride = k, min(self.opening_reach, at - k)
        while good + 1 < top:
            probe = min(good + stride, top - 1)
            run = self.run(probe, guide, bound=self.budget is not None)
            span = probe - good
            first_jump = good == opening  # the stretch's first long jump
            if self.fit_between(run[1]):
                return probe - 1, run  # whatever each increment between buys, it fits
            if run[1].certified:
                if first_jump:
                    self.opening_reach = max(self.opening_reach, span + span // 4)
                else:
                    self.reach = max(self.reach, 2 * span)
                good, guide = probe, run[1]
                selected = run[0].selected  # the same projects, perhaps in swapped order
                at = self.increment(ahead(guide, self.commutes))
                if after is not None:  # interpolating towards a run above beats extrapolating
                    near = self.increment(crossing(guide, after[1], self.commutes))
                    if near is not None and good <= near < top:
                        at = near
                reach = self.opening_reach if good == opening else self.reach
                stride = min(reach, 2 * span if at is None else at - good)
            elif span == 1 or (run[0].selected != selected and not self.swapped(guide, run[1])):
                top, after = probe, run
                at = self.increment(crossing(guide, run[1], self.commutes))
                # A crossing before ``good + 1`` (often: a project just came within reach)
                # makes that the next probe.
                stride = at - good if at is not None and good <= at < top else span // 2
            else:  # the same, but too far for the proof: it reaches less far than that
                if first_jump:
                    self.opening_reach = max(1, span // 2)
                else:
                    self.reach = max(1, span // 2)
                stride = span // 2
            stride = max(1, stride)
        return good, after

    def commutes(self, trace: Trace, rnd: int) -> bool:
        """Whether round ``rnd``'s winner and the next round's could trade places at a later
        run with the same money left after both (every supporter of both paid both in full
        in ``trace``), so that the later run's check may let them (mes.run_mes)."""
        if not self.swaps or not self.prep.uniform or rnd + 1 >= len(trace.rounds):
            return False
        both = self.prep.both(trace.rounds[rnd], trace.rounds[rnd + 1])
        return bool(np.all(trace.paid_both(both, rnd)))

    def swapped(self, below: Trace, above: Trace) -> bool:
        """Whether ``above`` selects in ``below``'s order but for swaps of the winners of
        two rounds in a row that :meth:`commutes` lets trade places."""
        if len(below.rounds) != len(above.rounds):
            return False
        return first_change(below, above, self.commutes) == len(below.rounds)

    def increment(self, budget: float) -> int | None:
        """The last whole increment at or below a budget per voter (None if unbounded)."""
        if not math.isfinite(budget):
            return None
        return math.floor((budget - float(self.base)) / float(self.step))

    def selection(self, k: int) -> tuple[int, ...]:
        return self.run(k)[0].selected


def _probe(walk: _Walk, last: int) -> tuple[int, dict[int, tuple[int, ...]], int | None]:
    """Gallop ahead from where the walk stands (1, 2, 4, … increments) while the outcome
    fits, and bisect to an increment ``k`` that fits while ``k + 1`` does not (or ``k`` is
    the bound). Returns ``k``, the selection at each increment run that fits, and the one
    found not to fit (None if none)."""
    k = walk.at
    fitting = {k: walk.at_run[0].selected}
    hi, gap = None, 1
    while hi is None and k < last:
        probe = min(k + gap, last)
        sel = walk.selection(probe)
        if walk.fits(sel):
            fitting[probe] = sel
            k, gap = probe, 2 * gap
        else:
            hi = probe
    while hi is not None and hi - k > 1:
        mid = (k + hi) // 2
        sel = walk.selection(mid)
        if walk.fits(sel):
            fitting[mid], k = sel, mid
        else:
            hi = mid
    return k, fitting, hi


def _search(walk: _Walk, last: int, report: dict) -> int:
    """The increment add1 returns when the walk ran out of runs (every increment up to
    ``walk.at`` fits).

    Gallops ahead (1, 2, 4, … increments) while the outcome fits and bisects to an increment
    ``b`` that fits while ``b + 1`` does not (or ``b`` is the bound): both are run, so that much
    is exact. add1 wants the *first* increment that does not fit; an earlier one can hide
    between two probes that fit, because the total cost of MES's outcome is not monotone in the
    budget. So where the walk's pace so far says it reaches ``b`` within ``PACE_MARGIN`` of the
    work ``FINISH_WORK`` leaves, it walks on there (``report["walked_on"]``) and the result is
    proven (if the pace misled and the runs run out, what it did not reach is left
    unchecked). Otherwise the stretches between consecutive probes that fit are walked
    (exactly, as above), those where the later outcome does not fund every project the earlier
    one funds first, then the others in order, with ``CHECK_WORK`` in all. The first increment
    found not to fit decides. Increments no walk reached are counted in
    ``report["unchecked_increments"]``: only there can the result differ from one-step add1.
    """
    walked = walk.work
    k, fitting, hi = _probe(walk, last)
    probes = sorted(fitting)
    report["probes"] = len(probes) + (hi is not None)
    # Walk on to k where the walk's pace (increments proven per work) says it gets there in time.
    work_left, allowance = FINISH_WORK - walk.work, CHECK_WORK
    if work_left > 0 and (k - walk.at) * walked <= PACE_MARGIN * work_left * walk.at:
        found = walk.first_misfit(walk.at, *walk.at_run, k, work=work_left)
        if found is not None:
            report.update(walked_on=True, chain_breaks=0, unchecked_increments=0)
            return found - 1
        allowance = 0  # the pace misled: FINISH_WORK is spent, so checks would only add time
    # Stretches the walk has proven need no check.
    fitting.setdefault(walk.at, walk.at_run[0].selected)
    gaps = [
        (max(a, walk.at), b)
        for a, b in zip(probes, probes[1:], strict=False)
        if b > max(a, walk.at) + 1
    ]
    growing = {(a, b): set(fitting[a]) <= set(fitting[b]) for a, b in gaps}
    # Stretches where the outcomes visibly do not grow first, then in order.
    gaps.sort(key=lambda gap: (growing[gap], gap))
    spent, unchecked, ends = walk.work, 0, []
    for a, b in gaps:
        left = allowance - (walk.work - spent)
        if left <= walk.at_run[1].work:  # not even one more run
            unchecked += b - a - 1
            continue
        run, trace = walk.run(a)
        found = walk.first_misfit(a, run, trace, b - 1, work=left - trace.work)
        if found is None:
            unchecked += b - walk.at - 1
            continue
        end = walk.ended(found, b - 1)
        if end is not None:
            ends.append(end)
    if ends:
        k = min(ends)
    report.update(
        chain_breaks=sum(not g for g in growing.values()),
        unchecked_increments=unchecked,
    )
    return k


# Parts of the walk per process: enough that a part with many changes of order does not keep
# one process busy while the others wait, few enough that the runs opening each part cost
# little (a part's first stretch takes about four runs).
PARTS_PER_WORKER = 4
_PART_WALK: _Walk | None = None  # the walk whose parts forked processes take (fork shares it)


def _can_fork() -> bool:
    """Whether parts can go to forked processes: on Linux. macOS has fork, but its system
    libraries may have started threads that a forked child cannot use (Python's own default
    there is spawn, which would copy the election to every process)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _walk_in_parts(walk: _Walk, last: int, workers: int, report: dict) -> int:
    """add1's increment, proven by ``workers`` processes at once (every increment up to
    ``walk.at`` fits).

    The search's probes (:func:`_probe`) find an increment ``k`` that fits while ``k + 1``
    does not. Every increment between ``walk.at`` and ``k`` still has to be proven: they are
    cut into parts of equal length, each walked from a run at its first increment by one
    process of a pool (forked, so the election is not copied). add1 stops at the first
    increment that does not fit, so the first part (in order) that finds one decides. The
    result is the sequential walk's.
    """
    global _PART_WALK
    k, fitting, hi = _probe(walk, last)
    report["probes"] = len(fitting) + (hi is not None)  # counted as _search counts them
    length = max(1, -(-(k - walk.at) // (workers * PARTS_PER_WORKER)))
    parts = [(a, min(a + length, k + 1) - 1) for a in range(walk.at, k, length)]
    report.update(walked_on=True, parts=len(parts), chain_breaks=0, unchecked_increments=0)
    if not parts:  # the probes stopped where the walk stands
        return k
    _PART_WALK = walk
    pool = multiprocessing.get_context("fork").Pool(min(workers, len(parts)))
    try:
        # Every part is waited for, even after one that ends add1: terminating a pool with
        # tasks in flight can hang (its task thread blocks on a queue no one reads), and the
        # search's probes already end add1 at k unless a hidden increment over budget, rare,
        # ends it earlier.
        # The last parts first: their budgets fund more projects, so their runs take more
        # rounds and their orders change more often; the short ones then fill in at the end.
        ends = pool.map(_walk_part, parts[::-1], chunksize=1)[::-1]
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        _PART_WALK = None
    for _end, runs, stretches, stepped, leaps in ends:
        walk.runs, walk.stretches = walk.runs + runs, walk.stretches + stretches
        walk.stepped, walk.leaps = walk.stepped + stepped, walk.leaps + leaps
    return next((end for end, *_ in ends if end is not None), k)


def _walk_part(part: tuple[int, int]):
    """In a forked process: walk increments ``a`` to ``upto`` from a run at ``a``. Returns the
    increment add1 returns if it ends in this part (before the first that does not fit, or
    where everything is funded, as the walk does), else None; and the runs, stretches, steps
    and leaps it took."""
    a, upto = part
    # Each part from the walk as it was forked, not as this process's last part left it (its
    # reach, leap, stretches): the same runs for a part whichever process takes it, after
    # whichever other part.
    walk = copy.copy(_PART_WALK)
    walk.recent = list(walk.recent)
    before = walk.runs, walk.stretches, walk.stepped, walk.leaps
    run, trace = walk.at_run if a == walk.at else walk.run(a)
    if walk.fits(run.selected):
        end = walk.ended(walk.first_misfit(a, run, trace, upto), upto)
    else:
        end = a - 1
    after = walk.runs, walk.stretches, walk.stepped, walk.leaps
    return (end, *(n - m for n, m in zip(after, before, strict=True)))
