"""When a run of MES at budget per voter ``y`` vouches for every budget between ``x`` and ``y``.

add1 runs MES at thousands of budgets; :mod:`civicvote.allocation.add1` skips the budgets that
a run proves select the same projects in the same order. The proof, for a run at ``y`` made
with ``against=`` the :class:`Trace` of a run at ``x < y`` that selected the same sequence:

*Monotone.* Along a fixed order of winners, every voter's money left is non-decreasing in the
starting budget ``t`` (paying ``min(money, rho * u)`` leaves ``max(0, money - rho * u)``), so
every price ``rho`` in every round is non-increasing in ``t``, and a voter who pays a round's
price in full at ``t`` also does at every larger budget. Nothing unaffordable at ``y`` after
the last round is affordable at any smaller budget.

*Plain check.* If in each round every other project costs more at ``y`` than the winner did at
``x`` (or as much, and the winner comes first on ties), it costs more at every ``t`` between.

*Slope check*, for a close runner-up ``q`` of a round's winner ``w``. Where the budgets of who
pays all they have move, the price moves: ``rho'(t) = -sum(m * money') / sum(m * u)`` over
those who pay all they have (numerator) and those who pay the price (denominator), and a voter's
money grows at ``money' = 1 + sum(|rho_j'| * u_j)`` over what they paid the price for. Who pays
all at ``t`` is bounded by the runs at both ends (:meth:`Slopes.price_fall`), so on the stretch
``|rho_w'| <= fall_w`` and ``|rho_q'| >= fall_q``, and
``rho_q(t) - rho_w(t) >= gap(y) - max(0, fall_w - fall_q) * (y - t)``, which is positive over the
stretch if it is at ``x``.

*Widening check*, for a runner-up ``q`` too close for the slope check (often: the two just
traded places, so they are nearly tied at ``x``). The winner won at ``x``, so ``q`` cost at
least as much there. If ``q`` was within reach at ``x`` (priced there) and its price falls more
slowly than the winner's at every ``t`` in between, its lead only widens with the budget, so it
stays dearer. The winner's price falls at least as fast as the money of who surely pays all at
every ``t`` grows, over the utility of who may pay the price (:meth:`Slopes.price_fall`).
``q``'s falls at most as fast as the money of who may pay all for it grows, over the utility of
who surely pays its price: who pays all for it at ``t`` has less than its price at ``x``, and
money at ``t`` is at least money at ``y`` less its fastest growth over the stretch
(:meth:`Slopes.widening`).

*Swaps* (``run_mes(..., swaps=True)``): the run at ``y`` may buy round ``r``'s winner ``p`` at
``x`` and round ``r + 1``'s ``q`` the other way round. If every voter who supports both paid
both in full at ``x`` (so also at every larger budget, money growing and prices falling along
the rounds before), then at every budget in between, whichever is bought first, each costs
what it costs in round ``r``'s state and everyone has the same money after both: paying one
leaves the other's price unchanged, since the voters it shares pay that price either way.
Voters with no money at ``y`` have none at any smaller budget and pay nothing either way. So
the two may trade places anywhere in the stretch, and what follows goes as along one order,
provided no other project wins either round: each costs more at ``y`` in round ``r`` (and
only more after paying either) than both did at ``x`` in theirs (the plain check against
the dearer). Such a run vouches that every budget in between selects the same projects, in
``x``'s order but for the swaps it lists (``Trace.swaps``): for add1, whose test of an
outcome asks only which projects it holds, the same.

*Cost bound* (``run_mes(..., bound=True)``), for add1, which asks only whether each outcome
fits: where the checks fail in round ``R`` (another winner, or a runner-up too close), every
budget in between still buys the first ``R`` winners in order. After them, a voter's money at
``t`` is at most their money at ``y`` (*Monotone*), so a project later bought at ``t`` (its
supporters could pay for it from round ``R`` on) is one whose supporters hold at least its cost
at ``y`` in round ``R``: the rest of ``t``'s outcome costs at most those projects together, and
at most what their supporters hold, since supporters pay every project in full. With the first
``R`` winners' cost, that bounds every outcome in between (:func:`outcome_cost_bound`); where it
is within the budget, every increment in between fits whichever projects it buys.

Floats carry error bounds; a check too close to call fails, which costs add1 one more run,
never exactness. tests/allocation/test_add1_exact.py checks that a run never vouches for a
budget that selects otherwise, tests/allocation/test_add1_leaps.py that no outcome between two
runs costs more than their bound.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

_DEAD = 0  # the class of voters with no money left (mes._DEAD)
_ALIVE = np.iinfo(np.int32).max  # the "round" a voter who never runs out of money ran out
_SAFE = 1e-7  # relative slack on float bounds of price slopes: far above rounding


class Trace:
    """One run's rounds: winner, price, and when each ballot group ran out of money."""

    __slots__ = (
        "x",
        "value",
        "rounds",
        "price_f",
        "price_err",
        "priced",
        "slope",
        "lack_slope",
        "lack",
        "lower",
        "shortfall",
        "out_at",
        "certified",
        "swaps",
        "by_slope",
        "by_widening",
        "work",
        "gathered",
        "reused",
        "money_f",
        "pace",
        "costs",
        "utils",
        "cost_bound",
    )

    def __init__(self, x: Fraction, value, groups: int) -> None:
        self.x = x
        self.value = value  # exact budgets (mes._Budgets), for the rare call floats cannot make
        self.rounds: list[int] = []  # the winner of each round (projects of cost 0 apart)
        self.price_f: list[float] = []  # the winner's price per unit of utility
        self.price_err: list[float] = []  # a bound on each price's float error
        # Per round, every project priced in it (the winner and close runner-ups): float prices
        # for add1's guesses of where the order changes, never part of a proof.
        self.priced: list[dict[int, float]] = []
        # Per project left out, how much its supporters' money falls short of its cost at the
        # end (float): where a project becomes affordable, also a guess for add1.
        self.lack: dict[int, float] = {}
        # How fast each of those prices, and each of those shortfalls, moves with the budget
        # per voter, were who pays all they have to stay the same: for the same guesses.
        self.slope: list[dict[int, float]] = []
        self.lack_slope: dict[int, float] = {}
        # Per round, a lower bound on every project's price (inf: out of reach): where a
        # project not priced in a round stood, for the same guesses.
        self.lower: list[np.ndarray] = []
        # Per round, each project examined in it: its cost less its supporters' money (more
        # than 0: out of reach from then on). Also for add1's guesses.
        self.shortfall: list[dict[int, float]] = []
        self.out_at = np.full(groups, _ALIVE, dtype=np.int32)  # round each group paid all it had
        # With ``bound``, once the checks fail: a cost no outcome between the two runs' budgets
        # exceeds (outcome_cost_bound); None where they never failed, or mid-swap.
        self.cost_bound: Fraction | None = None
        self.certified = True  # with ``against``: whether this run vouches for the stretch
        # With ``swaps``: rounds r whose winners trade places with round r + 1's between the
        # two runs, and may do so at any budget in between (the same money after both).
        self.swaps: list[int] = []
        self.by_slope = 0  # runner-ups only the slope check kept above the winner
        self.by_widening = 0  # runner-ups only the widening check kept above the winner
        self.work = 0  # what the run cost (mes.CALL_WORK says in what)
        # Per round (uniform utilities): each project priced, as its supporters' classes,
        # voters per class (those who pay all they have first), how many classes pay all (-1:
        # out of reach, not priced) and how many voters there are. A run at a close budget
        # prices from them while it buys the same winners (mes.run_mes's ``near``).
        self.gathered: list[dict[int, tuple]] = []
        self.reused = 0  # prices worked out from such a record
        # Every class's float money and how fast it grows with the budget per voter
        # (mes.run_mes's arrays, set at the end of the run), and each project's cost and
        # utility: what guesses.price_at prices from, for add1's guesses only.
        self.money_f: np.ndarray | None = None
        self.pace: np.ndarray | None = None
        self.costs: list[float] = []
        self.utils: list[float] = []

    def paid_both(self, groups: np.ndarray, rnd: int) -> np.ndarray:
        """Per ballot group, whether it paid rounds ``rnd`` and ``rnd + 1`` in full (and kept
        some money): where those two winners may trade places (see *Swaps* above)."""
        return self.out_at[groups] > rnd + 1

    def exact(self, rnd: int) -> Fraction:
        """The exact price of round ``rnd``'s winner."""
        self.value.settle()
        return self.value.rho[self.rounds[rnd]]


def outcome_cost_bound(prep, costs, bought: Fraction, left, class_of, value_f, error) -> Fraction:
    """A cost no outcome between the two runs' budgets exceeds, when the checks failed in
    this round (see *Cost bound* above; ``class_of``, ``value_f`` and ``error`` as the run at
    ``y`` holds them at the start of the round).

    ``prep`` is the run's ``mes._Prepared``, ``costs`` the projects' exact costs; ``bought``
    the cost of the winners before the round; ``left`` the projects neither bought nor found
    out of reach so far at ``y`` (out of reach at ``y``, out of reach at every smaller
    budget). Floats count what voters hold, with
    their error bounds and a margin for the sums: a project in doubt counts as affordable.
    """
    # At most what each ballot group (of identical ballots) holds.
    cash = (value_f[class_of] + error[class_of]) * prep.mult
    within = np.zeros(class_of.size, dtype=bool)  # ballot groups supporting one of them
    tail = Fraction(0)
    for q in left:
        items = prep.project_items[q]
        held = sum(float(cash[prep.item_groups[it]].sum()) for it in items)
        if held * (1 + _SAFE) >= float(costs[q]):
            tail += costs[q]
            for it in items:
                within[prep.item_groups[it]] = True
    money = Fraction(float(cash[within].sum()) * (1 + _SAFE))
    return bought + min(tail, money)


class Slopes:
    """Per class of the run at ``y``: bounds on how fast its money grows over the stretch.

    ``lo`` holds for voters who still had money at ``x`` in the round at hand; ``hi`` for all.
    """

    def __init__(self, against: Trace, y: Fraction, capacity: int) -> None:
        self.against = against
        self.span = float(y - against.x)
        self.lo = np.zeros(capacity)
        self.hi = np.zeros(capacity)
        self.lo[1] = self.hi[1] = 1.0  # before any purchase, money is the budget itself

    def grow(self, size: int) -> None:
        # At least double, as the run's own class arrays do: a run makes new classes every
        # round, and growing by just enough copied both arrays in nearly every round.
        if size > self.lo.size:
            extra = max(size, 2 * self.lo.size) - self.lo.size
            self.lo, self.hi = (np.concatenate([a, np.zeros(extra)]) for a in (self.lo, self.hi))

    def price_fall(self, rnd, parts, class_of, value_f, error, rho_f, rho_err):
        """Bounds (at least, at most) on ``-rho'(t)`` over the stretch for a project priced
        ``rho_f`` (within ``rho_err``) in round ``rnd`` at ``y``.

        ``parts``: per item of the project, (its ballot groups, their weights or None, the
        item's utility). Who pays all at ``t`` paid all (or had run out) by this round at
        ``x``, and still had money at ``y``; who surely pays all at ``y``, and had money at
        ``x``, pays all at every ``t``. Those who pay the price at ``t`` include everyone who
        paid it at ``x`` and only those who did not surely pay all at ``y``.
        """
        out_at = self.against.out_at
        num_lo = num_hi = den_lo = den_hi = 0.0
        for groups, weights, u in parts:
            cls = class_of[groups]
            m = np.ones(groups.size) if weights is None else weights
            alive = cls != _DEAD
            surely_all = alive & (value_f[cls] + error[cls] < (rho_f - rho_err) * u * (1 - _SAFE))
            ran_out = out_at[groups] <= rnd  # at x: paid all by this round
            num_hi += float(m[alive & ran_out] @ self.hi[cls[alive & ran_out]])
            den_lo += float(m[~ran_out].sum()) * u
            had_money = out_at[groups] >= rnd
            num_lo += float(m[surely_all & had_money] @ self.lo[cls[surely_all & had_money]])
            den_hi += float(m[alive & ~surely_all].sum()) * u
        low = num_lo / den_hi * (1 - _SAFE) if den_hi else 0.0
        high = num_hi / den_lo * (1 + _SAFE) if den_lo else math.inf
        return low, high

    def widening(self, rnd, q, parts, class_of, value_f, error, fall_w: float) -> bool:
        """Whether runner-up ``q``'s lead over round ``rnd``'s winner can only widen from ``x``
        to ``y``: ``q`` was priced at ``x`` (so within reach there, and at every larger
        budget), and its price falls more slowly than the winner's, which falls at least
        ``fall_w``, at every budget in between.

        ``parts`` as for :meth:`price_fall`. How fast ``q``'s price falls at ``t`` is at most
        the money growth (``hi``) of who may pay all they have for it, over the utility of
        who surely pays its price. Who may pay all at ``t`` has less than ``q``'s price at
        ``x`` then, and money at ``t`` is at least money at ``y`` less ``hi`` per unit of
        budget over the stretch.
        """
        against = self.against
        price_x = against.priced[rnd].get(q)
        if price_x is None:
            return False  # not priced at x: perhaps out of reach there
        # Its price at x plus its error bound (lower holds it less the bound). The winner won
        # at x, so q was no cheaper there: a lead that only widens stays a lead.
        high_x = (2 * price_x - against.lower[rnd][q]) * (1 + _SAFE)
        num = den = 0.0
        for groups, weights, u in parts:
            cls = class_of[groups]
            m = np.ones(groups.size) if weights is None else weights
            alive = cls != _DEAD  # no money at y: none at any smaller budget
            hi = self.hi[cls]
            least = value_f[cls] - error[cls] - hi * self.span * (1 + _SAFE)
            may_pay_all = alive & (least < high_x * u)
            num += float(m[may_pay_all] @ hi[may_pay_all])
            den += float(m[alive & ~may_pay_all].sum()) * u
        return bool(den) and fall_w > num / den * (1 + _SAFE)

    def paid(self, parents, new, low: float, high: float, u: float) -> None:
        """Classes ``new`` paid ``rho * u`` from ``parents``: their money grows faster by
        what the price falls."""
        self.grow(int(new[-1]) + 1 if new.size else 0)
        self.lo[new] = self.lo[parents] + low * u
        self.hi[new] = self.hi[parents] + high * u

    def apart(self, gap_lo: float, fall_w: float, fall_q: float) -> float:
        """How far (at least) a runner-up ``gap_lo`` above the winner at ``y`` stays above it
        over the stretch, its price falling at least ``fall_q`` per unit of budget, the
        winner's at most ``fall_w``: it stays above if this is positive."""
        return gap_lo - max(0.0, fall_w - fall_q) * self.span * (1 + _SAFE)
