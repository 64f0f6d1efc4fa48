"""Can the fund sources pay for a set of projects?  An exact integer max-flow.

Network: super-source -> project p (capacity cost(p)) -> fund source s (capacity: the
source's per-project cap, if any; only when s may pay p) -> super-sink (capacity: the
source's amount). Matching sources hang behind one extra node per project whose capacity is
the matching limit ``ratio / (1 + ratio) x cost(p)`` (see ``FundSource``). A set is payable
exactly when the maximum flow equals its total cost. Amounts are scaled by the common
denominator so that the flow runs over integers.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from fractions import Fraction

from civicvote.allocation.model import GENERAL, MATCHING, Amount, FundSource, Project, exact


class MaxFlow:
    """Dinic's algorithm on an integer network; supports raising capacities and resuming."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.adj: list[list[int]] = [[] for _ in range(n)]
        self.to: list[int] = []
        self.cap: list[int] = []

    def add_edge(self, u: int, v: int, cap: int) -> int:
        """Add edge u->v; return its index (the reverse edge is index ^ 1)."""
        self.adj[u].append(len(self.to))
        self.to.append(v)
        self.cap.append(cap)
        self.adj[v].append(len(self.to))
        self.to.append(u)
        self.cap.append(0)
        return len(self.to) - 2

    def flow_on(self, edge: int) -> int:
        """Flow currently on a forward edge (the residual of its reverse edge)."""
        return self.cap[edge ^ 1]

    def max_flow(self, s: int, t: int) -> int:
        """Push as much extra flow from s to t as possible; return the amount pushed."""
        total = 0
        while True:
            level = [-1] * self.n
            level[s] = 0
            queue = deque([s])
            while queue:
                u = queue.popleft()
                for e in self.adj[u]:
                    if self.cap[e] > 0 and level[self.to[e]] < 0:
                        level[self.to[e]] = level[u] + 1
                        queue.append(self.to[e])
            if level[t] < 0:
                return total
            it = [0] * self.n
            while True:
                pushed = self._push(s, t, math.inf, level, it)
                if not pushed:
                    break
                total += pushed

    def _push(self, u: int, t: int, limit, level: list[int], it: list[int]) -> int:
        # Iterative DFS would be longer; depth is at most 4 in our networks.
        if u == t:
            return limit
        while it[u] < len(self.adj[u]):
            e = self.adj[u][it[u]]
            v = self.to[e]
            if self.cap[e] > 0 and level[v] == level[u] + 1:
                got = self._push(v, t, min(limit, self.cap[e]), level, it)
                if got:
                    self.cap[e] -= got
                    self.cap[e ^ 1] += got
                    return got
            it[u] += 1
        return 0


class Funds:
    """The round's fund sources, able to test payability and to add projects one by one."""

    def __init__(self, sources: Sequence[FundSource], projects: Iterable[Project]) -> None:
        self.sources = list(sources)
        self.projects = {p.id: p for p in projects}
        ids = [s.id for s in self.sources]
        if len(set(ids)) != len(ids):
            raise ValueError("fund source ids must be unique")
        ratios = {s.match_ratio for s in self.sources if s.kind == MATCHING}
        if len(ratios) > 1:
            raise ValueError("all matching sources of a round must use the same match_ratio")
        self.ratio = ratios.pop() if ratios else None
        self.selected: list[str] = []
        self.spent = Fraction(0)
        self.simple = (
            len(self.sources) == 1
            and self.sources[0].kind == GENERAL
            and self.sources[0].per_project_cap is None
        )
        if not self.simple:
            self._build()

    @property
    def total(self) -> Amount:
        """Sum of all sources' amounts (matching money included)."""
        return exact(sum((Fraction(s.amount) for s in self.sources), Fraction(0)))

    def allowed(self, project: Project) -> list[str]:
        """Ids of the sources allowed to pay ``project``."""
        return [s.id for s in self.sources if s.may_pay(project)]

    def _match_cap(self, project: Project) -> Fraction:
        r = self.ratio
        return Fraction(project.cost) * r / (1 + r)

    def _build(self) -> None:
        values: list[Fraction] = [Fraction(p.cost) for p in self.projects.values()]
        values += [Fraction(s.amount) for s in self.sources]
        values += [Fraction(s.per_project_cap) for s in self.sources if s.per_project_cap]
        if self.ratio is not None:
            values += [self._match_cap(p) for p in self.projects.values()]
        self.scale = math.lcm(*(v.denominator for v in values)) if values else 1
        big = sum(int(v * self.scale) for v in values) + 1
        order = sorted(self.projects)  # the same network whatever order projects come in
        n_p, n_s = len(order), len(self.sources)
        # Nodes: 0 = S, 1 = T, projects, one matching node per project, sources.
        self.graph = g = MaxFlow(2 + 2 * n_p + n_s)
        src_node = {s.id: 2 + 2 * n_p + i for i, s in enumerate(self.sources)}
        self.entry: dict[str, int] = {}
        self.edges: dict[tuple[str, str], int] = {}
        self.sink_edge: dict[str, int] = {}
        for s in self.sources:
            self.sink_edge[s.id] = g.add_edge(src_node[s.id], 1, int(s.amount * self.scale))
        for i, pid in enumerate(order):
            project = self.projects[pid]
            node, match_node = 2 + i, 2 + n_p + i
            self.entry[pid] = g.add_edge(0, node, 0)  # opened when the project is added
            # Edge order is the search order: earmarked money (matching, then restricted) is
            # tried before general money, which stays free for projects only it can pay.
            if self.ratio is not None:
                cap = math.floor(self._match_cap(project) * self.scale)
                g.add_edge(node, match_node, cap)
            for s in sorted(self.sources, key=lambda s: (s.kind != MATCHING, s.kind == GENERAL)):
                if not s.may_pay(project):
                    continue
                cap = big if s.per_project_cap is None else int(s.per_project_cap * self.scale)
                tail = match_node if s.kind == MATCHING else node
                self.edges[pid, s.id] = g.add_edge(tail, src_node[s.id], cap)

    def try_add(self, project_id: str) -> tuple[bool, Amount]:
        """Fund ``project_id`` if the sources can still pay all selected projects plus it.

        Returns ``(added, available)`` where ``available`` is the most the sources could put
        into it on top of the projects already selected (matching money counted up to its
        per-project limit for a fully paid project, so for a partial payment it is an upper
        bound).
        """
        project = self.projects[project_id]
        cost = Fraction(project.cost)
        if self.simple:
            available = Fraction(self.sources[0].amount) - self.spent
            if cost <= available:
                self.selected.append(project_id)
                self.spent += cost
                return True, exact(cost)
            return False, exact(max(available, Fraction(0)))
        g = self.graph
        saved = list(g.cap)
        g.cap[self.entry[project_id]] = int(cost * self.scale)
        pushed = g.max_flow(0, 1)
        if Fraction(pushed, self.scale) == cost:
            self.selected.append(project_id)
            self.spent += cost
            return True, exact(cost)
        g.cap = saved  # roll back: the flow for the other projects stays as it was
        return False, exact(Fraction(pushed, self.scale))

    def assignment(self) -> dict[str, dict[str, Amount]]:
        """For each selected project, the amount each source pays (non-zero entries only)."""
        if self.simple:
            sid = self.sources[0].id
            return {pid: {sid: self.projects[pid].cost} for pid in self.selected}
        out: dict[str, dict[str, Amount]] = {}
        for pid in self.selected:
            row = {}
            for s in self.sources:
                edge = self.edges.get((pid, s.id))
                if edge is not None and self.graph.flow_on(edge):
                    row[s.id] = exact(Fraction(self.graph.flow_on(edge), self.scale))
            out[pid] = row
        return out

    def leftover(self) -> dict[str, Amount]:
        """What each source has left after paying the selected projects."""
        if self.simple:
            s = self.sources[0]
            return {s.id: exact(Fraction(s.amount) - self.spent)}
        return {
            s.id: exact(s.amount - Fraction(self.graph.flow_on(self.sink_edge[s.id]), self.scale))
            for s in self.sources
        }


def payable(
    projects: Iterable[Project], sources: Sequence[FundSource]
) -> tuple[bool, dict[str, dict[str, Amount]]]:
    """Whether ``sources`` can pay every project in full, and one way to do it."""
    projects = list(projects)
    funds = Funds(sources, projects)
    for p in projects:
        if not funds.try_add(p.id)[0]:
            return False, {}
    return True, funds.assignment()
