"""Tie-breaking rules: a total order on projects used whenever a rule sees equal values.

Specs (recorded verbatim in every Outcome):

* ``lexico``: project id as a string (``"10" < "9"``), pabutools' default.
* ``cost`` or ``cost:SEED``: cheaper project first; equal costs by a drawn lot.
* ``lot:SEED``: a drawn lot only.

The lot is ``random.Random(SEED).shuffle`` of the ids sorted as strings, so anyone can
redraw it from the published seed. ``cost`` without a seed uses seed ``0``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from civicvote.allocation.model import Project


@dataclass(frozen=True)
class TieBreak:
    """A parsed tie-breaking spec."""

    kind: str
    seed: str | None = None

    @classmethod
    def parse(cls, spec: str | TieBreak | None, default: str = "cost") -> TieBreak:
        """Parse ``lexico``, ``cost``, ``cost:SEED`` or ``lot:SEED``."""
        if isinstance(spec, TieBreak):
            return spec
        text = (spec or default).strip()
        kind, _, seed = text.partition(":")
        kind = kind.strip().lower()
        if kind == "lexico" and not seed:
            return cls("lexico")
        if kind == "cost":
            return cls("cost", seed or "0")
        if kind == "lot" and seed:
            return cls("lot", seed)
        raise ValueError(f"unknown tie-break {text!r} (use lexico, cost, cost:SEED or lot:SEED)")

    @property
    def spec(self) -> str:
        """The canonical text form."""
        return self.kind if self.seed is None else f"{self.kind}:{self.seed}"

    def lot(self, ids: Iterable[str]) -> list[str]:
        """The drawn lot: ids in lot order (empty for ``lexico``)."""
        if self.seed is None:
            return []
        order = sorted(ids)
        random.Random(self.seed).shuffle(order)
        return order

    def key(self, projects: Iterable[Project]) -> Callable[[Project | str], tuple]:
        """A sort key: smaller key wins a tie."""
        projects = list(projects)
        cost = {p.id: p.cost for p in projects}
        position = {pid: i for i, pid in enumerate(self.lot(cost))}

        def key(p: Project | str) -> tuple:
            pid = p if isinstance(p, str) else p.id
            if self.kind == "lexico":
                return (pid,)
            if self.kind == "cost":
                return (cost[pid], position[pid])
            return (position[pid],)

        return key
