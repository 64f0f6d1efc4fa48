"""The Method of Equal Shares (MES), computed over classes of voters with equal budgets.

Why classes: MES only ever asks, for a project, "how much money do its supporters have, and
how is it spread?". Every voter who pays for a project without running out pays the same
price per unit of utility, so voters who paid for the same items so far hold exactly the same
budget. We keep one *class* per such payment path; identical ballots are grouped first, and
each ballot group points at its class. Pricing a project counts its supporters per class in
one C-level ``Counter`` pass and then scans one entry per class, not per voter.

Arithmetic: prices are found in floating point with an error bound, and only the projects
that could be the cheapest are then priced exactly (``fractions.Fraction``); exact budgets
are rebuilt on demand from the per-item prices. So ties are real ties and outcomes equal
pabutools' ``method_of_equal_shares``.

``add1`` (equalshares.net's completion, as pabutools' ``exhaustion_by_budget_increase`` with
``exhaustive_stop=False``): each run also reports how far the budget per voter can grow
before any of its decisions could change (see :class:`_Validity`), and the increments in
between, which cannot change the outcome, are skipped.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import repeat
from operator import mul


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
        # Whole utilities stay ints: sums of m * u are then plain integer arithmetic.
        item_util=tuple(_whole(u) for _, u in items),
        groups=tuple(grouped),
        mult=tuple(grouped.values()),
        tie_rank=tuple(tie_rank),
        num_voters=sum(counts),
    )


def _whole(u) -> int | Fraction:
    u = Fraction(u)
    return u.numerator if u.denominator == 1 else u


class _Prepared:
    """Budget-independent precomputation shared by every run (add1 runs MES many times)."""

    def __init__(self, inp: MESInput) -> None:
        n_items, n_proj = len(inp.item_util), len(inp.costs)
        self.project_items: list[list[int]] = [[] for _ in range(n_proj)]
        for it, p in enumerate(inp.item_project):
            self.project_items[p].append(it)
        self.item_groups: list[list[int]] = [[] for _ in range(n_items)]
        # One entry per voter (a group repeated by its multiplicity), so that counting
        # supporters per class is a single C-level Counter pass.
        self.item_voters: list[list[int]] = [[] for _ in range(n_items)]
        self.item_count = [0] * n_items
        for g, ballot in enumerate(inp.groups):
            for it in ballot:
                self.item_groups[it].append(g)
                self.item_voters[it].extend([g] * inp.mult[g])
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
_EPS = 2.0**-52


def _first(entry):
    return entry[0]


class _Budgets:
    """Exact class budgets, computed only when needed, from the payments each class made.

    Every voter who pays for project item ``it`` without running out pays the same
    ``price[it]`` (rho times the item's utility), so a class's budget is ``x`` minus the
    prices along its path, and sums over many classes reduce to integer counts per item.
    """

    def __init__(self, x: Fraction) -> None:
        self.x = x
        self.paid: list[tuple[int, ...]] = [()]
        self.price: dict[int, Fraction] = {}
        self.cache: dict[int, Fraction] = {0: x}

    def __getitem__(self, c: int) -> Fraction:
        v = self.cache.get(c)
        if v is None:
            v = self.cache[c] = self.x - sum((self.price[it] for it in self.paid[c]), Fraction(0))
        return v

    def total(self, pairs: Iterable[tuple[int, int]]) -> Fraction:
        """Exact sum of ``m * budget(c)`` over ``(c, m)`` pairs."""
        voters = 0
        per_item: dict[int, int] = {}
        for c, m in pairs:
            voters += m
            for it in self.paid[c]:
                per_item[it] = per_item.get(it, 0) + m
        spent = sum((self.price[it] * n for it, n in per_item.items()), Fraction(0))
        return voters * self.x - spent


def _scan_float(entries, cost_f, uniform, abs_err, voters, weight):
    """Float version of pabutools' scan over entries sorted by key.

    ``voters`` and ``weight`` are the sums of m and of m * u over the entries. Returns
    (rho, error bound, index of the first class that pays rho * u rather than all).
    """
    denom_f = weight
    paid_f = 0.0
    stop = len(entries) - 1
    rho_f = cost_f / denom_f
    for i, (key, _, _, m, uf) in enumerate(entries):
        rho_f = (cost_f - paid_f) / denom_f
        if (rho_f * uf <= key) if uniform else (rho_f <= key):
            stop = i
            break
        paid_f += m * (key if uniform else key * uf)
        denom_f -= m * uf
    else:
        return None, None, None  # rounding hid the paying class: the caller goes exact
    # Rounding in the sums is below len * eps * (cost + paid), and each float budget is off
    # by at most abs_err; be generous.
    err = 8 * (len(entries) + 4) * _EPS * ((cost_f + paid_f) / denom_f + rho_f)
    err += 2 * voters * abs_err / denom_f
    return rho_f, err, stop


def _rho_exact(entries, stop, cost, value, uniform, rho_f, abs_err, voters):
    """Exact price from the float scan's cut, verified near the cut; None if floats erred."""
    poor = entries[:stop]
    paid = value.total((c, m) for _, c, _, m, _ in poor)
    if uniform and entries:
        # One utility for every supporter: count the rich instead of summing them.
        denom = entries[0][2] * (voters - sum(m for _, _, _, m, _ in poor))
    else:
        denom = sum(m * u for _, _, u, m, _ in entries[stop:])
    if not denom:
        return None
    rho = (cost - paid) / denom
    for i in range(stop - 1, -1, -1):
        key, c, u, _, uf = entries[i]
        if key < (rho_f * uf if uniform else rho_f) * (1 - _TOL) - abs_err * 2:
            break
        if not value[c] < rho * u:
            return None
    for i in range(stop, len(entries)):
        key, c, u, _, uf = entries[i]
        if key > (rho_f * uf if uniform else rho_f) * (1 + _TOL) + abs_err * 2:
            break
        if not value[c] >= rho * u:
            return None
    return rho


def _scan_exact(entries, cost, value, uniform):
    """pabutools' scan in exact arithmetic: the fallback when floats cannot decide."""
    if uniform:
        entries.sort(key=lambda e: value[e[1]])
    else:
        entries.sort(key=lambda e: value[e[1]] / e[2])
    denom = sum(m * u for _, _, u, m, _ in entries)
    paid = Fraction(0)
    for i, (_, c, u, m, _) in enumerate(entries):
        rho = (cost - paid) / denom
        if rho * u <= value[c]:
            return rho, i
        paid += m * value[c]
        denom -= m * u
    raise AssertionError("an affordable project always has a paying class")


_REL = 1e-7  # assumed relative error of float forms: far above what rounding can reach


class _Validity:
    """Bounds how far the budget per voter can grow before any decision of a run may change.

    While a run's decisions (who pays in full, which project is cheapest, what is
    affordable) stay the same, every budget and price is a linear function ``a + b * x`` of
    the starting budget per voter ``x``; each decision is the sign of such a function. The
    outcome is therefore the same for every ``x`` up to the first root of any of them.
    Slopes are kept in floating point, so each root is bounded from below using an error
    margin: the limit found is never beyond the true one (it may be before it, which only
    costs an extra run). ``add1`` uses the limit to skip increments.
    """

    __slots__ = ("x", "xf", "dist")

    def __init__(self, x: Fraction) -> None:
        self.x = x
        self.xf = float(x)
        self.dist = math.inf  # distance from x to the first possible change

    def holds(self, gap: float, gap_err: float, slope: float, slope_err: float) -> None:
        """A decision depends on the sign of ``gap + slope * (x' - x)`` staying as it is now."""
        if abs(gap) <= gap_err:
            self.dist = 0.0  # a tie (or too close to call): valid at this budget only
            return
        if (gap * slope > 0 and abs(slope) > slope_err) or not (slope or slope_err):
            return  # moving away from zero, or not moving
        d = (abs(gap) - gap_err) / (abs(slope) + slope_err)
        if d < self.dist:
            self.dist = d

    @property
    def until(self) -> Fraction | None:
        """The budget per voter (exclusive) up to which the run's outcome is certain."""
        if self.dist == math.inf:
            return None
        return self.x + Fraction(self.dist * (1 - 1e-6))


def run_mes(
    inp: MESInput,
    budget_per_voter: Fraction,
    prepared: _Prepared | None = None,
    track: bool = False,
    money: bool = True,
) -> tuple[MESRun, Fraction | None]:
    """Run MES once with every voter starting at ``budget_per_voter``.

    Returns the run and, with ``track``, a budget per voter up to which (exclusive) the
    same run is guaranteed to select the same projects in the same order (None: no limit).
    Prices are found in floating point and confirmed exactly, so only the projects that
    could be the cheapest (within rounding) are ever priced in exact arithmetic.
    """
    prep = prepared or _Prepared(inp)
    util, costs = inp.item_util, inp.costs
    uniform = prep.uniform
    x = Fraction(budget_per_voter)
    valid = _Validity(x)
    zero = Fraction(0)
    # A class: voters with the same budget and, with ``track``, the same slope d budget/dx.
    # Classes are numbered; class_of maps each ballot group to its class (-1: no money).
    value = _Budgets(x)  # exact, on demand
    value_f: list[float] = [float(x)]
    slope: list[float] = [1.0]
    class_by_path: dict[tuple[int, ...], int] = {(): 0}
    # Each float budget is x minus at most `depth` float prices: its rounding error is below
    # abs_err (recomputed as paths grow).
    depth = 0
    abs_err = 4 * _EPS * float(x)
    class_of = [0] * len(inp.groups)
    cost_f = [float(c) for c in costs]
    util_f = [float(u) for u in util]
    get_class = class_of.__getitem__

    def supporters(p: int) -> tuple[list[tuple], float, int, float]:
        """Per class holding supporters of p (with money): (key, class, u, m, u as float).

        Also returns their money (float), their number, and the sum of m * u (float).
        """
        entries: list[tuple] = []
        money_f, voters, weight = 0.0, 0, 0.0
        for it in prep.project_items[p]:
            u, uf = util[it], util_f[it]
            tally = Counter(map(get_class, prep.item_voters[it]))
            tally.pop(-1, None)
            classes, ms = list(tally), list(tally.values())
            vals = list(map(value_f.__getitem__, classes))
            money_f += sum(map(mul, ms, vals))
            n = sum(ms)
            voters += n
            weight += n * uf
            keys = vals if uniform else [v / uf for v in vals]
            entries += zip(keys, classes, repeat(u), ms, repeat(uf))
        return entries, money_f, voters, weight

    def affordable(p: int, entries, money_f: float, voters: int) -> bool:
        cost = costs[p]
        margin = _TOL * cost_f[p] + voters * abs_err
        if money_f < cost_f[p] - margin:
            ok = False
        elif money_f > cost_f[p] + margin:
            ok = True
        else:
            ok = value.total((c, m) for _, c, _, m, _ in entries) >= cost
        if not ok and track:
            # Money grows with x (slopes are >= 0): it may reach the cost.
            grow = sum(m * slope[c] for _, c, _, m, _ in entries)
            valid.holds(cost_f[p] - money_f, _REL * cost_f[p] + margin, -grow, _REL * grow)
        return ok

    def price_slope(entries, weight: float, rho_f: float, poor: int, record: bool) -> float:
        """d rho / dx; with ``record``, note when a class paying in full could pay rho * u.

        ``entries[:poor]`` pay all they have. Budget slopes are >= 0, so the price can only
        fall as x grows and a class paying rho * u keeps doing so. While budgets are linear
        in x the price is a convex function of x (the boundary of a superlevel set of a
        concave function), so for a project that is not bought the tangent stays a valid
        lower bound past such changes: only the project bought needs them recorded.
        """
        poor_weight = poor_slope = 0.0
        for _, c, _, m, uf in entries[:poor]:
            poor_weight += m * uf
            poor_slope += m * slope[c]
        rich = weight - poor_weight
        if rich <= _REL * weight:  # rounding could matter: recount the rich side
            rich = sum(m * uf for _, _, _, m, uf in entries[poor:])
        drop = poor_slope / rich
        if not record:
            return -drop
        for _, c, _, _, uf in entries[:poor]:
            short = rho_f * uf - value_f[c]  # > 0 while the class pays in full
            fall = slope[c] + drop * uf  # how fast the shortfall shrinks
            valid.holds(short, _REL * rho_f * uf + abs_err, -fall, _REL * fall)
        for _, c, _, _, uf in entries[poor:]:
            if value_f[c] - rho_f * uf > _REL * rho_f * uf + abs_err:
                break  # sorted: the rest are clearly above the cut
            valid.dist = 0.0  # a class exactly at the cut: do not extrapolate
        return -drop

    def pay(p: int, rho: Fraction, drop: float) -> None:
        nonlocal depth, abs_err
        for it in prep.project_items[p]:
            u, uf = util[it], util_f[it]
            price = rho * u
            value.price[it] = price
            price_f = float(price)
            near = _TOL * price_f + 2 * abs_err
            groups = prep.item_groups[it]
            current = list(map(get_class, groups))
            target: dict[int, int] = {-1: -1}
            for c in set(current):
                if c < 0:
                    continue
                left_f = value_f[c] - price_f
                if left_f < -near or (left_f <= near and value[c] <= price):
                    target[c] = -1  # paid all it had
                    continue
                path = value.paid[c] + (it,)
                d = class_by_path.get(path)
                if d is None:
                    d = class_by_path[path] = len(value_f)
                    value.paid.append(path)
                    value_f.append(left_f)
                    slope.append(slope[c] + drop * uf if track else 0.0)
                    if len(path) > depth:
                        depth = len(path)
                        abs_err = 4 * (depth + 1) * _EPS * float(x)
                target[c] = d
            # Move every group in C-level passes.
            deque(map(class_of.__setitem__, groups, map(target.__getitem__, current)), maxlen=0)

    # Affordability never decreases (budgets only shrink), so a price computed earlier is a
    # lower bound now and projects can be examined lazily, cheapest bound first.
    lower_f = {p: float(costs[p] / prep.total_util[p]) * (1 - _TOL) for p in prep.candidates}
    lower_slope = dict.fromkeys(prep.candidates, 0.0)
    remaining = set(prep.candidates)
    selected = list(prep.free)
    rhos: list[Fraction] = [zero] * len(selected)
    ties: list[tuple[int, ...]] = [()] * len(selected)
    while remaining:
        best_hi = math.inf  # an upper bound on the cheapest price this round
        seen: list[tuple] = []
        weight_of: dict[int, float] = {}
        voters_of: dict[int, int] = {}
        for p in sorted(remaining, key=lambda q: (lower_f[q], inp.tie_rank[q])):
            if lower_f[p] > best_hi:
                break
            entries, money_f, voters, weight = supporters(p)
            if not affordable(p, entries, money_f, voters):
                remaining.discard(p)
                continue
            entries.sort(key=_first)
            rho_f, err, stop = _scan_float(entries, cost_f[p], uniform, abs_err, voters, weight)
            if rho_f is None:
                rho, _ = _scan_exact(entries, costs[p], value, uniform)
                entries.sort(key=_first)
                stop = sum(1 for e in entries if value[e[1]] < rho * e[2])
                rho_f, err = float(rho), 4 * _EPS * float(rho)
            lower_f[p] = rho_f - err
            seen.append((p, rho_f, err, entries, stop))
            weight_of[p], voters_of[p] = weight, voters
            best_hi = min(best_hi, rho_f + err)
        if not seen:
            break
        best: Fraction | None = None
        tied: list[int] = []
        for p, rho_f, err, entries, stop in seen:
            if rho_f - err > best_hi:
                continue  # cannot be the cheapest
            rho = _rho_exact(entries, stop, costs[p], value, uniform, rho_f, abs_err, voters_of[p])
            if rho is None:
                rho, _ = _scan_exact(entries, costs[p], value, uniform)
            if best is None or rho < best:
                best, tied = rho, [p]
            elif rho == best:
                tied.append(p)
        tied.sort(key=lambda q: inp.tie_rank[q])
        winner = tied[0]
        drop = 0.0
        if track:
            seen_at = {p: (rho_f, err, entries, stop) for p, rho_f, err, entries, stop in seen}
            for p, (rho_f, _, entries, stop) in seen_at.items():
                lower_slope[p] = price_slope(entries, weight_of[p], rho_f, stop, p == winner)
            drop = -lower_slope[winner]
            best_f, best_s = float(best), lower_slope[winner]
            for p in remaining:
                if p == winner:
                    continue
                if p in tied:
                    valid.dist = 0.0  # exact tie: only this budget is certain
                    continue
                # Priced now: its price; otherwise: a lower bound with the slope of the time.
                gap = (seen_at[p][0] if p in seen_at else lower_f[p]) - best_f
                gap_err = (seen_at[p][1] if p in seen_at else 0.0) + _REL * best_f
                ds = lower_slope[p] - best_s
                valid.holds(gap, gap_err, ds, _REL * (abs(lower_slope[p]) + abs(best_s)))
        remaining.discard(winner)
        selected.append(winner)
        rhos.append(best)
        ties.append(tuple(tied) if len(tied) > 1 else ())
        pay(winner, best, drop)

    left = [zero] * len(costs)
    if money:
        for p in range(len(costs)):
            left[p] = value.total((c, m) for _, c, _, m, _ in supporters(p)[0])
    run = MESRun(x, tuple(selected), tuple(rhos), tuple(ties), tuple(left))
    return run, valid.until if track else None


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
    budget_step=step * num_voters)``, whose budget bound we also honour. Increments that
    cannot change the outcome are skipped. Returns the chosen run and the last increment
    whose outcome it is (once every supported project is selected, the first such).
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
    while True:
        if len(best.selected) == everything:
            break  # every supported project is in: more money cannot add any
        if until is None:
            k = last  # no decision of this run can change: every later increment fits too
            break
        # Increments before the run's validity limit repeat the same outcome: skip them.
        nxt = max(k + 1, math.ceil((until - base) / step))
        if nxt > last:
            k = last
            break
        run, until = run_mes(inp, base + nxt * step, prep, track=True, money=False)
        if not fits(run.selected):
            k = nxt - 1
            break
        best, k = run, nxt
    final = run_mes(inp, base + k * step, prep)[0]  # the same selection, with money left
    return (final if final.selected == best.selected else best), k
