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
                key.append(item_index.setdefault((p, Fraction(u)), len(item_index)))
        if key:
            t = tuple(sorted(key))
            grouped[t] = grouped.get(t, 0) + n
    items = sorted(item_index, key=item_index.get)
    return MESInput(
        costs=tuple(Fraction(c) for c in costs),
        item_project=tuple(p for p, _ in items),
        item_util=tuple(u for _, u in items),
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


def run_mes(inp: MESInput, budget_per_voter: Fraction, prepared: _Prepared | None = None) -> MESRun:
    """Run MES once with every voter starting at ``budget_per_voter``."""
    prep = prepared or _Prepared(inp)
    util, costs, mult, groups = inp.item_util, inp.costs, inp.mult, inp.groups
    b0 = Fraction(budget_per_voter)
    class_budget: list[Fraction] = [b0]
    class_of_budget: dict[Fraction, int] = {b0: 0}
    counts: list[dict[int, int]] = [{it: c for it, c in enumerate(prep.item_count) if c}]
    item_classes: list[set[int]] = [{0} if c else set() for c in prep.item_count]
    class_of = [0] * len(groups)  # -1: the voters have no money left

    def affordability(p: int) -> Fraction | None:
        cost = costs[p]
        entries = []
        money = Fraction(0)
        for it in prep.project_items[p]:
            u = util[it]
            for c in item_classes[it]:
                m = counts[c][it]
                bud = class_budget[c]
                money += m * bud
                entries.append((bud if prep.uniform else bud / u, bud, u, m))
        if money < cost:
            return None
        entries.sort(key=lambda e: e[0])
        denom = sum(m * u for _, _, u, m in entries)
        paid = Fraction(0)
        for _, bud, u, m in entries:
            rho = (cost - paid) / denom
            if rho * u <= bud:
                return rho
            paid += m * bud
            denom -= m * u
        return None  # unreachable: the last class can always cover the rest

    def pay(p: int, rho: Fraction) -> None:
        for it in prep.project_items[p]:
            price = rho * util[it]
            target: dict[int, int] = {}
            for g in prep.item_groups[it]:
                c = class_of[g]
                if c < 0:
                    continue
                d = target.get(c)
                if d is None:
                    left = class_budget[c] - price
                    if left <= 0:
                        d = -1
                    else:
                        d = class_of_budget.get(left)
                        if d is None:
                            d = len(class_budget)
                            class_budget.append(left)
                            class_of_budget[left] = d
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
    remaining = set(prep.candidates)
    selected = list(prep.free)
    rhos: list[Fraction] = [Fraction(0)] * len(selected)
    ties: list[tuple[int, ...]] = [()] * len(selected)
    while remaining:
        best: Fraction | None = None
        tied: list[int] = []
        for p in sorted(remaining, key=lambda q: (lower[q], inp.tie_rank[q])):
            if best is not None and lower[p] > best:
                break
            rho = affordability(p)
            if rho is None:
                remaining.discard(p)
                continue
            lower[p] = rho
            if best is None or rho < best:
                best, tied = rho, [p]
            elif rho == best:
                tied.append(p)
        if best is None:
            break
        tied.sort(key=lambda q: inp.tie_rank[q])
        winner = tied[0]
        remaining.discard(winner)
        selected.append(winner)
        rhos.append(best)
        ties.append(tuple(tied) if len(tied) > 1 else ())
        pay(winner, best)

    money = [
        sum(
            (
                counts[c][it] * class_budget[c]
                for it in prep.project_items[p]
                for c in item_classes[it]
            ),
            Fraction(0),
        )
        for p in range(len(costs))
    ]
    return MESRun(b0, tuple(selected), tuple(rhos), tuple(ties), tuple(money))


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
    first = run_mes(inp, budget / n, prep)
    if not add1:
        return first, 0
    if fits is None:

        def fits(sel: Sequence[int]) -> bool:
            return sum(inp.costs[p] for p in sel) <= budget

    best, k = first, 0
    everything = len(prep.candidates) + len(prep.free)
    while (k + 1) * Fraction(step) <= budget:  # pabutools' bound: budget * (voters + 1)
        if len(best.selected) == everything:
            break  # every supported project is already in: more money cannot add any
        run = run_mes(inp, budget / n + (k + 1) * Fraction(step), prep)
        if not fits(run.selected):
            break
        best, k = run, k + 1
    return best, k
