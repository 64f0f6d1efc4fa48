"""Where the order of MES's winners changes next: add1's guesses (civicvote.allocation.add1).

The walk runs MES at the increments these say, just before a runner-up catches up with its
round's winner or a project comes within reach; every increment is still proven or run, so a
guess costs runs when it misses, never exactness. They read what a run recorded
(:class:`~civicvote.allocation.stretch.Trace`): each price, how fast it moves with the budget,
what projects out of reach lack, and who supports each project priced.
"""

from __future__ import annotations

import math

from civicvote.allocation.mes import scan_uniform
from civicvote.allocation.stretch import Trace

# How many runner-ups, those whose straight lines (their prices' slopes at one run) meet their
# winners' first, are priced again along the way (:func:`meet`). On the 175 x 28,943
# instance (seed 1) the exact walk took 769 runs with none, 689 with one, 680 with two and
# 679 with four, each costing a few milliseconds a guess.
MEET_FIRST = 2
MEET_TO = 0.5  # how closely :func:`meet` finds where two prices meet, per voter


def ahead(trace: Trace, commutes) -> float:
    """The smallest budget per voter at which, going on at the pace prices and money moved
    at ``trace``'s budget (``Trace.slope``, ``Trace.lack_slope``), a runner-up catches up with
    its round's winner or a project out of reach becomes affordable (infinite if none closes
    in). The next round's winner is passed over where the two may trade places
    (``commutes(trace, rnd)``). Where the lines of the first runner-ups meet their winners',
    the prices are worked out again along the way (:func:`meet`)."""
    x = float(trace.x)
    first = math.inf
    for p, lack in trace.lack.items():
        rate = trace.lack_slope[p]
        if lack > 0 and rate < 0:
            first = min(first, x + lack / -rate)
    lines = []  # (where the lines meet, less x; round, winner, runner-up)
    for rnd, prices in enumerate(trace.priced):
        winner, slopes = trace.rounds[rnd], trace.slope[rnd]
        after = trace.rounds[rnd + 1] if rnd + 1 < len(trace.rounds) else None
        for p, price in prices.items():
            if p == winner or (p == after and commutes(trace, rnd)):
                continue
            closing = slopes[winner] - slopes[p]  # how fast the gap to the winner shrinks
            if closing > 0:
                lines.append(((price - trace.price_f[rnd]) / closing, rnd, winner, p))
    lines.sort()
    for more, rnd, winner, p in lines[:MEET_FIRST]:
        met = meet(trace, rnd, winner, p, more)
        first = min(first, x + (more if met is None else met))
    return first


def meet(trace: Trace, rnd: int, w: int, v: int, guess: float) -> float | None:
    """How much more budget per voter than ``trace``'s brings ``v``'s price in round ``rnd``
    down to its winner ``w``'s, were every class's money to move at its pace
    (:func:`price_at`): the prices bend where who pays all they have changes. Found
    from ``guess`` (where their straight lines meet) to within a fraction of a unit;
    None if the run did not record both, inf if they do not meet by 4,096 times ``guess``."""

    def gap(more: float) -> float:  # v dearer than w: positive
        return price_at(trace, rnd, v, more) - price_at(trace, rnd, w, more)

    recorded = trace.gathered[rnd] if rnd < len(trace.gathered) else {}
    if trace.money_f is None or w not in recorded or v not in recorded:
        return None
    # At the run's own budget, price_at gives the run's prices (out of reach: inf).
    lo, g_lo = 0.0, trace.priced[rnd].get(v, math.inf) - trace.priced[rnd][w]
    if g_lo <= 0:
        return 0.0
    hi = max(guess, MEET_TO)
    g_hi = gap(hi)
    while g_hi > 0:  # bent the other way: not met yet
        if hi > 4096 * max(guess, MEET_TO):
            return math.inf
        lo, g_lo, hi = hi, g_hi, 2 * hi
        g_hi = gap(hi)
    # Regula falsi, Illinois style (the end that stays put counts half each time it does).
    stays = 0
    for _ in range(64):
        if hi - lo <= MEET_TO:
            break
        if math.isfinite(g_lo) and g_lo - g_hi > 0:
            mid = lo + (hi - lo) * g_lo / (g_lo - g_hi)
            mid = min(max(mid, lo + MEET_TO / 4), hi - MEET_TO / 4)
        else:  # v out of reach at lo
            mid = (lo + hi) / 2
        g_mid = gap(mid)
        if g_mid > 0:
            lo, g_lo = mid, g_mid
            stays = stays + 1 if stays > 0 else 1
            if stays > 1:
                g_hi /= 2
        else:
            hi, g_hi = mid, g_mid
            stays = stays - 1 if stays < 0 else -1
            if stays < -1 and math.isfinite(g_lo):
                g_lo /= 2
    return hi


def price_at(trace: Trace, rnd: int, p: int, more: float) -> float | None:
    """``p``'s price in round ``rnd`` with ``more`` budget per voter than ``trace``'s, from
    the run's record of its supporters' classes there (``Trace.gathered``), were every class's
    money to move at its pace (``Trace.pace``); inf if they could not pay for it, None if
    ``p`` was not priced there. Never part of a proof: where who pays all they have changes,
    the price bends, which a straight line from the run's slopes misses."""
    record = trace.gathered[rnd].get(p) if rnd < len(trace.gathered) else None
    if record is None or trace.money_f is None:
        return None
    cls, m, _, voters = record
    money = (trace.money_f[cls] + trace.pace[cls] * more).clip(0.0)
    order = money.argsort()
    rho, _, _, stop = scan_uniform(m[order], money[order], voters, trace.costs[p], trace.utils[p])
    return math.inf if stop is None else float(rho[stop])


def first_change(below: Trace, above: Trace, commutes) -> int:
    """The first round that two runs decide differently, passing over the winners of two
    rounds in a row that trade places where ``commutes(below, rnd)``; the length of the
    shorter if none."""
    a, b = below.rounds, above.rounds
    rnd, end = 0, min(len(a), len(b))
    while rnd < end:
        if a[rnd] == b[rnd]:
            rnd += 1
        elif rnd + 1 < end and (a[rnd], a[rnd + 1]) == (b[rnd + 1], b[rnd]):
            if not commutes(below, rnd):
                break
            rnd += 2
        else:
            break
    return rnd


def crossing(below: Trace, above: Trace, commutes) -> float:
    """Where the first round that two runs decide differently changes hands: ``below``
    selects its winner ``w``, ``above`` another project ``v``. Where their prices meet, worked
    out again from ``below``'s record (:func:`meet`) if that lies between the two runs; else,
    interpolating linearly, where their prices meet or ``v``'s supporters get the money it
    lacked below (infinite if ``below`` stopped there or the runs did not see what changed).
    Swaps that ``commutes`` passes over (:func:`first_change`)."""
    x0, x1 = float(below.x), float(above.x)
    rnd = first_change(below, above, commutes)
    if rnd >= len(above.rounds) or rnd >= len(below.rounds):
        return math.inf
    v, w = above.rounds[rnd], below.rounds[rnd]
    met = meet(below, rnd, w, v, (x1 - x0) / 2)
    if met is not None and x0 < x0 + met < x1:
        return x0 + met
    if v in below.priced[rnd]:
        gap0 = below.priced[rnd][v] - below.price_f[rnd]  # v dearer below
    else:
        at = reached(below, above, v, rnd)
        if at is not None:
            return at
        gap0 = below.lower[rnd][v] - below.price_f[rnd]  # at least: v was no contender
    if w not in above.priced[rnd] or not math.isfinite(gap0):
        return math.inf
    gap1 = above.priced[rnd][w] - above.price_f[rnd]  # w dearer above
    if gap0 + gap1 > 0:
        return x0 + gap0 * (x1 - x0) / (gap0 + gap1)
    return math.inf


def reached(below: Trace, above: Trace, v: int, rnd: int) -> float | None:
    """Where, interpolating linearly, ``v`` stays within reach: the round (up to ``rnd``) in
    which ``below`` found its supporters' money short of its cost, if ``above`` saw them hold
    more there. None if ``v`` was within reach below, or ``above`` did not look."""
    for r in range(rnd + 1):
        short0 = below.shortfall[r].get(v)
        if short0 is not None and short0 > 0:
            short1 = above.shortfall[r].get(v)
            if short1 is None or short1 >= short0:
                return None
            x0, x1 = float(below.x), float(above.x)
            return x0 + short0 * (x1 - x0) / (short0 - short1)
    return None
