"""How far a run of MES stays the same as the budget per voter grows (for add1's skipping)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

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

    __slots__ = ("x", "dist")

    def __init__(self, x: Fraction) -> None:
        self.x = x
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
