"""The Method of Equal Shares (MES), computed over classes of voters with equal budgets.

Why classes: MES only ever asks, for a project, "how much money do its supporters have, and
how is it spread?". Every voter who pays for a project without running out pays the same
price per unit of utility, so voters who paid for the same items so far hold exactly the same
budget. We keep one *class* per such payment path; identical ballots are grouped first, and
each ballot group points at its class. Pricing a project counts its supporters per class in
one numpy ``bincount`` over the ballot groups that support it, and the scan for its price runs
over one entry per class, not per voter, also in numpy; paying moves the groups to their new
classes in one vectorised step.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


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
        item_groups: list[list[int]] = [[] for _ in range(n_items)]
        self.item_count = [0] * n_items
        for g, ballot in enumerate(inp.groups):
            for it in ballot:
                item_groups[it].append(g)
                self.item_count[it] += inp.mult[g]
        # Voter-level passes (who holds supporters of an item, who pays) run in numpy over the
        # groups of each item; a group's weight is its number of identical ballots.
        self.item_groups = [np.asarray(gs, dtype=np.intp) for gs in item_groups]
        mult = np.asarray(inp.mult, dtype=np.float64)
        self.item_weights = (
            [None] * n_items
            if all(m == 1 for m in inp.mult)
            else [mult[gs] for gs in self.item_groups]
        )
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
_DEAD = 0  # the class of voters with no money left; class 1 holds everyone at the start


class _Budgets:
    """Exact class budgets, computed only when needed, from the payments each class made.

    Every voter who pays for project item ``it`` without running out pays the same
    ``price[it]`` (rho times the item's utility), so a class's budget is ``x`` minus the
    prices along its path, and sums over many classes reduce to integer counts per item.
    """

    def __init__(self, x: Fraction) -> None:
        self.x = x
        self.paid: list[tuple[int, ...]] = [(), ()]
        self.price: dict[int, Fraction] = {}
        self.cache: dict[int, Fraction] = {_DEAD: Fraction(0), 1: x}

    def __getitem__(self, c: int) -> Fraction:
        v = self.cache.get(c)
        if v is None:
            v = self.cache[c] = self.x - sum((self.price[it] for it in self.paid[c]), Fraction(0))
        return v

    def total(self, classes: Sequence[int], counts: Sequence[int]) -> Fraction:
        """Exact sum of ``m * budget(c)`` over classes ``c`` holding ``m`` voters each."""
        voters = 0
        per_item: dict[int, int] = {}
        paid = self.paid
        for c, m in zip(classes, counts, strict=True):
            voters += m
            for it in paid[c]:
                per_item[it] = per_item.get(it, 0) + m
        spent = sum((self.price[it] * n for it, n in per_item.items()), Fraction(0))
        return voters * self.x - spent


class _Supporters:
    """The classes holding supporters of one project (with money), as parallel arrays.

    Per entry: ``cls`` (class), ``item``, ``m`` (voters, as float), ``uf`` (utility),
    ``val`` (float budget) and ``key`` (budget, or budget per unit of utility when a
    project's utilities differ); plus ``money`` (float), ``voters`` and ``weight`` (sum of
    m * u). :meth:`sort` orders the entries by key.
    """

    __slots__ = ("cls", "item", "m", "uf", "val", "key", "money", "voters", "weight", "_ints")

    def sort(self) -> None:
        order = np.argsort(self.key, kind="stable")
        for name in ("cls", "item", "m", "uf", "val", "key"):
            setattr(self, name, getattr(self, name)[order])
        self._ints = None

    @property
    def size(self) -> int:
        return len(self.cls)

    def ints(self) -> tuple[list[int], list[int], list[int]]:
        """(classes, items, voter counts) as Python ints, for exact arithmetic."""
        if self._ints is None:
            self._ints = (self.cls.tolist(), self.item.tolist(), self.m.astype(np.int64).tolist())
        return self._ints


def _scan_float(s: _Supporters, cost_f: float, uniform: bool, abs_err: float):
    """Float version of pabutools' scan over the entries sorted by key.

    Returns (rho, error bound, index of the first class that pays rho * u rather than all).
    """
    spent = s.m * s.val
    paid = np.cumsum(spent) - spent  # paid by the classes before each entry
    used = np.cumsum(s.m * s.uf)
    denom = s.weight - (used - s.m * s.uf)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (cost_f - paid) / denom
        pays_part = (rho * s.uf <= s.key) if uniform else (rho <= s.key)
    hits = np.flatnonzero(pays_part)
    if not hits.size:
        return None, None, None  # rounding hid the paying class: the caller goes exact
    stop = int(hits[0])
    rho_f, paid_f, denom_f = float(rho[stop]), float(paid[stop]), float(denom[stop])
    # Rounding in the sums is below len * eps * (cost + paid), and each float budget is off
    # by at most abs_err; be generous.
    err = 8 * (s.size + 4) * _EPS * ((cost_f + paid_f) / denom_f + rho_f)
    err += 2 * s.voters * abs_err / denom_f
    return rho_f, err, stop


def _rho_exact(s: _Supporters, stop, cost, value, util, uniform, rho_f, abs_err):
    """Exact price from the float scan's cut, verified near the cut; None if floats erred."""
    classes, items, counts = s.ints()
    paid = value.total(classes[:stop], counts[:stop])
    if uniform and classes:
        # One utility for every supporter: count the rich instead of summing them.
        denom = util[items[0]] * (s.voters - sum(counts[:stop]))
    else:
        denom = sum(m * util[it] for it, m in zip(items[stop:], counts[stop:], strict=True))
    if not denom:
        return None
    rho = (cost - paid) / denom
    keys, ufs = s.key, s.uf
    for i in range(stop - 1, -1, -1):
        uf = float(ufs[i])
        if keys[i] < (rho_f * uf if uniform else rho_f) * (1 - _TOL) - abs_err * 2:
            break
        if not value[classes[i]] < rho * util[items[i]]:
            return None
    for i in range(stop, len(classes)):
        uf = float(ufs[i])
        if keys[i] > (rho_f * uf if uniform else rho_f) * (1 + _TOL) + abs_err * 2:
            break
        if not value[classes[i]] >= rho * util[items[i]]:
            return None
    return rho


def _scan_exact(s: _Supporters, cost, value, util, uniform):
    """pabutools' scan in exact arithmetic: the fallback when floats cannot decide.

    Returns the price and how many entries (in the float order) pay all they have.
    """
    classes, items, counts = s.ints()
    entries = list(zip(classes, items, counts, strict=True))
    if uniform:
        entries.sort(key=lambda e: value[e[0]])
    else:
        entries.sort(key=lambda e: value[e[0]] / util[e[1]])
    denom = sum(m * util[it] for _, it, m in entries)
    paid = Fraction(0)
    for c, it, m in entries:
        rho = (cost - paid) / denom
        if rho * util[it] <= value[c]:
            poor = sum(1 for c, it in zip(classes, items, strict=True) if value[c] < rho * util[it])
            return rho, poor
        paid += m * value[c]
        denom -= m * util[it]
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

    def holds_all(self, gap, gap_err, slope, slope_err) -> None:
        """:meth:`holds` for arrays of decisions."""
        if not gap.size:
            return
        size = np.abs(gap)
        if np.any(size <= gap_err):
            self.dist = 0.0
            return
        speed = np.abs(slope)
        moving = ((gap * slope <= 0) | (speed <= slope_err)) & ((slope != 0) | (slope_err != 0))
        if np.any(moving):
            d = (size[moving] - gap_err[moving]) / (speed[moving] + slope_err[moving])
            self.dist = min(self.dist, float(d.min()))

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
    # class_of maps each ballot group to its class; classes are numbered in creation order.
    value = _Budgets(x)  # exact, on demand
    capacity = 1024
    value_f = np.zeros(capacity)  # float budgets per class
    slope = np.zeros(capacity)
    value_f[1], slope[1] = float(x), 1.0
    n_classes = 2
    # Each float budget is x minus at most `depth` float prices: its rounding error is below
    # abs_err (recomputed as paths grow).
    depth = 0
    abs_err = 4 * _EPS * float(x)
    class_of = np.ones(len(inp.groups), dtype=np.intp)
    cost_f = [float(c) for c in costs]
    util_f = [float(u) for u in util]
    util_arr = np.asarray(util_f, dtype=np.float64)

    def supporters(p: int) -> _Supporters:
        """The classes holding supporters of p, with their money."""
        parts = []
        for it in prep.project_items[p]:
            held = np.bincount(class_of[prep.item_groups[it]], weights=prep.item_weights[it])
            held[_DEAD] = 0
            cls = np.flatnonzero(held)
            parts.append((cls, np.full(cls.size, it, dtype=np.intp), held[cls]))
        s = _Supporters()
        if len(parts) == 1:
            s.cls, s.item, s.m = parts[0]
        elif parts:
            s.cls, s.item, s.m = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
        else:  # nobody supports p
            s.cls, s.item, s.m = np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
        s.uf = util_arr[s.item]
        s.val = value_f[s.cls]
        s.key = s.val if uniform else s.val / s.uf
        s.money = float(s.m @ s.val)
        s.voters = int(s.m.sum())
        s.weight = float(s.m @ s.uf)
        s._ints = None
        return s

    def affordable(p: int, s: _Supporters) -> bool:
        cost = costs[p]
        margin = _TOL * cost_f[p] + s.voters * abs_err
        if s.money < cost_f[p] - margin:
            ok = False
        elif s.money > cost_f[p] + margin:
            ok = True
        else:
            classes, _, counts = s.ints()
            ok = value.total(classes, counts) >= cost
        if not ok and track:
            # Money grows with x (slopes are >= 0): it may reach the cost.
            grow = float(s.m @ slope[s.cls])
            valid.holds(cost_f[p] - s.money, _REL * cost_f[p] + margin, -grow, _REL * grow)
        return ok

    def price_slope(s: _Supporters, rho_f: float, poor: int, record: bool) -> float:
        """d rho / dx; with ``record``, note when a class paying in full could pay rho * u.

        Entries before ``poor`` pay all they have. Budget slopes are >= 0, so the price can
        only fall as x grows and a class paying rho * u keeps doing so. While budgets are
        linear in x the price is a convex function of x (the boundary of a superlevel set of
        a concave function), so for a project that is not bought the tangent stays a valid
        lower bound past such changes: only the project bought needs them recorded.
        """
        m, uf, cls = s.m[:poor], s.uf[:poor], s.cls[:poor]
        poor_weight = float(m @ uf)
        poor_slope = float(m @ slope[cls])
        rich = s.weight - poor_weight
        if rich <= _REL * s.weight:  # rounding could matter: recount the rich side
            rich = float(s.m[poor:] @ s.uf[poor:])
        drop = poor_slope / rich
        if not record:
            return -drop
        short = rho_f * uf - value_f[cls]  # > 0 while the class pays in full
        fall = slope[cls] + drop * uf  # how fast the shortfall shrinks
        valid.holds_all(short, _REL * rho_f * uf + abs_err, -fall, _REL * fall)
        if poor < s.size:
            uf0 = float(s.uf[poor])
            if not s.val[poor] - rho_f * uf0 > _REL * rho_f * uf0 + abs_err:
                valid.dist = 0.0  # a class exactly at the cut: do not extrapolate
        return -drop

    def pay(p: int, rho: Fraction, drop: float) -> None:
        nonlocal depth, abs_err, n_classes, value_f, slope
        for it in prep.project_items[p]:
            u, uf = util[it], util_f[it]
            price = rho * u
            value.price[it] = price
            price_f = float(price)
            near = _TOL * price_f + 2 * abs_err
            groups = prep.item_groups[it]
            classes, where = np.unique(class_of[groups], return_inverse=True)
            left = value_f[classes] - price_f
            broke = (left < -near) | (classes == _DEAD)
            for i in np.flatnonzero(~broke & (left <= near)).tolist():
                broke[i] = value[int(classes[i])] <= price  # too close for floats
            # Classes that keep money move to a new class each: their path gains `it`, which
            # no existing path holds.
            keep = np.flatnonzero(~broke)
            new = np.arange(n_classes, n_classes + keep.size)
            if new.size and new[-1] >= value_f.size:
                grown = max(2 * value_f.size, int(new[-1]) + 1)
                value_f = np.concatenate([value_f, np.zeros(grown - value_f.size)])
                slope = np.concatenate([slope, np.zeros(grown - slope.size)])
            value_f[new] = left[keep]
            parents = classes[keep]
            slope[new] = slope[parents] + drop * uf if track else 0.0
            paid = value.paid
            for c in parents.tolist():
                path = paid[c] + (it,)
                paid.append(path)
                if len(path) > depth:
                    depth = len(path)
                    abs_err = 4 * (depth + 1) * _EPS * float(x)
            n_classes += keep.size
            target = np.zeros(classes.size, dtype=np.intp)  # _DEAD unless kept
            target[keep] = new
            class_of[groups] = target[where]

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
        for p in sorted(remaining, key=lambda q: (lower_f[q], inp.tie_rank[q])):
            if lower_f[p] > best_hi:
                break
            s = supporters(p)
            if not affordable(p, s):
                remaining.discard(p)
                continue
            s.sort()
            rho_f, err, stop = _scan_float(s, cost_f[p], uniform, abs_err)
            if rho_f is None:
                rho, stop = _scan_exact(s, costs[p], value, util, uniform)
                rho_f, err = float(rho), 4 * _EPS * float(rho)
            lower_f[p] = rho_f - err
            seen.append((p, rho_f, err, s, stop))
            best_hi = min(best_hi, rho_f + err)
        if not seen:
            break
        best: Fraction | None = None
        tied: list[int] = []
        for p, rho_f, err, s, stop in seen:
            if rho_f - err > best_hi:
                continue  # cannot be the cheapest
            rho = _rho_exact(s, stop, costs[p], value, util, uniform, rho_f, abs_err)
            if rho is None:
                rho, _ = _scan_exact(s, costs[p], value, util, uniform)
            if best is None or rho < best:
                best, tied = rho, [p]
            elif rho == best:
                tied.append(p)
        tied.sort(key=lambda q: inp.tie_rank[q])
        winner = tied[0]
        drop = 0.0
        if track:
            seen_at = {p: (rho_f, err, s, stop) for p, rho_f, err, s, stop in seen}
            for p, (rho_f, _, s, stop) in seen_at.items():
                lower_slope[p] = price_slope(s, rho_f, stop, p == winner)
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
            classes, _, counts = supporters(p).ints()
            left[p] = value.total(classes, counts)
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
