"""The Method of Equal Shares (MES), computed over classes of voters with equal budgets.

Why classes: MES only ever asks, for a project, "how much money do its supporters have, and
how is it spread?". Voters who approved the same projects among those selected so far hold
exactly the same budget, so we keep one record per distinct budget value (a *class*) with,
for each ballot item, how many of the class's voters hold it. Identical ballots are grouped
first, so the work per selected project is proportional to the number of distinct ballots
that support it, not to the number of voters, and an affordability computation touches one
entry per class rather than one per voter.

The arithmetic is exact (``fractions.Fraction``), so ties are real ties and outcomes equal
pabutools' ``method_of_equal_shares`` (including its stopping rule for ``add1``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class MESInput:
    """A compiled instance: projects and ballots as integer indices.

    ``items`` are (project index, utility) pairs; a ballot is a tuple of item indices. For
    approval ballots with cost utilities each project has one item whose utility is its cost.
    """

    costs: tuple[Fraction, ...]
    item_project: tuple[int, ...]
    item_util: tuple[Fraction, ...]
    groups: tuple[tuple[int, ...], ...]
    mult: tuple[int, ...]
    tie_rank: tuple[int, ...]
    num_voters: int  # includes voters whose ballots support nothing: they share the budget


@dataclass(frozen=True)
class MESRun:
    """One run of MES at a fixed budget per voter."""

    budget_per_voter: Fraction
    selected: tuple[int, ...]
    rho: tuple[Fraction, ...]  # price factor paid per unit of utility, per selected project
    ties: tuple[tuple[int, ...], ...]  # projects tied at the selection of each round
    supporters_money: tuple[Fraction, ...]  # per project, supporters' money left at the end


def compile_input(
    costs: Sequence[Fraction],
    ballots: Sequence[Sequence[tuple[int, Fraction]]],
    counts: Sequence[int],
    tie_rank: Sequence[int],
) -> MESInput:
    """Group identical ballots and number the (project, utility) items."""
    item_index: dict[tuple[int, Fraction], int] = {}
    grouped: dict[tuple[int, ...], int] = {}
    for ballot, n in zip(ballots, counts, strict=True):
        key = []
        for p, u in ballot:
            if u > 0:
                key.append(item_index.setdefault((p, u), len(item_index)))
        if key:
            t = tuple(sorted(key))
            grouped[t] = grouped.get(t, 0) + n
    items = sorted(item_index, key=item_index.get)
    return MESInput(
        costs=tuple(Fraction(c) for c in costs),
        item_project=tuple(p for p, _ in items),
        item_util=tuple(Fraction(u) for _, u in items),
        groups=tuple(grouped),
        mult=tuple(grouped.values()),
        tie_rank=tuple(tie_rank),
        num_voters=sum(counts),
    )


class _Prepared:
    """Budget-independent precomputation shared by every run (add1 runs MES many times)."""

    def __init__(self, inp: MESInput) -> None:
        n_items, n_proj = len(inp.item_util), len(inp.costs)
        self.project_items: list[list[int]] = [[] for _ in range(n_proj)]
        for it, p in enumerate(inp.item_project):
            self.project_items[p].append(it)
        self.item_groups: list[list[int]] = [[] for _ in range(n_items)]
        self.item_count = [0] * n_items
        for g, ballot in enumerate(inp.groups):
            for it in ballot:
                self.item_groups[it].append(g)
                self.item_count[it] += inp.mult[g]
        self.total_util = [
            sum(self.item_count[it] * inp.item_util[it] for it in self.project_items[p])
            for p in range(n_proj)
        ]
        # pabutools: supported projects of cost 0 are taken up front, unsupported never.
        self.free = [p for p in range(n_proj) if self.total_util[p] > 0 and inp.costs[p] == 0]
        self.candidates = [p for p in range(n_proj) if self.total_util[p] > 0 and inp.costs[p] > 0]
        # Approval with cost (or any uniform) utilities: one item per project, no division.
        self.uniform = all(len(items) <= 1 for items in self.project_items)


_TOL = 1e-9


def _first(entry):
    return entry[0]


def _far_below(key: float, rho_f: float, u, uniform: bool) -> bool:
    """Whether a class's float key is safely below the price level (pays in full)."""
    level = rho_f * float(u) if uniform else rho_f
    return key < level * (1 - _TOL)


def _far_above(key: float, rho_f: float, u, uniform: bool) -> bool:
    level = rho_f * float(u) if uniform else rho_f
    return key > level * (1 + _TOL)


def _scan_exact(entries, cost, class_value, uniform):
    """pabutools' scan in exact arithmetic: the fallback when floats cannot decide."""
    if uniform:
        entries.sort(key=lambda e: class_value[e[1]])
    else:
        entries.sort(key=lambda e: class_value[e[1]] / e[2])
    denom = sum(m * u for _, _, u, m in entries)
    paid = Fraction(0)
    for i, (_, c, u, m) in enumerate(entries):
        rho = (cost - paid) / denom
        if rho * u <= class_value[c]:
            return rho, i
        paid += m * class_value[c]
        denom -= m * u
    raise AssertionError("an affordable project always has a paying class")


class _Validity:
    """Tracks how far the budget per voter can grow before any decision of a run may change.

    Every quantity in a run is a linear function ``a + b * x`` of the starting budget per
    voter ``x`` while the run's decisions (who pays in full, who is cheapest, what is
    affordable) stay the same. Each decision is a sign condition on such a function; the
    run's outcome is therefore the same for every ``x`` from the current value up to the
    first root of any of them. ``add1`` uses that to skip increments that cannot change the
    outcome.
    """

    __slots__ = ("x", "until")

    def __init__(self, x: Fraction) -> None:
        self.x = x
        self.until: Fraction | None = None  # None: no limit found

    def holds(self, a: Fraction, b: Fraction, value: Fraction) -> None:
        """Record that the sign of ``a + b*x`` (now ``value``) matters."""
        if not b:
            return
        if not value:
            root = self.x  # a tie that moves at once: valid at this budget only
        else:
            root = -a / b
            if root <= self.x:
                return
        if self.until is None or root < self.until:
            self.until = root


def run_mes(
    inp: MESInput,
    budget_per_voter: Fraction,
    prepared: _Prepared | None = None,
    track: bool = False,
    money: bool = True,
) -> tuple[MESRun, Fraction | None]:
    """Run MES once with every voter starting at ``budget_per_voter``.

    Returns the run and, with ``track``, the budget per voter up to which (exclusive) the
    same run would select the same projects in the same order (None: no limit).
    """
    prep = prepared or _Prepared(inp)
    util, costs, mult, groups = inp.item_util, inp.costs, inp.mult, inp.groups
    x = Fraction(budget_per_voter)
    valid = _Validity(x)
    zero, one = Fraction(0), Fraction(1)
    # A class: voters with the same budget function a + b*x; value = its value at x.
    class_value: list[Fraction] = [x]
    class_float: list[float] = [float(x)]
    cost_float = [float(c) for c in costs]
    util_float = [float(u) for u in util]
    uniform = prep.uniform
    class_form: list[tuple[Fraction, Fraction]] = [(zero, one)]
    class_by_form: dict[tuple[Fraction, Fraction], int] = {(zero, one): 0}
    counts: list[dict[int, int]] = [{it: c for it, c in enumerate(prep.item_count) if c}]
    item_classes: list[set[int]] = [{0} if c else set() for c in prep.item_count]
    class_of = [0] * len(groups)  # -1: the voters have no money left

    def affordability(p: int):
        # Floats find the answer fast; exact arithmetic then confirms it (or redoes it when
        # the floats are too close to call), so the result is always exact.
        cost = costs[p]
        cost_f = cost_float[p]
        entries = []
        money_f = 0.0
        for it in prep.project_items[p]:
            u, uf = util[it], util_float[it]
            for c in item_classes[it]:
                m = counts[c][it]
                vf = class_float[c]
                money_f += m * vf
                entries.append((vf if uniform else vf / uf, c, u, m))
        if money_f < cost_f * (1 - _TOL):
            affordable = False
        elif money_f > cost_f * (1 + _TOL):
            affordable = True
        else:
            affordable = sum((m * class_value[c] for _, c, _, m in entries), zero) >= cost
        if not affordable:
            if track:
                ma = sum((m * class_form[c][0] for _, c, _, m in entries), zero)
                mb = sum((m * class_form[c][1] for _, c, _, m in entries), zero)
                money = sum((m * class_value[c] for _, c, _, m in entries), zero)
                valid.holds(cost - ma, -mb, cost - money)
            return None
        entries.sort(key=_first)
        rho, stop = _scan_float(entries, cost, cost_f, util_float, uniform)
        if rho is None:
            rho, stop = _scan_exact(entries, cost, class_value, uniform)
        if not track:
            return rho, None
        denom = sum((m * u for _, _, u, m in entries[stop:]), zero)
        pa = sum((m * class_form[c][0] for _, c, _, m in entries[:stop]), zero)
        pb = sum((m * class_form[c][1] for _, c, _, m in entries[:stop]), zero)
        form = ((cost - pa) / denom, -pb / denom)
        for _, c, u, _ in entries:
            a, b = class_form[c]
            slack = class_value[c] - rho * u  # < 0 pays in full, >= 0 pays rho * u
            valid.holds(a - form[0] * u, b - form[1] * u, slack)
        return rho, form

    def _scan_float(entries, cost, cost_f, util_f, uniform):
        denom_f = 0.0
        for _, _, u, m in entries:
            denom_f += m * float(u)
        paid_f = 0.0
        stop = len(entries) - 1
        rho_f = 0.0
        for i, (key, _, u, m) in enumerate(entries):
            uf = float(u)
            rho_f = (cost_f - paid_f) / denom_f
            if rho_f * uf <= key * uf if not uniform else rho_f * uf <= key:
                stop = i
                break
            paid_f += m * (key if uniform else key * uf)
            denom_f -= m * uf
        paid = sum((m * class_value[c] for _, c, _, m in entries[:stop]), zero)
        denom = sum((m * u for _, _, u, m in entries[stop:]), zero)
        if not denom:
            return None, None
        rho = (cost - paid) / denom
        # Check exactly every class whose float position is within rounding of the cut.
        for i in range(stop - 1, -1, -1):
            key, c, u, _ = entries[i]
            if _far_below(key, rho_f, u, uniform):
                break
            if not class_value[c] < rho * u:
                return None, None
        for i in range(stop, len(entries)):
            key, c, u, _ = entries[i]
            if _far_above(key, rho_f, u, uniform):
                break
            if not class_value[c] >= rho * u:
                return None, None
        return rho, stop

    def pay(p: int, rho: Fraction, form) -> None:
        for it in prep.project_items[p]:
            u = util[it]
            price = rho * u
            target: dict[int, int] = {}
            for g in prep.item_groups[it]:
                c = class_of[g]
                if c < 0:
                    continue
                d = target.get(c)
                if d is None:
                    left = class_value[c] - price
                    if left <= 0:
                        d = -1
                    else:
                        a, b = class_form[c]
                        key = (a - form[0] * u, b - form[1] * u) if track else (left, zero)
                        d = class_by_form.get(key)
                        if d is None:
                            d = len(class_value)
                            class_value.append(left)
                            class_float.append(float(left))
                            class_form.append(key)
                            class_by_form[key] = d
                            counts.append({})
                    target[c] = d
                m = mult[g]
                src = counts[c]
                dst = counts[d] if d >= 0 else None
                for it2 in groups[g]:
                    left_m = src[it2] - m
                    if left_m:
                        src[it2] = left_m
                    else:
                        del src[it2]
                        item_classes[it2].discard(c)
                    if dst is not None:
                        if it2 in dst:
                            dst[it2] += m
                        else:
                            dst[it2] = m
                            item_classes[it2].add(d)
                class_of[g] = d

    # Affordability never decreases (budgets only shrink), so the last computed value is a
    # lower bound and projects can be examined lazily, exactly as pabutools does.
    lower = {p: costs[p] / prep.total_util[p] for p in prep.candidates}
    lower_form = {p: (lower[p], zero) for p in prep.candidates}
    remaining = set(prep.candidates)
    selected = list(prep.free)
    rhos: list[Fraction] = [zero] * len(selected)
    ties: list[tuple[int, ...]] = [()] * len(selected)
    while remaining:
        best: Fraction | None = None
        tied: list[int] = []
        evaluated: list[int] = []
        for p in sorted(remaining, key=lambda q: (lower[q], inp.tie_rank[q])):
            if best is not None and lower[p] > best:
                break
            result = affordability(p)
            if result is None:
                remaining.discard(p)
                continue
            rho, form = result
            lower[p], lower_form[p] = rho, form
            evaluated.append(p)
            if best is None or rho < best:
                best, tied = rho, [p]
            elif rho == best:
                tied.append(p)
        if best is None:
            break
        tied.sort(key=lambda q: inp.tie_rank[q])
        winner = tied[0]
        if track:
            wa, wb = lower_form[winner]
            done = set(evaluated)
            for p in remaining:
                if p != winner:
                    a, b = lower_form[p]  # evaluated: its price; others: a lower bound
                    gap = lower[p] - best
                    if p in done or gap:
                        valid.holds(a - wa, b - wb, gap)
        remaining.discard(winner)
        selected.append(winner)
        rhos.append(best)
        ties.append(tuple(tied) if len(tied) > 1 else ())
        pay(winner, best, lower_form[winner])

    money = [
        sum(
            (
                counts[c][it] * class_value[c]
                for it in prep.project_items[p]
                for c in item_classes[it]
            ),
            zero,
        )
        for p in range(len(costs))
    ]
    run = MESRun(x, tuple(selected), tuple(rhos), tuple(ties), tuple(money))
    return run, valid.until


def equal_shares(
    inp: MESInput,
    budget: Fraction,
    *,
    add1: bool = False,
    step: Fraction = Fraction(1),
    fits: Callable[[Sequence[int]], bool] | None = None,
) -> tuple[MESRun, int]:
    """MES with the budget split equally; with ``add1``, the equalshares.net completion.

    ``add1`` raises every voter's budget by ``step`` at a time and keeps the last outcome that
    still ``fits`` (default: total cost <= ``budget``), stopping at the first that does not,
    like pabutools' ``exhaustion_by_budget_increase(..., exhaustive_stop=False,
    budget_step=step * num_voters)``, whose budget bound we also honour. Returns the chosen
    run and the number of increments applied.
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
        return MESRun(base, (), (), (), first.supporters_money), 0
    best, k = first, 0
    everything = len(prep.candidates) + len(prep.free)
    # Tracking validity costs time; when it stops paying off (decisions change at every
    # increment), run untracked for a while, backing off exponentially.
    pause, backoff, tracked = 0, 1, True
    while True:
        if len(best.selected) == everything or (tracked and until is None):
            k = last  # nothing can change any more: every later increment fits as well
            break
        # Increments before the run's validity limit repeat the same outcome: skip them.
        nxt = k + 1
        if tracked:
            nxt = max(nxt, math.ceil((until - base) / step))
        if nxt > last:
            k = last
            break
        tracked = pause == 0
        run, until = run_mes(inp, base + nxt * step, prep, track=tracked, money=False)
        if not tracked:
            pause -= 1
        elif until is not None and until < base + (nxt + 1) * step:
            pause, backoff = backoff, min(backoff * 2, 16)
        else:
            backoff = 1
        if not fits(run.selected):
            k = nxt - 1
            break
        best, k = run, nxt
    best = run_mes(inp, base + k * step, prep)[0]  # same selection, with the money left
    return best, k
