"""MES with the budget split equally, and add1: equalshares.net's completion.

add1 (pabutools' ``exhaustion_by_budget_increase`` with ``exhaustive_stop=False``) runs MES
with every voter's budget raised by 0, 1, 2, … steps and returns the outcome just before the
*first* increment whose outcome does not fit (or the last one within pabutools' bound). Each
run of :func:`run_mes` says how far the budget can grow before any of its decisions could
change; increments before that are skipped, which is exact. Real elections with budgets in
small units need thousands of increments whose runs each change some decision but seldom the
outcome; after ``EXACT_RUNS`` runs :func:`_search` gallops and bisects for the first increment
that no longer fits, then checks its probes (see :func:`_search` and docs/recount.md for what
is proven and what is only checked).
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
# The search's probes are checked by exact stepping between them: at most this many runs per
# stretch between two probes, and this many in all (each run covers the stretch its decisions
# are proven to hold). Measured on the 175 x 28,943 benchmark: see docs/recount.md.
CHECK_RUNS = 4
CHECK_BUDGET = 24


def equal_shares(
    inp: MESInput,
    budget: Fraction,
    *,
    add1: bool = False,
    step: Fraction = Fraction(1),
    fits: Callable[[Sequence[int]], bool] | None = None,
    exact_runs: int = EXACT_RUNS,
    report: dict | None = None,
) -> tuple[MESRun, int]:
    """MES with the budget split equally; with ``add1``, the equalshares.net completion.

    ``add1`` raises every voter's budget by ``step`` at a time and keeps the last outcome that
    still ``fits`` (default: total cost <= ``budget``), stopping at the first that does not,
    like pabutools' ``exhaustion_by_budget_increase(..., exhaustive_stop=False,
    budget_step=step * num_voters)``, whose budget bound we also honour.

    Exact: increments a run proves cannot change the outcome are skipped. With a caller's
    ``fits`` (fund sources with restrictions) every other increment is run: such a test need
    not behave like a budget, so nothing is searched. With the default test, after
    ``exact_runs`` runs the first increment that does not fit is searched for by galloping and
    bisection, with run-time checks and exact stepping where they fail (:func:`_search`).
    ``report``, if given, receives counts of what the search did. Returns the chosen run and
    its increment.
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
    searchable = fits is None
    if fits is None:

        def fits(sel: Sequence[int]) -> bool:
            return sum(inp.costs[p] for p in sel) <= budget

    if not searchable:
        exact_runs = math.inf
    step = Fraction(step)
    last = math.floor(budget / step)  # pabutools' bound: total budget <= budget * (voters + 1)
    if not fits(first.selected):
        # Only with restricted sources: even the first outcome cannot be paid. Keep it and
        # let the caller report what does not fit (pabutools would return nothing).
        return run_mes(inp, base, prep)[0], 0
    at = _Stepper(inp, prep, base, step, last, fits)
    everything = len(prep.candidates) + len(prep.free)
    k, stop = at.walk(0, first, until, last, max_runs=exact_runs, everything=everything)
    if stop is None and k < last and at.runs >= exact_runs and not at.complete:
        k = _search(at, k, report)
    elif stop is not None:
        k = stop - 1
    if report is not None:
        report.setdefault("exact_runs", at.runs)
    final = run_mes(inp, base + k * step, prep)[0]  # the same selection, with money left
    return final, k


class _Stepper:
    """Runs MES at increment ``k`` of the add1 sequence and steps through increments exactly."""

    def __init__(self, inp, prep, base, step, last, fits) -> None:
        self.inp, self.prep, self.base, self.step = inp, prep, base, step
        self.last, self.fits = last, fits
        self.runs = 0
        self.complete = False

    def selection(self, k: int) -> tuple[int, ...]:
        return run_mes(self.inp, self.base + k * self.step, self.prep, money=False)[0].selected

    def walk(self, k, run, until, upto, *, max_runs=math.inf, everything=None):
        """Step exactly from increment ``k`` (whose ``run`` fits, valid below ``until``) up to
        ``upto``, skipping increments a run proves repeat the outcome. Returns (the last
        increment reached, the first increment that does not fit or None)."""
        runs = 0
        while k < upto and runs < max_runs:
            if len(run.selected) == everything:
                self.complete = True  # everything is funded: nothing more to look for
                return k, None
            if until is None:
                return upto, None  # no decision of this run can change: later ones fit too
            # Increments before the run's validity limit repeat the same outcome: skip them.
            nxt = max(k + 1, math.ceil((until - self.base) / self.step))
            if nxt > upto:
                return upto, None
            run, until = run_mes(
                self.inp, self.base + nxt * self.step, self.prep, track=True, money=False
            )
            runs += 1
            self.runs += 1
            if not self.fits(run.selected):
                return nxt, nxt
            k = nxt
        return k, None


def _search(at: _Stepper, k: int, report: dict | None) -> int:
    """The increment add1 returns, from ``k`` on (every increment up to ``k`` fits).

    Gallops ahead of ``k`` (1, 2, 4, … increments) while the outcome fits and bisects to an
    increment ``b`` that fits while ``b + 1`` does not (or ``b`` is the bound): both are run,
    so that much is exact. add1 wants the *first* increment that does not fit; an earlier one
    can hide between two probes that fit, because the total cost of MES's outcome is not
    monotone in the budget (tests/allocation/test_add1_exact.py has elections where it is
    not). So the stretches between consecutive probes that fit are checked by exact stepping
    (:meth:`_Stepper.walk`, which skips increments a run proves repeat it), those where the
    later outcome does not fund every project the earlier one funds first, then the others in
    order, with at most ``CHECK_RUNS`` runs each and ``CHECK_BUDGET`` in all. The first
    increment found not to fit decides. Increments no check reached are counted in
    ``report["unchecked_increments"]``: only there can the result differ from one-step add1
    (docs/recount.md).
    """
    fitting = {k: at.selection(k)}
    hi, gap = None, 1
    while hi is None:
        probe = min(k + gap, at.last)
        sel = at.selection(probe)
        if at.fits(sel):
            fitting[probe] = sel
            k, gap = probe, 2 * gap
            if k == at.last:
                break
        else:
            hi = probe
    while hi is not None and hi - k > 1:
        mid = (k + hi) // 2
        sel = at.selection(mid)
        if at.fits(sel):
            fitting[mid], k = sel, mid
        else:
            hi = mid
    probes = sorted(fitting)
    gaps = [(a, b) for a, b in zip(probes, probes[1:], strict=False) if b > a + 1]
    growing = {(a, b): set(fitting[a]) <= set(fitting[b]) for a, b in gaps}
    # Stretches where the outcomes visibly do not grow first, then in order; a few runs each
    # within a total budget, so the search stays fast on the largest elections.
    gaps.sort(key=lambda gap: (growing[gap], gap))
    spent = unchecked = 0
    stops = []
    for a, b in gaps:
        runs = min(CHECK_RUNS, CHECK_BUDGET - spent)
        if runs <= 0:
            unchecked += b - a - 1
            continue
        run, until = run_mes(at.inp, at.base + a * at.step, at.prep, track=True, money=False)
        before = at.runs
        reached, stop = at.walk(a, run, until, b, max_runs=runs)
        spent += at.runs - before + 1
        if stop is not None:
            stops.append(stop)
        else:
            unchecked += max(0, b - reached - 1)
    if stops:
        k = min(stops) - 1
    if report is not None:
        report.update(
            {
                "probes": len(probes) + (hi is not None),
                "chain_breaks": sum(not g for g in growing.values()),
                "unchecked_increments": unchecked,
            }
        )
    return k
