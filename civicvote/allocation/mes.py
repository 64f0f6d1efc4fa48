"""The Method of Equal Shares (MES), computed over classes of voters with equal budgets.

Why classes: MES only ever asks, for a project, "how much money do its supporters have, and
how is it spread?". Every voter who pays for a project without running out pays the same
price per unit of utility, so voters who paid for the same items so far hold exactly the same
budget. We keep one *class* per such payment path; identical ballots are grouped first, and
each ballot group points at its class. Pricing a project counts its supporters per class in
one numpy ``bincount`` over the ballot groups that support it, and the scan for its price runs
over one entry per class, not per voter, also in numpy; paying moves the groups to their new
classes in one vectorised step.

Arithmetic: prices and budgets are found in floating point, each budget with a bound on its
error. A round whose winner, and whose split between supporters who pay all they have and
those who pay the price, floats prove is bought without exact arithmetic: its exact price
is deferred (it follows from that split) and worked out only when a later decision is too
close for floats, or when the caller asks for prices and money. Close calls are decided in
exact arithmetic (``fractions.Fraction``), exact budgets rebuilt on demand from the per-item
prices. So ties are real ties and outcomes equal pabutools' ``method_of_equal_shares``.

``add1`` (equalshares.net's completion, as pabutools' ``exhaustion_by_budget_increase`` with
``exhaustive_stop=False``) runs MES at many budgets. Each run records its rounds in a
:class:`Trace`; a run at a larger budget can then prove, against that trace, that every
budget in between selects the same projects in the same order (or, asked to, in orders that
differ only by swaps that leave everyone the same money), so add1 need not run them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from civicvote.allocation.stretch import Slopes, Trace, outcome_cost_bound


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
    # Price factor paid per unit of utility, per selected project (empty without ``money``).
    rho: tuple[Fraction, ...]
    ties: tuple[tuple[int, ...], ...]  # projects tied at the selection of each round
    # Per project, supporters' money left at the end (empty without ``money``).
    supporters_money: tuple[Fraction, ...]


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
        self.mult = mult = np.asarray(inp.mult, dtype=np.float64)
        self.item_weights = (
            [None] * n_items
            if all(m == 1 for m in inp.mult)
            else [mult[gs] for gs in self.item_groups]
        )
        # Per item, as many copies of its index and its utility as it has groups (so at least
        # as many as the classes they are in): slices of them stand for a priced item's
        # constant columns without making new arrays.
        self.item_index = [
            np.full(gs.size, it, dtype=np.intp) for it, gs in enumerate(self.item_groups)
        ]
        self.item_utils = [
            np.full(gs.size, float(u))
            for gs, u in zip(self.item_groups, inp.item_util, strict=True)
        ]
        self.total_util = [
            sum(self.item_count[it] * inp.item_util[it] for it in self.project_items[p])
            for p in range(n_proj)
        ]
        # pabutools: supported projects of cost 0 are taken up front, unsupported never.
        self.free = [p for p in range(n_proj) if self.total_util[p] > 0 and inp.costs[p] == 0]
        self.candidates = [p for p in range(n_proj) if self.total_util[p] > 0 and inp.costs[p] > 0]
        # Approval with cost (or any uniform) utilities: one item per project, no division.
        self.uniform = all(len(items) <= 1 for items in self.project_items)
        self.project_util = [
            float(inp.item_util[items[0]]) if items else 0.0 for items in self.project_items
        ]
        self._both: dict[tuple[int, int], np.ndarray] = {}
        # The most classes a run has made so far: the next starts with room for as many
        # (growing arrays of classes by doubling copied them some 8 times a run).
        self.classes = 1024

    def both(self, p: int, q: int) -> np.ndarray:
        """The ballot groups that support both ``p`` and ``q`` (uniform utilities)."""
        key = (p, q) if p < q else (q, p)
        if key not in self._both:
            (it_p,), (it_q,) = self.project_items[p], self.project_items[q]
            groups = self.item_groups[it_p], self.item_groups[it_q]
            self._both[key] = np.intersect1d(*groups, assume_unique=True)
        return self._both[key]


# A run's work, counted as it goes (Trace.work): add1 budgets its runs in it. One unit per
# ballot group gathered by class, CLASS_WORK per class a price is scanned over, CALL_WORK per
# item priced or paid (what numpy's calls cost whatever their size). Fitted to the time of runs
# on bench/allocation.py's elections, from 30 x 450 to 175 x 28,943: within 12% on each, 8-12 ns
# a unit on the development machine. A count, not a clock: the same ballots give the same
# work, and so the same result, on every machine.
CALL_WORK = 3_600
CLASS_WORK = 14
# A price worked out again from a run at a close budget (run_mes's ``near``): no gathering or
# sort, about half a full pricing's time (49 against 92 microseconds, timed one by one in a
# walk of bench/allocation.py's 175 x 28,943 instance; a fifth was an estimate). With it, a
# walk's time per unit of work is within 4% of the code before records were followed past
# different cuts, on that instance and on 1-2 approvals.
REPRICE_WORK = 7_000
_TOL = 1e-9
_EPS = 2.0**-52
_DEAD = 0  # the class of voters with no money left; class 1 holds everyone at the start
_TABLE_LIMIT = 32 * 2**20  # bytes of _Budgets.table at most (8 MB on the real shape)


class _Supporters:
    """The classes holding supporters of one project (with money), as parallel arrays.

    Per entry: ``cls`` (class), ``item``, ``m`` (voters, as float), ``uf`` (utility),
    ``val`` (float budget), ``err`` (a bound on that budget's error) and ``key`` (budget, or
    budget per unit of utility when a project's utilities differ); plus ``money`` (float),
    ``voters`` and ``weight`` (sum of m * u). :meth:`sort` orders the entries by key.
    Entries priced again from a run at a close budget (``run_mes``'s ``near``) are not sorted,
    but those who pay all they have come first.
    """

    __slots__ = (
        "cls",
        "item",
        "m",
        "uf",
        "val",
        "err",
        "key",
        "money",
        "voters",
        "weight",
        "_ints",
        "sorted",
    )

    def sort(self) -> None:
        if self.sorted:
            return
        # Not a stable sort (three times slower here): entries with equal keys are either all
        # payers of all they have or none, so their order changes no price and no cut.
        order = self.key.argsort()
        if self.key is self.val:  # one item (uniform utilities): item and utility constant
            self.cls, self.m, self.val, self.err = (
                self.cls[order],
                self.m[order],
                self.val[order],
                self.err[order],
            )
            self.key = self.val
        else:
            for name in ("cls", "item", "m", "uf", "val", "err", "key"):
                setattr(self, name, getattr(self, name)[order])
        self._ints = None
        self.sorted = True

    @property
    def size(self) -> int:
        return len(self.cls)

    def ints(self) -> tuple[list[int], list[int], list[int]]:
        """(classes, items, voter counts) as Python ints, for exact arithmetic."""
        if self._ints is None:
            self._ints = (self.cls.tolist(), self.item.tolist(), self.m.astype(np.int64).tolist())
        return self._ints


class _Budgets:
    """Exact class budgets and prices, computed only when a decision needs them.

    Every voter who pays for project item ``it`` without running out pays the same
    ``price[it]`` (rho times the item's utility), so a class's budget is ``x`` minus the
    prices along its path, and sums over many classes reduce to integer counts per item.

    A project bought on a clear float decision is *deferred*: its exact price follows from
    who paid all they had (the classes before the cut), which floats proved, and is worked
    out only when some later decision is too close for floats (or the caller wants money).
    """

    def __init__(self, x: Fraction, util, uniform: bool) -> None:
        self.x = x
        self.util = util
        self.uniform = uniform
        # The classes made, a round's at a time: (their parents, the item they paid). As lists,
        # a parent pointer and the item paid last per class, and as a table of which items
        # each class paid, made from them only when first needed: most runs never need them,
        # and listing thousands of classes a round cost a twentieth of a run.
        self.made: list[tuple[np.ndarray, int]] = []
        self.parent: list[int] = [_DEAD, _DEAD]
        self.last: list[int] = [-1, -1]
        self.listed = 0  # how many of ``made`` are in ``parent`` and ``last``
        self.paid: np.ndarray | None = None  # per class and item: 1 if the class paid it
        self.tabled = 0  # how many of ``made`` are in ``paid``
        self.classes = 2  # how many classes (rows of ``paid``) they hold
        self.price: dict[int, Fraction] = {}
        self.rho: dict[int, Fraction] = {}  # per project bought
        self.pending: list[tuple] = []  # deferred purchases, in order
        self.cache: dict[int, Fraction] = {_DEAD: Fraction(0), 1: x}

    def buy(self, p: int, items: Sequence[int], rho: Fraction) -> None:
        self.rho[p] = rho
        for it in items:
            self.price[it] = rho * self.util[it]

    def defer(self, p: int, items: Sequence[int], s: _Supporters, stop: int, cost) -> None:
        self.pending.append((p, items, s, stop, cost))

    def settle(self) -> None:
        """Price every deferred purchase exactly; each depends only on earlier ones."""
        pending, self.pending = self.pending, []
        for p, items, s, stop, cost in pending:
            self.buy(p, items, _rho_at_cut(s, stop, cost, self, self.util, self.uniform))

    def exact_price(self, it: int) -> Fraction:
        if self.pending:
            self.settle()
        return self.price[it]

    def __getitem__(self, c: int) -> Fraction:
        v = self.cache.get(c)
        if v is None:
            if self.pending:
                self.settle()
            v = self.cache[c] = self.x - sum(map(self.price.__getitem__, self.path(c)), Fraction(0))
        return v

    def add(self, parents: np.ndarray, it: int) -> None:
        """New classes, numbered on from the last: each paid item ``it`` from its parent."""
        self.made.append((parents, it))

    def path(self, c: int) -> list[int]:
        """The items class ``c`` paid for."""
        for parents, it in self.made[self.listed :]:
            self.parent.extend(parents.tolist())
            self.last.extend([it] * parents.size)
        self.listed = len(self.made)
        items, parent, last = [], self.parent, self.last
        while c > 1:
            items.append(last[c])
            c = parent[c]
        return items

    def table(self) -> np.ndarray:
        """Per class (rows) and item: 1 if the class paid for the item, else 0."""
        if self.paid is None:
            self.paid = np.zeros((1024, len(self.util)), dtype=np.uint8)
        for parents, it in self.made[self.tabled :]:
            start, end = self.classes, self.classes + parents.size
            if end > len(self.paid):
                grown = np.zeros((max(2 * len(self.paid), end), len(self.util)), np.uint8)
                grown[: self.classes] = self.paid[: self.classes]
                self.paid = grown
            self.paid[start:end] = self.paid[parents]
            self.paid[start:end, it] = 1
            self.classes = end
        self.tabled = len(self.made)
        return self.paid

    def total(self, classes: Sequence[int], counts: Sequence[int]) -> Fraction:
        """Exact sum of ``m * budget(c)`` over classes ``c`` holding ``m`` voters each: the
        voters times the budget, less each item's price times how many of them paid it
        (counted in floats, exact as whole numbers far below 2**53)."""
        if self.pending:
            self.settle()
        if not classes:
            return Fraction(0)
        made = self.classes + sum(parents.size for parents, _ in self.made[self.tabled :])
        if made * len(self.util) <= _TABLE_LIMIT:
            paid = np.asarray(counts, dtype=np.float64) @ self.table()[classes]
            per_item = {it: int(n) for it, n in enumerate(paid.tolist()) if n}
        else:  # items by the thousand (points ballots): each class's path, in Python
            per_item = {}
            for c, m in zip(classes, counts, strict=True):
                for it in self.path(c):
                    per_item[it] = per_item.get(it, 0) + m
        spent = sum((self.price[it] * n for it, n in per_item.items()), Fraction(0))
        return sum(counts) * self.x - spent


class _ByClass:
    """Ballot groups gathered by class: ``np.unique(classes, return_inverse=True)``, in
    linear time.

    Pricing and paying gather a project's ballot groups by class in every round. Sorting them
    (as ``unique`` does) took a third of a run on the benchmark's elections; this takes a
    third of that. Each class gets a slot: writing every entry's position to its class's slot
    leaves one position per class there (whichever numpy wrote last), and that entry stands
    for its class; then the slot takes the class's index. The classes come out in the order of
    the entries that stand for them, not sorted.
    """

    def __init__(self, classes: int, entries: int) -> None:
        self.slot = np.empty(classes, dtype=np.intp)
        self.position = np.arange(entries)

    def grow(self, classes: int) -> None:
        if classes > self.slot.size:
            self.slot = np.empty(max(2 * self.slot.size, classes), dtype=np.intp)

    def __call__(self, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct classes, and for each entry the index of its class among them."""
        position = self.position[: classes.size]
        self.slot[classes] = position
        first = (self.slot[classes] == position).nonzero()[0]
        distinct = classes[first]
        self.slot[distinct] = position[: first.size]  # now each class's slot holds its index
        return distinct, self.slot[classes]


def _scan_float(s: _Supporters, cost_f: float, uniform: bool):
    """Float version of pabutools' scan over the entries sorted by key.

    Returns (rho, error bound, index of the first class that pays rho * u rather than all).
    """
    if uniform and s.size:
        rho, paid, denom, stop = scan_uniform(s.m, s.val, s.voters, cost_f, float(s.uf[0]))
    else:
        spent = s.m * s.val
        paid = spent.cumsum() - spent  # paid by the classes before each entry
        weights = s.m * s.uf
        denom = s.weight - (weights.cumsum() - weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = (cost_f - paid) / denom
            pays_part = (rho * s.uf <= s.key) if uniform else (rho <= s.key)
        hits = pays_part.nonzero()[0]
        stop = int(hits[0]) if hits.size else None
    if stop is None:
        return None, None, None  # rounding hid the paying class: the caller goes exact
    rho_f, paid_f, denom_f = float(rho[stop]), float(paid[stop]), float(denom[stop])
    return rho_f, _price_error(s, stop, cost_f, paid_f, denom_f, rho_f), stop


def scan_uniform(m: np.ndarray, money: np.ndarray, voters, cost_f: float, u: float):
    """The scan of :func:`_scan_float` where every supporter has utility ``u``: over entries
    sorted by ``money`` (``m`` voters each, ``voters`` in all), the price if those before each
    entry pay all they have, what they pay, the utility left to share the rest, and the index
    of the first entry that pays the price rather than all (None if none does).

    Who is left to pay the price is a whole count of voters, exact and never none, so no
    division by zero (and no np.errstate, a fifth of the scan's time).
    """
    spent = m * money
    paid = spent.cumsum() - spent  # paid by the entries before each
    denom = (voters - (m.cumsum() - m)) * u
    rho = (cost_f - paid) / denom
    hits = (rho * u <= money).nonzero()[0]
    return rho, paid, denom, int(hits[0]) if hits.size else None


def _price_error(s: _Supporters, stop: int, cost_f: float, paid_f: float, denom_f, rho_f):
    """A bound on the error of ``rho_f = (cost_f - paid_f) / denom_f``, the float price when
    the entries before ``stop`` pay all they have (``paid_f``) and the rest share the rest."""
    # Rounding in the sums is below len * eps * (cost + paid); the budgets of those who pay
    # all they have carry their own error bounds. Be generous.
    err = 8 * (s.size + 4) * _EPS * ((cost_f + paid_f) / denom_f + rho_f)
    return err + 2 * float(s.m[:stop] @ s.err[:stop]) / denom_f


def _cut_holds(s: _Supporters, stop: int, rho_f: float, err: float) -> bool:
    """Whether floats prove the cut for every price within ``err`` of ``rho_f``.

    Entries before ``stop`` must have less than rho * u (they pay all they have), the rest
    more. Then the exact price is the one the cut gives, whatever the rounding.
    """
    lo = (rho_f - err) * s.uf[:stop] * (1 - 4 * _EPS)
    hi = (rho_f + err) * s.uf[stop:] * (1 + 4 * _EPS)
    return bool(
        (s.val[:stop] + s.err[:stop] < lo).all() and (s.val[stop:] - s.err[stop:] > hi).all()
    )


def _rho_at_cut(s: _Supporters, stop, cost, value, util, uniform):
    """The exact price if the entries before ``stop`` pay all they have; None if none can."""
    classes, items, counts = s.ints()
    paid = value.total(classes[:stop], counts[:stop])
    if uniform and classes:
        # One utility for every supporter: count the rich instead of summing them.
        denom = util[items[0]] * (s.voters - sum(counts[:stop]))
    else:
        denom = sum(m * util[it] for it, m in zip(items[stop:], counts[stop:], strict=True))
    return (cost - paid) / denom if denom else None


def _rho_exact(s: _Supporters, stop, cost, value, util, uniform, rho_f):
    """Exact price from the float scan's cut, verified near the cut; None if floats erred."""
    rho = _rho_at_cut(s, stop, cost, value, util, uniform)
    if rho is None:
        return None
    classes, items, _ = s.ints()
    keys, ufs = s.key, s.uf
    near = 2 * float(s.err.max())
    for i in range(stop - 1, -1, -1):
        uf = float(ufs[i])
        if keys[i] < (rho_f * uf if uniform else rho_f) * (1 - _TOL) - near:
            break
        if not value[classes[i]] < rho * util[items[i]]:
            return None
    for i in range(stop, len(classes)):
        uf = float(ufs[i])
        if keys[i] > (rho_f * uf if uniform else rho_f) * (1 + _TOL) + near:
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


class _Follow:
    """How a run's classes stand to those of a run at another budget (``near``) that bought
    the same winners so far (run_mes's ``near``).

    In each run, voters with the same payments so far form a class, but who pays all they
    have differs between budgets. Each class of near's is one of this run's (the same
    voters, other budgets) or holds voters with no money left here (``here`` maps it to 0).
    A class of this run's that none of near's is ("lone") holds voters who ran out of money
    in near but not here. So near's record of the classes supporting a project is this
    run's, through ``here``, once the lone classes are added.
    """

    def __init__(self, near: Trace, groups: int, capacity: int) -> None:
        self.made = near.value.made  # near's classes, a round's at a time
        self.here = np.zeros(2 + sum(parents.size for parents, _ in self.made), dtype=np.intp)
        self.here[1] = 1  # everyone, at the start
        self.next = 2  # near's next class
        self.lone = np.zeros(capacity, dtype=bool)
        self.lone_group = np.zeros(groups, dtype=bool)  # ballot groups in a lone class
        self.any_lone = False
        self.child = np.zeros(capacity, dtype=np.intp)  # scratch: each payer's new class

    def grow(self, capacity: int) -> None:
        grown = capacity - self.lone.size
        if grown > 0:
            self.lone = np.concatenate([self.lone, np.zeros(grown, dtype=bool)])
            self.child = np.concatenate([self.child, np.zeros(grown, dtype=np.intp)])

    def paid(self, rnd, classes, parents, new, groups, class_of) -> None:
        """This run paid round ``rnd``'s winner: of the payers' ``classes``, ``parents`` kept
        money, each now as class ``new`` (``class_of`` says where each group is now); near
        paid the same winner in the same round, each class its own way."""
        there, _ = self.made[rnd]
        child = self.child
        child[classes] = 0
        child[parents] = new
        child[0] = 0
        # Near's new classes: each the new class of its parent here, or 0 if that ran out.
        born = self.here[self.next : self.next + there.size]
        born[:] = child[self.here[there]]
        self.next += there.size
        self.lone[new] = True
        self.lone[born] = False
        self.lone[0] = False
        lone = self.lone[class_of[groups]]
        self.lone_group[groups] = lone
        self.any_lone = self.any_lone or bool(lone.any())


def run_mes(
    inp: MESInput,
    budget_per_voter: Fraction,
    prepared: _Prepared | None = None,
    money: bool = True,
    against: Trace | None = None,
    swaps: bool = False,
    near: Trace | None = None,
    bound: bool = False,
) -> tuple[MESRun, Trace]:
    """Run MES once with every voter starting at ``budget_per_voter``.

    Returns the run and its :class:`Trace` (each round's price). Prices are found in floating
    point with error bounds; exact arithmetic decides only the calls floats cannot. With
    ``money`` (the default) the run also reports every price and each project's supporters'
    money left, exactly; without, those are left empty.

    ``against``, the trace of a run at a smaller budget per voter, asks whether every budget
    in between selects the same projects in the same order (``Trace.certified``): see
    :mod:`civicvote.allocation.stretch` for the argument. With ``swaps``, the same projects
    in the same order but for swaps of two rounds' winners where the swap leaves everyone the
    same money (``Trace.swaps`` lists them): for callers that care only which projects an
    outcome holds. With ``bound``, where the checks fail, ``Trace.cost_bound`` bounds the cost
    of every outcome in between (:func:`.stretch.outcome_cost_bound`): for such callers too.

    ``near``, the trace of a run at a close budget (add1's last run), changes nothing but
    speed: while this run buys the same winners as ``near`` did, it prices a project from
    ``near``'s record of the same round (its supporters' classes, matched to this run's by
    :class:`_Follow`) without gathering them, and without sorting where floats prove the same
    voters pay all they have.
    """
    prep = prepared or _Prepared(inp)
    util, costs = inp.item_util, inp.costs
    uniform = prep.uniform
    x = Fraction(budget_per_voter)
    zero = Fraction(0)
    # A class: voters with the same budget (the same payments so far).
    # class_of maps each ballot group to its class; classes are numbered in creation order.
    value = _Budgets(x, util, uniform)  # exact, on demand
    capacity = prep.classes
    value_f = np.zeros(capacity)  # float budgets per class
    error = np.zeros(capacity)  # a bound on each float budget's error
    value_f[1], error[1] = float(x), _EPS * float(x)
    # How fast each class's budget grows with the budget per voter, were every cut (who
    # pays all they have) to stay as at x: for add1's guesses, never part of a proof.
    growth = np.zeros(capacity)
    growth[1] = 1.0
    n_classes = 2
    rounding = 2 * _EPS * float(x)  # one subtraction from a budget of at most x
    class_of = np.ones(len(inp.groups), dtype=np.intp)
    by_class = _ByClass(capacity, len(inp.groups))
    cost_f = [float(c) for c in costs]
    util_f = [float(u) for u in util]
    util_arr = np.asarray(util_f, dtype=np.float64)

    def held_by_class(groups: np.ndarray, weights: np.ndarray | None):
        """The classes ballot ``groups`` are in, and the voters each holds (as floats)."""
        # Gathering the few classes the groups are in beats counting over every class ever
        # made (bincount + nonzero was 40% of a run on the 175 x 28,943 benchmark).
        cls, where = by_class(class_of[groups])
        return cls, np.bincount(where, weights).astype(np.float64, copy=False)

    def supporters(p: int) -> _Supporters:
        """The classes holding supporters of p, with their money."""
        parts = []
        for it in prep.project_items[p]:
            trace.work += CALL_WORK + prep.item_groups[it].size
            cls, held = held_by_class(prep.item_groups[it], prep.item_weights[it])
            alive = cls != _DEAD
            if not alive.all():
                cls, held = cls[alive], held[alive]
            parts.append((cls, prep.item_index[it][: cls.size], held))
        s = _Supporters()
        if len(parts) == 1:
            s.cls, s.item, s.m = parts[0]
            s.uf = prep.item_utils[it][: s.cls.size]
        else:
            if parts:
                s.cls, s.item, s.m = (np.concatenate(a) for a in zip(*parts, strict=True))
            else:  # nobody supports p
                s.cls, s.item, s.m = np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
            s.uf = util_arr[s.item]
        trace.work += CLASS_WORK * s.cls.size
        s.val = value_f[s.cls]
        s.err = error[s.cls]
        s.key = s.val if uniform else s.val / s.uf
        s.money = float(s.m @ s.val)
        s.voters = int(s.m.sum())
        s.weight = s.voters * util_f[it] if uniform and parts else float(s.m @ s.uf)
        s._ints = None
        s.sorted = False
        return s

    def from_record(p: int) -> tuple[_Supporters, int] | None:
        """``p``'s supporters as ``near`` found them in this round, in this run's classes
        (``follow``): none gathered. Near's classes whose voters have no money here are left
        out; this run's classes that none of near's is (voters who ran out of money there)
        come first, as if they paid all they have. With the number of entries who pay all
        they have in near's record; None if ``near`` did not price ``p`` here."""
        rnd = len(trace.rounds)
        record = near.gathered[rnd].get(p) if rnd < len(near.gathered) else None
        if record is None or record[2] < 0:  # not priced: out of reach there
            return None
        there, m, stop, voters = record
        cls = follow.here[there]
        if not cls.all():
            alive = cls.nonzero()[0]
            stop = int(np.count_nonzero(cls[:stop]))
            cls, m = cls[alive], m[alive]
            voters = int(m.sum())
        it = prep.project_items[p][0]
        trace.work += REPRICE_WORK + cls.size
        if follow.any_lone:
            groups = prep.item_groups[it]
            lone = follow.lone_group[groups]
            if lone.any():
                weights = prep.item_weights[it]
                extra, held = held_by_class(
                    groups[lone], None if weights is None else weights[lone]
                )
                cls, m = np.concatenate([extra, cls]), np.concatenate([held, m])
                stop += extra.size
                voters += int(held.sum())
        s = _Supporters()
        s.cls, s.m = cls, m
        s.val = s.key = value_f[cls]
        s.err = error[cls]
        s.item, s.uf = prep.item_index[it][: cls.size], prep.item_utils[it][: cls.size]
        s.money, s.voters, s.weight = float(m @ s.val), voters, voters * util_f[it]
        s._ints, s.sorted = None, False
        return s, stop

    def price_again(p: int, s: _Supporters, stop: int, seen, shortfall) -> float | None:
        """Price ``p`` as :func:`price` does, from ``near``'s record of this round
        (:func:`from_record`): who paid all they had there must do so here too, as floats
        prove (``_cut_holds``: then this is the price). None where floats do not prove it,
        or ``p`` is out of reach or too close to it to tell."""
        it = prep.project_items[p][0]
        u, cost = util_f[it], cost_f[p]
        poor = int(s.m[:stop].sum())
        if s.money <= cost + _TOL * cost + float(s.m @ s.err) or s.voters == poor:
            return None
        paid = float(s.m[:stop] @ s.val[:stop])
        denom = u * (s.voters - poor)
        rho_f = (cost - paid) / denom
        err = _price_error(s, stop, cost, paid, denom, rho_f)
        if not _cut_holds(s, stop, rho_f, err):
            return None
        trace.reused += 1
        shortfall[p] = cost - s.money
        gathered[p] = (s.cls, s.m, stop, s.voters)
        return priced(p, s, rho_f, err, stop, seen)

    def affordable(p: int, s: _Supporters) -> bool:
        cost = costs[p]
        margin = _TOL * cost_f[p] + float(s.m @ s.err)
        if s.money < cost_f[p] - margin:
            ok = False
        elif s.money > cost_f[p] + margin:
            ok = True
        else:
            classes, _, counts = s.ints()
            ok = value.total(classes, counts) >= cost
        return ok

    def pay(p: int, rho_f: float, rho_err: float, rnd: int, fall=None) -> None:
        """Charge p's supporters: each pays rho * u or all it has (``rho_err`` bounds rho_f).

        ``fall``: bounds on how fast p's price falls over the stretch, with ``against``."""
        nonlocal n_classes, value_f, error, growth
        for it in prep.project_items[p]:
            uf = util_f[it]
            price_f = rho_f * uf
            price_err = rho_err * uf + 2 * _EPS * price_f
            groups = prep.item_groups[it]
            trace.work += CALL_WORK + groups.size
            classes, where = by_class(class_of[groups])
            left = value_f[classes] - price_f
            near = error[classes] + price_err
            broke = (left < -near) | (classes == _DEAD)
            for i in (~broke & (left <= near)).nonzero()[0].tolist():
                # Too close for floats.
                broke[i] = value[int(classes[i])] <= value.exact_price(it)
            # Classes that keep money move to a new class each: their path gains `it`, which
            # no existing path holds.
            trace.out_at[groups[(broke & (classes != _DEAD))[where]]] = rnd
            keep = (~broke).nonzero()[0]
            new = np.arange(n_classes, n_classes + keep.size)
            if new.size and new[-1] >= value_f.size:
                grown = max(2 * value_f.size, int(new[-1]) + 1) - value_f.size
                value_f, error, growth = (
                    np.concatenate([a, np.zeros(grown)]) for a in (value_f, error, growth)
                )
                by_class.grow(value_f.size)
                if follows:
                    follow.grow(value_f.size)
            parents = classes[keep]
            value_f[new] = left[keep]
            growth[new] = growth[parents] - slope[p] * uf
            error[new] = error[parents] + price_err + rounding
            value.add(parents, it)
            n_classes += keep.size
            if fall is not None:
                slopes.paid(parents, new, *fall, uf)
            target = np.zeros(classes.size, dtype=np.intp)
            target[keep] = new  # the others have no money left
            class_of[groups] = target[where]
            if follows:
                follow.paid(rnd, classes, parents, new, groups, class_of)

    # Affordability never decreases (budgets only shrink), so a price computed earlier is a
    # lower bound now and projects can be examined lazily, cheapest bound first.
    lower_f = np.full(len(costs), math.inf)
    for p in prep.candidates:
        lower_f[p] = float(costs[p] / prep.total_util[p]) * (1 - _TOL)
    remaining = np.zeros(len(costs), dtype=bool)
    remaining[prep.candidates] = True
    tie_rank = np.asarray(inp.tie_rank)
    selected = list(prep.free)
    for p in selected:
        value.buy(p, prep.project_items[p], zero)
    ties: list[tuple[int, ...]] = [()] * len(selected)
    trace = Trace(x, value, len(inp.groups))
    slopes = None
    if against is not None:
        slopes = Slopes(against, x, capacity)
    pending: int | None = None  # the project that must win this round: a swap's second
    slope: dict[int, float] = {}  # how fast each project's last price moves with x (growth)

    def exact_price(p: int, rho_f: float, s: _Supporters, stop: int) -> Fraction:
        """``p``'s exact price from its float scan's cut, or from an exact scan if floats erred."""
        s.sort()  # if priced again from ``near``: its cut holds, so the payers stay first
        rho = _rho_exact(s, stop, costs[p], value, util, uniform, rho_f)
        if rho is None:
            rho, _ = _scan_exact(s, costs[p], value, util, uniform)
        return rho

    def parts(p: int) -> list[tuple]:
        return [
            (prep.item_groups[it], prep.item_weights[it], util_f[it])
            for it in prep.project_items[p]
        ]

    def check(rnd: int, winner: int, best: tuple[float, float], seen: list[tuple], fall) -> None:
        """Whether this round keeps ``against``'s winner at every budget in between: the
        plain check, else the slope check, else the widening check (see stretch)."""
        if rnd >= len(against.rounds) or against.rounds[rnd] != winner:
            trace.certified = False  # a different project wins here
            return
        thr_f, thr_err = against.price_f[rnd], against.price_err[rnd]
        for p, rho_f, err, s, stop in seen:
            if p == winner:
                continue
            if rho_f - err > thr_f + thr_err:
                continue  # surely dearer than the winner was at the smaller budget
            if rho_f + err >= thr_f - thr_err:  # too close for floats: exactly
                rho = exact_price(p, rho_f, s, stop)
                thr = against.exact(rnd)
                if rho > thr or (rho == thr and inp.tie_rank[winner] < inp.tie_rank[p]):
                    continue
            items = parts(p)
            low = slopes.price_fall(rnd, items, class_of, value_f, error, rho_f, err)[0]
            if slopes.apart((rho_f - err) - (best[0] + best[1]), fall[1], low) > 0:
                trace.by_slope += 1
            elif slopes.widening(rnd, p, items, class_of, value_f, error, fall[0]):
                trace.by_widening += 1
            else:
                trace.certified = False
                return

    def price(p: int, seen: list[tuple], shortfall: dict[int, float]) -> float:
        """Price ``p`` in this round (as ``seen`` entries); its upper bound, inf if out of
        reach from now on."""
        got = from_record(p) if follows else None
        if got is not None:
            bound = price_again(p, *got, seen, shortfall)
            if bound is not None:
                return bound
            s = got[0]  # no gathering all the same: sorted and scanned below
            trace.work += CLASS_WORK * s.size
        else:
            s = supporters(p)
        shortfall[p] = cost_f[p] - s.money
        if not affordable(p, s):
            remaining[p] = False
            lower_f[p] = math.inf
            if uniform:  # where a larger budget may bring it within reach (add1's guesses)
                gathered[p] = (s.cls, s.m, -1, s.voters)
            return math.inf
        s.sort()
        rho_f, err, stop = _scan_float(s, cost_f[p], uniform)
        if rho_f is None:
            rho, stop = _scan_exact(s, costs[p], value, util, uniform)
            rho_f, err = float(rho), 4 * _EPS * float(rho)
        elif uniform:
            gathered[p] = (s.cls, s.m, stop, s.voters)
        return priced(p, s, rho_f, err, stop, seen)

    def priced(p: int, s: _Supporters, rho_f: float, err: float, stop: int, seen) -> float:
        """Note ``p`` priced at ``rho_f`` (within ``err``) in this round; its upper bound."""
        lower_f[p] = rho_f - err
        seen.append((p, rho_f, err, s, stop))
        # Those who pay all they have pay what their budgets grow by; the others share the rest.
        paying = float(s.weight - s.m[:stop] @ s.uf[:stop])
        slope[p] = -float(s.m[:stop] @ growth[s.cls[:stop]]) / paying if paying else 0.0
        return rho_f + err

    def commute(rnd: int, q: int, seen: list[tuple], shortfall: dict[int, float]) -> bool:
        """Whether ``against``'s winners of rounds ``rnd`` and ``rnd + 1``, ``p`` then ``q``,
        may trade places (as here) at every budget in between, leaving the same money to
        everyone after both, while no other project wins either round (see stretch)."""
        p = against.rounds[rnd]
        if not uniform:
            return False
        both = prep.both(p, q)
        trace.work += CALL_WORK + both.size
        # Who supports both paid both in full at x (so at every larger budget), or has no
        # money at y (so none at any smaller budget).
        if not (against.paid_both(both, rnd) | (class_of[both] == _DEAD)).all():
            return False
        thr_f = max(against.price_f[r] + against.price_err[r] for r in (rnd, rnd + 1))
        priced = {entry[0] for entry in seen}
        for o in np.lexsort((tie_rank, lower_f))[: int(remaining.sum())].tolist():
            if lower_f[o] > thr_f:
                break
            if o not in priced and o != p:
                price(o, seen, shortfall)
        thr = None
        for o, rho_f, err, s, stop in seen:
            if o in (p, q) or rho_f - err > thr_f:
                continue  # surely dearer than both were at the smaller budget
            if thr is None:
                thr = max(against.exact(rnd), against.exact(rnd + 1))
            if exact_price(o, rho_f, s, stop) <= thr:
                return False
        return True

    # With ``near``: whether this run has bought ``near``'s winners so far. Then a project's
    # supporters are in the classes ``near`` found them in, in the same round (those classes
    # taken to this run's by ``follow``), and their prices need no gathering.
    follows = near is not None and uniform
    follow = _Follow(near, len(inp.groups), capacity) if follows else None
    while remaining.any():
        rnd = len(trace.rounds)
        gathered: dict[int, tuple] = {}  # for trace.gathered
        # With ``against``: projects priced at most this far above the other run's winner are
        # priced here too, so that each can be compared with it.
        if against is not None and trace.certified and rnd < len(against.rounds):
            check_hi = against.price_f[rnd] + against.price_err[rnd]
        else:
            check_hi = -math.inf
        best_hi = math.inf  # an upper bound on the cheapest price this round
        seen: list[tuple] = []
        shortfall: dict[int, float] = {}
        order = np.lexsort((tie_rank, lower_f))[: int(remaining.sum())]
        for p in order.tolist():
            if lower_f[p] > best_hi and lower_f[p] > check_hi:
                break
            best_hi = min(best_hi, price(p, seen, shortfall))
        if not seen:
            break
        contenders = [entry for entry in seen if entry[1] - entry[2] <= best_hi]
        if len(contenders) == 1 and _cut_holds(*contenders[0][3:], *contenders[0][1:3]):
            # Floats prove both the winner and who pays all they have: defer the exact price.
            winner, best_f, best_err, s, stop = contenders[0]
            tied = [winner]
            value.defer(winner, prep.project_items[winner], s, stop, costs[winner])
        else:
            best: Fraction | None = None
            tied = []
            for p, rho_f, _, s, stop in contenders:
                rho = exact_price(p, rho_f, s, stop)
                if best is None or rho < best:
                    best, tied = rho, [p]
                elif rho == best:
                    tied.append(p)
            tied.sort(key=lambda q: inp.tie_rank[q])
            winner = tied[0]
            best_f, best_err = float(best), 2 * _EPS * float(best)
            value.buy(winner, prep.project_items[winner], best)
        fall = None
        vouched = against is not None and trace.certified  # every round before this one
        if against is not None and trace.certified:
            peer = rnd  # the round that bought the winner at the smaller budget
            if pending is not None:  # a swap's second round: checked with its first
                peer, trace.certified, pending = rnd - 1, winner == pending, None
                vouched = False  # half a swap is paid: no bound from this round's money
            elif (
                swaps
                and rnd + 1 < len(against.rounds)
                and against.rounds[rnd] != winner
                and against.rounds[rnd + 1] == winner
            ):
                peer = rnd + 1
                if commute(rnd, winner, seen, shortfall):
                    pending = against.rounds[rnd]
                    trace.swaps.append(rnd)
                else:
                    trace.certified = False
            if trace.certified:
                items = parts(winner)
                fall = slopes.price_fall(peer, items, class_of, value_f, error, best_f, best_err)
                if peer == rnd:
                    check(rnd, winner, (best_f, best_err), seen, fall)
            if not trace.certified:
                fall = None
        if bound and vouched and not trace.certified:
            left = remaining.nonzero()[0].tolist()
            bought = sum((costs[q] for q in trace.rounds), zero)
            trace.cost_bound = outcome_cost_bound(
                prep, costs, bought, left, class_of, value_f, error
            )
            trace.work += sum(
                CALL_WORK + prep.item_groups[it].size for q in left for it in prep.project_items[q]
            )
        remaining[winner] = False
        lower_f[winner] = math.inf
        trace.rounds.append(winner)
        trace.price_f.append(best_f)
        trace.price_err.append(best_err)
        trace.priced.append({entry[0]: entry[1] for entry in seen})
        trace.slope.append({entry[0]: slope[entry[0]] for entry in seen})
        trace.lower.append(lower_f.copy())
        trace.shortfall.append(shortfall)
        selected.append(winner)
        ties.append(tuple(tied) if len(tied) > 1 else ())
        follows = follows and rnd < len(near.rounds) and near.rounds[rnd] == winner
        pay(winner, best_f, best_err, rnd, fall)
        trace.gathered.append(gathered)
    prep.classes = max(prep.classes, n_classes)
    if uniform:  # for add1's guesses (guesses.price_at)
        trace.money_f, trace.pace = value_f, growth
        trace.costs, trace.utils = cost_f, prep.project_util
    if against is not None and len(trace.rounds) != len(against.rounds):
        trace.certified = False
    if not money:
        # What each project left out lacks at the end, where a later budget may fund it (add1
        # guesses where its runs select differently: never part of a proof).
        for q in sorted(set(prep.candidates).difference(selected)):
            held = grows = 0.0
            for it in prep.project_items[q]:
                trace.work += prep.item_groups[it].size
                there = class_of[prep.item_groups[it]]
                weights = prep.item_weights[it]
                cash, rate = value_f[there], growth[there]
                held += float(cash.sum() if weights is None else cash @ weights)
                grows += float(rate.sum() if weights is None else rate @ weights)
            trace.lack[q] = cost_f[q] - held
            trace.lack_slope[q] = -grows

    rhos: tuple[Fraction, ...] = ()
    left: tuple[Fraction, ...] = ()
    if money:
        value.settle()
        rhos = tuple(value.rho[p] for p in selected)
        left = tuple(value.total(*supporters(p).ints()[::2]) for p in range(len(costs)))
    run = MESRun(x, tuple(selected), rhos, tuple(ties), left)
    return run, trace
