"""MES with the budget split equally, and add1: equalshares.net's completion.

add1 raises every voter's budget one step at a time and keeps the last outcome that still
fits, as pabutools' ``exhaustion_by_budget_increase`` does. Each run of :func:`run_mes` says
how far the budget can grow before any of its decisions could change; increments before
that are skipped. Real elections with budgets in small units need thousands of increments
whose runs each change some decision but seldom the outcome; after ``EXACT_RUNS`` runs the
first increment that no longer fits is found by galloping and bisection instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from civicvote.allocation.mes import MESInput, MESRun, _Prepared, run_mes

# add1 first steps through increments exactly, skipping only what a run proves repeats it;
# after this many runs (real elections with budgets in small units need thousands of
# increments) it gallops and bisects on whether the outcome fits.
EXACT_RUNS = 16


def equal_shares(
    inp: MESInput,
    budget: Fraction,
    *,
    add1: bool = False,
    step: Fraction = Fraction(1),
    fits: Callable[[Sequence[int]], bool] | None = None,
    exact_runs: int = EXACT_RUNS,
) -> tuple[MESRun, int]:
    """MES with the budget split equally; with ``add1``, the equalshares.net completion.

    ``add1`` raises every voter's budget by ``step`` at a time and keeps the last outcome that
    still ``fits`` (default: total cost <= ``budget``), stopping at the first that does not,
    like pabutools' ``exhaustion_by_budget_increase(..., exhaustive_stop=False,
    budget_step=step * num_voters)``, whose budget bound we also honour. Increments that
    cannot change the outcome are skipped. After ``exact_runs`` runs the first increment that
    does not fit is searched for by galloping and bisection (:func:`_search`). Returns the
    chosen run and its increment.
    """
    n = inp.num_voters
    budget = Fraction(budget)
    if n == 0:
        return MESRun(Fraction(0), (), (), (), tuple(Fraction(0) for _ in inp.costs)), 0
    prep = _Prepared(inp)
    base = budget / n
    first, until = run_mes(inp, base, prep, track=add1, money=not add1)
    if not add1:
        return first, 0
    if fits is None:

        def fits(sel: Sequence[int]) -> bool:
            return sum(inp.costs[p] for p in sel) <= budget

    step = Fraction(step)
    last = math.floor(budget / step)  # pabutools' bound: total budget <= budget * (voters + 1)
    if not fits(first.selected):
        # Only with restricted sources: even the first outcome cannot be paid. Keep it and
        # let the caller report what does not fit (pabutools would return nothing).
        return run_mes(inp, base, prep)[0], 0
    best, k = first, 0
    everything = len(prep.candidates) + len(prep.free)
    runs = 0
    while len(best.selected) != everything and k < last and runs < exact_runs:
        if until is None:
            k = last  # no decision of this run can change: every later increment fits too
            break
        # Increments before the run's validity limit repeat the same outcome: skip them.
        nxt = max(k + 1, math.ceil((until - base) / step))
        if nxt > last:
            k = last
            break
        run, until = run_mes(inp, base + nxt * step, prep, track=True, money=False)
        runs += 1
        if not fits(run.selected):
            return run_mes(inp, base + (nxt - 1) * step, prep)[0], nxt - 1
        best, k = run, nxt
    if runs >= exact_runs and len(best.selected) != everything and k < last:
        k = _search(inp, prep, base, step, k, last, fits)
    final = run_mes(inp, base + k * step, prep)[0]  # the same selection, with money left
    return final, k


def _search(inp, prep, base, step, k: int, last: int, fits) -> int:
    """The last increment before the first that does not fit, found by galloping ahead of
    ``k`` (which fits) and bisecting; assumes that between two probes that fit every
    increment fits (see docs/recount.md)."""
    hi, gap = None, 1
    while hi is None:
        probe = min(k + gap, last)
        if fits(run_mes(inp, base + probe * step, prep, money=False)[0].selected):
            k, gap = probe, 2 * gap
            if k == last:
                return k
        else:
            hi = probe
    while hi - k > 1:
        mid = (k + hi) // 2
        if fits(run_mes(inp, base + mid * step, prep, money=False)[0].selected):
            k = mid
        else:
            hi = mid
    return k
