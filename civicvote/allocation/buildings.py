"""Buildings on cast ballots: kept only where no group is small enough to reveal votes.

Per-building fairness ("the share of each building's voters with at least one funded project")
needs each published ballot to carry its voter's building, which weakens ballot secrecy: in a
group of n ballots that all chose alike, everyone's vote is known. So a ballot keeps a building
only if every group has at least the round's minimum of ballots (``building_min_ballots``,
default 20, 10 to 1000, fixed when voting opens):

* buildings with fewer ballots than the minimum are merged into one group, ``OTHER``;
* if that group is then still under the minimum (but not empty), no ballot keeps a building;
* paper ballots carry none (the hand-over does not link a sheet to a resident): they are left
  out of the per-building figures and stay ungrouped in the export.

The building travels sealed in the ballot box entry while the ballot is open
(voting/sealing.py) and is coarsened here at the close, before the shuffle writes
``cast_ballots.neighbourhood``. docs/secrecy.md states the privacy cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

OTHER = "其他楼栋"  # the merged group's stored name: data (as building names are), not UI text
DEFAULT_MIN_BALLOTS = 20
MIN_BALLOTS_RANGE = (10, 1000)


def coarsen(buildings: Sequence[str | None], minimum: int) -> list[str | None]:
    """Each ballot's group as stored (None: no group), given each ballot's building.

    Ballots without a building (paper) stay None and count towards no group. Every group
    returned holds at least ``minimum`` ballots, or there are no groups at all.
    """
    minimum = max(int(minimum), MIN_BALLOTS_RANGE[0])
    sizes = Counter(b for b in buildings if b)
    small = {b for b, n in sizes.items() if n < minimum}
    merged = sum(sizes[b] for b in small)
    if 0 < merged < minimum:
        return [None] * len(buildings)
    return [None if not b else OTHER if b in small else b for b in buildings]


def groups_are_safe(groups: Sequence[str | None], minimum: int) -> bool:
    """Whether every stored group holds at least ``minimum`` ballots (an invariant to check)."""
    sizes = Counter(g for g in groups if g)
    return all(n >= max(int(minimum), MIN_BALLOTS_RANGE[0]) for n in sizes.values())
