"""Plain value types for allocation: projects, ballots, fund sources, thresholds, outcomes.

Amounts are exact: ``int`` (yuan or fen, whichever unit the caller uses throughout) or
``fractions.Fraction`` (only needed for imported Pabulib files with non-integer costs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import chain
from typing import Any

Amount = int | Fraction

APPROVAL = "approval"
CUMULATIVE = "cumulative"
SCORING = "scoring"
ORDINAL = "ordinal"
YESNO = "yesno"
VOTE_KINDS = (APPROVAL, CUMULATIVE, SCORING, ORDINAL, YESNO)


def exact(value: Amount) -> Amount:
    """Return ``value`` as an int when it is whole, else as a Fraction; floats are refused."""
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise TypeError(f"amounts must be int or Fraction, not {type(value).__name__}")
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


@dataclass(frozen=True)
class Project:
    """A costed proposal on the ballot."""

    id: str
    cost: Amount
    categories: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "cost", exact(self.cost))
        object.__setattr__(self, "categories", frozenset(self.categories))
        if self.cost < 0:
            raise ValueError(f"project {self.id}: negative cost")


@dataclass(frozen=True)
class Votes:
    """The ballots of one round, with identical ballots optionally given as counts.

    ``ballots[i]`` depends on ``kind``:

    * ``approval``: a frozenset of project ids;
    * ``cumulative`` / ``scoring``: a mapping project id -> points;
    * ``ordinal``: a tuple of project ids, most preferred first;
    * ``yesno``: a mapping project id -> True (yes) / False (no); unlisted = abstain.

    ``counts[i]`` is how many voters cast ``ballots[i]`` (default 1 each).
    """

    kind: str
    ballots: tuple[Any, ...]
    counts: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in VOTE_KINDS:
            raise ValueError(f"unknown vote kind {self.kind!r}")
        if self.counts is not None and len(self.counts) != len(self.ballots):
            raise ValueError("counts must align with ballots")

    @classmethod
    def approval(cls, ballots: Iterable[Iterable[str]], counts=None) -> Votes:
        """Approval ballots (one set of approved project ids per voter)."""
        return cls(
            APPROVAL,
            tuple(b if type(b) is frozenset else frozenset(map(str, b)) for b in ballots),
            _counts(counts),
        )

    @classmethod
    def points(cls, ballots: Iterable[Mapping[str, Amount]], counts=None, kind=CUMULATIVE):
        """Cumulative (or, with ``kind="scoring"``, scoring) ballots: project id -> points."""
        return cls(kind, tuple(_frozen_map(b) for b in ballots), _counts(counts))

    @classmethod
    def ordinal(cls, ballots: Iterable[Iterable[str]], counts=None) -> Votes:
        """Rankings, most preferred first; a repeated id keeps its first position."""
        return cls(
            ORDINAL, tuple(tuple(dict.fromkeys(map(str, b))) for b in ballots), _counts(counts)
        )

    @classmethod
    def yes_no(cls, ballots: Iterable[Mapping[str, bool]], counts=None) -> Votes:
        """Yes/no ballots: project id -> True for yes, False for no."""
        return cls(YESNO, tuple(_frozen_map(b) for b in ballots), _counts(counts))

    def weighted(self) -> Iterable[tuple[Any, int]]:
        """Yield ``(ballot, count)`` pairs."""
        counts = self.counts or (1,) * len(self.ballots)
        return zip(self.ballots, counts, strict=True)

    @property
    def num_voters(self) -> int:
        """Number of voters (sum of counts)."""
        return sum(self.counts) if self.counts is not None else len(self.ballots)

    def support(self, ballot: Any) -> Iterable[str]:
        """Project ids a ballot supports (approved, given points, ranked or voted yes)."""
        if self.kind == APPROVAL or self.kind == ORDINAL:
            return ballot
        if self.kind == YESNO:
            return [p for p, yes in ballot.items() if yes]
        return ballot.keys()

    def tally(self) -> tuple[dict[str, int], dict[str, Amount]]:
        """Return ``(votes, score)`` per project id.

        ``votes`` counts ballots that include the project (for yes/no: the yes votes); ``score``
        is the Pabulib ``score``: points for cumulative/scoring, ``len(ballot) - position``
        (0-based position) for ordinal, and equal to ``votes`` otherwise.
        """
        if self.kind == APPROVAL and self.counts is None:
            # The common case, counted in C.
            tally = dict(Counter(chain.from_iterable(self.ballots)))
            return tally, dict(tally)
        votes: dict[str, int] = {}
        score: dict[str, Amount] = {}
        for ballot, n in self.weighted():
            if self.kind == ORDINAL:
                items = [(p, len(ballot) - i) for i, p in enumerate(ballot)]
            elif self.kind in (CUMULATIVE, SCORING):
                items = list(ballot.items())
            else:
                items = [(p, 1) for p in self.support(ballot)]
            for p, s in items:
                votes[p] = votes.get(p, 0) + n
                score[p] = score.get(p, 0) + n * s
        return votes, score

    def no_votes(self) -> dict[str, int]:
        """For yes/no ballots, the number of explicit "no" votes per project."""
        out: dict[str, int] = {}
        if self.kind == YESNO:
            for ballot, n in self.weighted():
                for p, yes in ballot.items():
                    if not yes:
                        out[p] = out.get(p, 0) + n
        return out


def _counts(counts) -> tuple[int, ...] | None:
    return None if counts is None else tuple(int(c) for c in counts)


class _FrozenDict(dict):
    """A read-only dict so that ballots inside frozen dataclasses stay immutable."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("ballots are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


def _frozen_map(mapping: Mapping) -> _FrozenDict:
    return _FrozenDict((str(k), v) for k, v in mapping.items())


GENERAL = "general"
RESTRICTED = "restricted"
MATCHING = "matching"


@dataclass(frozen=True)
class FundSource:
    """A pot of money the round can spend.

    * ``general``: pays any project.
    * ``restricted``: pays only projects sharing a category with ``categories`` (when given)
      and at most ``per_project_cap`` per project (when given). A general source may also
      carry a per-project cap.
    * ``matching``: a donor who adds ``match_ratio`` for every 1 that residents' (non-matching)
      sources put into the same project, up to ``amount`` in total. Because a funded project is
      always paid in full, "matching <= ratio x residents' part" is the same as "matching <=
      ratio / (1 + ratio) x cost"; all matching sources of a round share one ratio and that
      per-project limit (a matching pool), which keeps payability an exact max-flow problem.
      ``categories`` and ``per_project_cap`` restrict a matching source as well.
    """

    id: str
    amount: Amount
    kind: str = GENERAL
    categories: frozenset[str] | None = None
    per_project_cap: Amount | None = None
    match_ratio: Fraction = Fraction(1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", exact(self.amount))
        if self.categories is not None:
            object.__setattr__(self, "categories", frozenset(self.categories))
        if self.per_project_cap is not None:
            object.__setattr__(self, "per_project_cap", exact(self.per_project_cap))
        object.__setattr__(self, "match_ratio", Fraction(self.match_ratio))
        if self.kind not in (GENERAL, RESTRICTED, MATCHING):
            raise ValueError(f"unknown fund source kind {self.kind!r}")
        if self.amount < 0 or self.match_ratio <= 0:
            raise ValueError(f"source {self.id}: amount must be >= 0 and match_ratio > 0")

    def may_pay(self, project: Project) -> bool:
        """Whether this source is allowed to put money into ``project``."""
        return self.categories is None or bool(self.categories & project.categories)


@dataclass(frozen=True)
class Threshold:
    """Minimum support for a project to be fundable.

    ``relative=False``: the project's score (votes, or points) must be >= ``value``.
    ``relative=True``: ``value`` is a fraction (e.g. ``Fraction(1, 10)`` for 10 %) of the
    ballots cast; for yes/no ballots, of the yes+no votes on that project.
    """

    value: Amount
    relative: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", exact(Fraction(self.value)))

    def required(self, num_ballots: int, yes: int = 0, no: int | None = None) -> Amount:
        """The score a project needs."""
        if not self.relative:
            return self.value
        base = num_ballots if no is None else yes + no
        return exact(Fraction(self.value) * base)

    def spec(self) -> str:
        """Short text form, e.g. ``"50"`` or ``"10%"``."""
        return f"{Fraction(self.value) * 100}%" if self.relative else str(self.value)


@dataclass(frozen=True)
class Reason:
    """A machine-readable explanation: a ``code`` and its parameters (for translation)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectResult:
    """What happened to one project.

    ``rank`` is the position in the vote ranking (1 = most support, ties broken by the stated
    rule); ``order`` is the position in the funding order (None when not funded).
    ``reasons[0]`` is the main reason; later entries add context such as ``tie_broken_by``.
    """

    project_id: str
    cost: Amount
    rank: int
    votes: int
    score: Amount
    funded: bool
    order: int | None
    reasons: tuple[Reason, ...]
    funding: Mapping[str, Amount]


@dataclass(frozen=True)
class Outcome:
    """The result of an allocation rule."""

    rule: str
    tie_break: str
    funded: tuple[str, ...]
    funding: Mapping[str, Mapping[str, Amount]]
    leftover: Mapping[str, Amount]
    results: tuple[ProjectResult, ...]
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_cost(self) -> Amount:
        """Total cost of the funded projects."""
        by_id = {r.project_id: r.cost for r in self.results}
        return exact(sum((Fraction(by_id[p]) for p in self.funded), Fraction(0)))

    def result(self, project_id: str) -> ProjectResult:
        """The result record of one project."""
        for r in self.results:
            if r.project_id == project_id:
                return r
        raise KeyError(project_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (amounts as int, or as a string "p/q" when fractional)."""
        return {
            "rule": self.rule,
            "tie_break": self.tie_break,
            "funded": list(self.funded),
            "funding": {p: jsonify(f) for p, f in self.funding.items()},
            "leftover": jsonify(self.leftover),
            "results": [
                {
                    "project_id": r.project_id,
                    "cost": jsonify(r.cost),
                    "rank": r.rank,
                    "votes": r.votes,
                    "score": jsonify(r.score),
                    "funded": r.funded,
                    "order": r.order,
                    "reasons": [{"code": x.code, "params": jsonify(x.params)} for x in r.reasons],
                    "funding": jsonify(r.funding),
                }
                for r in self.results
            ],
            "details": jsonify(self.details),
        }


def jsonify(value: Any) -> Any:
    """Plain JSON values: Fractions as int or "p/q", mappings with text keys, lists."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, Mapping):
        return {str(k): jsonify(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return [jsonify(v) for v in items]
    return value
