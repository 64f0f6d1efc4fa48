"""Allocation rules: greedy (with or without skipping), thresholds, Method of Equal Shares.

Every rule returns an :class:`~civicvote.allocation.model.Outcome` with one result record per
project. Reason codes (``Reason.code``) and their parameters:

* ``funded``: ``stage`` (``greedy``, ``equal_shares`` or ``greedy_completion``); for
  ``equal_shares`` also ``round``, ``rho`` (price per unit of utility) and, with cost
  utilities, ``share`` (what each supporter paid; those with less paid all they had).
* ``did_not_fit``: ``cost``, ``available`` (how much of the cost the sources could still
  pay), ``sources`` (ids of the sources allowed to pay it).
* ``below_threshold``: ``score``, ``required``, ``threshold`` (the spec, e.g. ``"10%"``).
* ``not_reached``: ``stopped_at`` (greedy-no-skip stopped at that project).
* ``no_support``: nobody supported the project (MES cannot fund it).
* ``not_affordable``: MES: ``cost``, ``supporters_money`` left when MES ended.
* ``tie_broken_by`` (extra reason): ``rule``, ``tied_with`` (ids), ``won`` (bool), and for MES
  ``round``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

from civicvote.allocation.add1 import equal_shares
from civicvote.allocation.flow import Funds
from civicvote.allocation.mes import compile_input
from civicvote.allocation.model import (
    APPROVAL,
    CUMULATIVE,
    GENERAL,
    SCORING,
    YESNO,
    Amount,
    FundSource,
    Outcome,
    Project,
    ProjectResult,
    Reason,
    Threshold,
    Votes,
    exact,
)
from civicvote.allocation.tiebreak import TieBreak

RULES = ("greedy", "greedy-no-skip", "greedy-threshold", "mes")
# ``+compare``: equalshares.net's comparison step with greedy by votes, after add1 (Pabulib's
# ``equalshares/add1-comparison``) or after add1 and the greedy completion.
COMPLETIONS = ("none", "add1", "greedy", "add1+greedy", "add1+compare", "add1+greedy+compare")


def allocate(
    projects: Iterable[Project],
    votes: Votes,
    *,
    budget: Amount | None = None,
    sources: Sequence[FundSource] | None = None,
    rule: str = "greedy",
    threshold: Threshold | Amount | None = None,
    tie_break: str | TieBreak | None = "cost",
    completion: str = "add1",
    utility: str | None = None,
    rank_by: str = "score",
    step: Amount = 1,
    tally: tuple[Mapping[str, int], Mapping[str, Amount]] | None = None,
    prove: bool = False,
    workers: int = 1,
) -> Outcome:
    """Run an allocation rule.

    ``budget`` alone means one general fund source ``"general"``; otherwise pass ``sources``.
    ``rule``: ``greedy`` (skip what does not fit), ``greedy-no-skip`` (stop at the first
    project that does not fit), ``greedy-threshold`` (greedy; ``threshold`` required) or
    ``mes``. A ``threshold`` (a number, or a :class:`Threshold`) works with every rule:
    projects below it are never funded.
    Greedy orders projects by ``rank_by``: ``score`` (points; ordinal: Borda-like
    ``len - position``; approval/yes-no: votes) or ``votes`` (ballots including the project).
    MES: ``utility`` is ``cost`` (default for approval, yes/no and ordinal; a supporter's
    utility is the project's cost) or ``points`` (default for cumulative/scoring);
    ``completion`` is ``none``, ``add1`` (raise each voter's budget by ``step`` while the
    outcome still fits), ``greedy`` (greedy by votes over what is left), ``add1+greedy``,
    ``add1+compare`` or ``add1+greedy+compare`` (equalshares.net's comparison step: then take
    what greedy by votes funds instead when more voters have more of their approved projects
    funded by it than by MES).
    ``step`` is in the unit of the amounts: 1 when they are yuan, 100 when they are fen.
    With several fund sources MES shares out their total; a project it selects that the
    sources cannot pay (max-flow) is reported ``did_not_fit``, and ``add1`` keeps the last
    outcome the sources can pay in full.
    ``tally``: optional ``(votes, score)`` per project id replacing the counts from ``votes``
    (for Pabulib files published without ballots; greedy rules only).
    ``prove``: add1 walks every increment, however long that takes, instead of searching past
    its work budget (only the largest elections search: docs/recount.md). ``workers``: with
    ``prove``, how many processes walk parts of it at once (forked; the command line's
    ``--prove`` uses every core, a server process never forks).
    """
    projects = list(projects)
    ids = [p.id for p in projects]
    if len(set(ids)) != len(ids):
        raise ValueError("project ids must be unique")
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    if sources is None:
        if budget is None:
            raise ValueError("give a budget or fund sources")
        sources = [FundSource(GENERAL, budget)]
    if threshold is not None and not isinstance(threshold, Threshold):
        threshold = Threshold(threshold)
    if rule == "greedy-threshold" and threshold is None:
        raise ValueError("greedy-threshold needs a threshold")
    tb = TieBreak.parse(tie_break)
    unknown = set().union(*votes.ballots) - set(ids)
    if unknown:
        raise ValueError(f"ballot names unknown project(s): {sorted(unknown)}")
    ctx = _Context(projects, votes, sources, threshold, tb, rank_by, tally)
    if rule == "mes":
        if completion not in COMPLETIONS:
            raise ValueError(f"unknown completion {completion!r}")
        outcome = _mes(ctx, completion, utility, Fraction(step), prove, workers)
        if completion.endswith("+compare"):
            rival = _Context(projects, votes, sources, threshold, tb, "votes", tally)
            outcome = compare_with_greedy(outcome, _greedy(rival, "greedy", skip=True), votes)
        return outcome
    return _greedy(ctx, rule, skip=rule != "greedy-no-skip")


def preferences(first: Iterable[str], second: Iterable[str], votes: Votes) -> tuple[int, int]:
    """How many voters have more of the projects they support in ``first`` than in
    ``second``, and how many the other way round (equalshares.net's comparison)."""
    a, b = frozenset(first), frozenset(second)
    prefer_a = prefer_b = 0
    for ballot, n in votes.weighted():
        supported = frozenset(votes.support(ballot))
        in_a, in_b = len(supported & a), len(supported & b)
        if in_a > in_b:
            prefer_a += n
        elif in_b > in_a:
            prefer_b += n
    return prefer_a, prefer_b


def compare_with_greedy(mes: Outcome, greedy: Outcome, votes: Votes) -> Outcome:
    """equalshares.net's comparison step: greedy's outcome when more voters prefer it."""
    prefer_mes, prefer_greedy = preferences(mes.funded, greedy.funded, votes)
    comparison = {"prefer_mes": prefer_mes, "prefer_greedy": prefer_greedy}
    chosen = greedy if prefer_greedy > prefer_mes else mes
    name = mes.rule + (":greedy" if chosen is greedy else "")
    details = {**chosen.details, "comparison": comparison, "completion": mes.details["completion"]}
    return replace(chosen, rule=name, details=details)


class _Context:
    """Tallies and bookkeeping shared by the rules."""

    def __init__(self, projects, votes, sources, threshold, tb, rank_by, tally=None) -> None:
        self.projects = projects
        self.by_id = {p.id: p for p in projects}
        self.votes = votes
        self.sources = list(sources)
        self.threshold = threshold
        self.tb = tb
        self.key = tb.key(projects)
        count, score = votes.tally() if tally is None else tally
        self.count = {p.id: count.get(p.id, 0) for p in projects}
        self.score = {p.id: exact(Fraction(score.get(p.id, 0))) for p in projects}
        if rank_by not in ("score", "votes"):
            raise ValueError("rank_by must be 'score' or 'votes'")
        self.value = self.score if rank_by == "score" else self.count
        self.ranking = sorted(self.by_id, key=lambda p: (-self.value[p], self.key(p)))
        self.rank = {p: i + 1 for i, p in enumerate(self.ranking)}
        self.reasons: dict[str, list[Reason]] = {p: [] for p in self.by_id}
        self.funds = Funds(self.sources, projects)
        self.order: list[str] = []
        self.details: dict[str, Any] = {"num_voters": votes.num_voters, "budget": self.funds.total}
        if threshold is not None:
            self.details["threshold"] = threshold.spec()
        lot = tb.lot(self.by_id)
        if lot:
            self.details["lot"] = lot
        self.no = votes.no_votes()

    def eligible(self, pid: str) -> bool:
        """Apply the threshold; record the reason when the project falls below it."""
        if self.threshold is None:
            return True
        yes_no = self.no.get(pid, 0) if self.votes.kind == YESNO else None
        need = self.threshold.required(self.votes.num_voters, self.count[pid], yes_no)
        have = self.count[pid] if self.threshold.on_votes else self.value[pid]
        if have >= need:
            return True
        self.reasons[pid].insert(
            0,
            Reason(
                "below_threshold",
                {"score": have, "required": need, "threshold": self.threshold.spec()},
            ),
        )
        return False

    def try_fund(self, pid: str, stage: str, extra: dict | None = None) -> bool:
        ok, available = self.funds.try_add(pid)
        if ok:
            self.order.append(pid)
            self.reasons[pid].insert(0, Reason("funded", {"stage": stage, **(extra or {})}))
        else:
            params = {
                "cost": self.by_id[pid].cost,
                "available": available,
                "sources": self.funds.allowed(self.by_id[pid]),
            }
            self.reasons[pid].insert(0, Reason("did_not_fit", params))
        return ok

    def note_value_ties(self) -> None:
        """Record ties in the ranking value and who the stated rule put first."""
        groups: dict[Amount, list[str]] = {}
        for p in self.ranking:
            groups.setdefault(self.value[p], []).append(p)
        for tied in groups.values():
            if len(tied) > 1:
                for i, p in enumerate(tied):
                    others = [q for q in tied if q != p]
                    params = {"rule": self.tb.spec, "tied_with": others, "position": i + 1}
                    self.reasons[p].append(Reason("tie_broken_by", params))

    def outcome(self, rule: str) -> Outcome:
        funding = self.funds.assignment()
        position = {p: i + 1 for i, p in enumerate(self.order)}
        results = tuple(
            ProjectResult(
                project_id=p,
                cost=self.by_id[p].cost,
                rank=self.rank[p],
                votes=self.count[p],
                score=self.score[p],
                funded=p in position,
                order=position.get(p),
                reasons=tuple(self.reasons[p]),
                funding=funding.get(p, {}),
            )
            for p in self.ranking
        )
        return Outcome(
            rule=rule,
            tie_break=self.tb.spec,
            funded=tuple(self.order),
            funding={p: funding[p] for p in self.order},
            leftover=self.funds.leftover(),
            results=results,
            details=self.details,
        )


def _greedy(ctx: _Context, rule: str, skip: bool) -> Outcome:
    stopped_at: str | None = None
    for pid in ctx.ranking:
        if not ctx.eligible(pid):
            continue
        if stopped_at is not None:
            ctx.reasons[pid].insert(0, Reason("not_reached", {"stopped_at": stopped_at}))
            continue
        if not ctx.try_fund(pid, "greedy") and not skip:
            stopped_at = pid
    ctx.note_value_ties()
    name = rule if ctx.threshold is None or rule == "greedy-threshold" else f"{rule}+threshold"
    return ctx.outcome(name)


def _mes(
    ctx: _Context,
    completion: str,
    utility: str | None,
    step: Fraction,
    prove: bool = False,
    workers: int = 1,
) -> Outcome:
    votes = ctx.votes
    if utility is None:
        utility = "points" if votes.kind in (CUMULATIVE, SCORING) else "cost"
    if utility not in ("cost", "points"):
        raise ValueError("utility must be 'cost' or 'points'")
    if utility == "points" and votes.kind not in (CUMULATIVE, SCORING):
        raise ValueError("points utilities need cumulative or scoring ballots")
    eligible = [p for p in ctx.ranking if ctx.eligible(p)]
    index = {pid: i for i, pid in enumerate(eligible)}
    cost = [Fraction(ctx.by_id[p].cost) for p in eligible]
    whole = [exact(c) for c in cost]  # ints hash fast; Fractions only where needed
    # Group identical ballots before anything else: real rounds repeat ballots a lot.
    grouped: dict[frozenset, int] = {}
    excluded = frozenset(ctx.by_id) - frozenset(index)
    if votes.kind == APPROVAL and utility == "cost":
        for ballot, n in votes.weighted():
            key = ballot - excluded if excluded and ballot & excluded else ballot
            grouped[key] = grouped.get(key, 0) + n
    for ballot, n in votes.weighted() if not grouped else ():
        if utility == "points":
            key = frozenset((p, v) for p, v in ballot.items() if p in index)
        else:
            key = frozenset(p for p in votes.support(ballot) if p in index)
        grouped[key] = grouped.get(key, 0) + n
    ballots, counts = [], []
    for key, n in grouped.items():
        if utility == "points":
            ballots.append([(index[p], v) for p, v in key])
        else:
            ballots.append([(index[p], whole[index[p]]) for p in key])
        counts.append(n)
    tie_rank = sorted(range(len(eligible)), key=lambda i: ctx.key(eligible[i]))
    rank_of = [0] * len(eligible)
    for r, i in enumerate(tie_rank):
        rank_of[i] = r
    inp = compile_input(cost, ballots, counts, rank_of)
    budget = Fraction(ctx.funds.total)

    def fits(selection: Sequence[int]) -> bool:
        if sum(cost[i] for i in selection) > budget:
            return False
        if ctx.funds.simple:
            return True
        trial = Funds(ctx.sources, ctx.projects)
        return all(trial.try_add(eligible[i])[0] for i in selection)

    add1 = completion.startswith("add1")
    # Simple funds: the default test (total cost) is the same and lets add1 search.
    search: dict = {}
    run, increments = equal_shares(
        inp,
        budget,
        add1=add1,
        step=step,
        fits=None if ctx.funds.simple else fits,
        exact_runs=math.inf if prove else None,
        report=search,
        workers=workers,
    )
    ctx.details.update(
        {
            "utility": utility,
            "completion": completion,
            "budget_per_voter": exact(run.budget_per_voter),
            "add1_increments": increments,
            "add1_search": search,
        }
    )
    for rnd, (i, rho, tied) in enumerate(zip(run.selected, run.rho, run.ties, strict=True), 1):
        pid = eligible[i]
        params = {"round": rnd, "rho": exact(rho)}
        if utility == "cost":
            params["share"] = exact(rho * cost[i])  # what each supporter paid, at most
        ctx.try_fund(pid, "equal_shares", params)
        if tied:
            names = [eligible[j] for j in tied]
            for j, other in enumerate(names):
                params = {
                    "rule": ctx.tb.spec,
                    "tied_with": [q for q in names if q != other],
                    "won": j == 0,
                    "round": rnd,
                }
                ctx.reasons[other].append(Reason("tie_broken_by", params))
    chosen = set(ctx.order)
    supported = set(inp.item_project)
    for i, pid in enumerate(eligible):
        if pid in chosen or ctx.reasons[pid] and ctx.reasons[pid][0].code == "did_not_fit":
            continue
        if i not in supported:
            reason = Reason("no_support")
        else:
            money = exact(run.supporters_money[i])
            reason = Reason(
                "not_affordable", {"cost": ctx.by_id[pid].cost, "supporters_money": money}
            )
        ctx.reasons[pid].insert(0, reason)
    if completion in ("greedy", "add1+greedy", "add1+greedy+compare"):
        # Utilitarian completion by votes, like pabutools' greedy with Cost_Sat.
        for pid in sorted(eligible, key=lambda p: (-ctx.count[p], ctx.key(p))):
            if pid in chosen:
                continue
            ctx.try_fund(pid, "greedy_completion")  # earlier reasons stay as context
    return ctx.outcome(f"mes/{completion}" if completion != "none" else "mes")
