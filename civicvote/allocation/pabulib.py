"""Read and write the Pabulib ``.pb`` format, and replay a file's own rule.

Follows what real files do and what pabutools 1.2.3 accepts: ``;``-separated CSV with normal
quoting, ``\\n`` or ``\\r\\n`` line ends, an optional BOM, blank lines skipped, string project
ids (the first PROJECTS column, whatever its header), ``None`` cells meaning "missing", a
decimal comma tolerated only in ``budget`` and ``cost``, and exact costs (``Fraction``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from civicvote.allocation.model import (
    APPROVAL,
    CUMULATIVE,
    GENERAL,
    ORDINAL,
    SCORING,
    Amount,
    FundSource,
    Outcome,
    Project,
    Threshold,
    Votes,
    exact,
)
from civicvote.allocation.rules import allocate

SECTIONS = ("meta", "projects", "votes")
VOTE_TYPES = ("approval", "choose-1", "cumulative", "scoring", "ordinal")


class PabulibError(ValueError):
    """The text is not a readable Pabulib file."""


@dataclass(frozen=True)
class PbProject:
    """One PROJECTS row. ``columns`` holds every cell as text (``None`` for a ``None`` cell)."""

    id: str
    cost: Amount
    columns: Mapping[str, str | None]


@dataclass(frozen=True)
class PbVote:
    """One VOTES row: the ballot (``vote``, ``points``) and the other columns as text."""

    vote: tuple[str, ...]
    points: tuple[Amount, ...] | None
    columns: Mapping[str, str | None]


@dataclass(frozen=True)
class Election:
    """A parsed ``.pb`` file. Column lists keep the file's column order."""

    meta: Mapping[str, str]
    project_columns: tuple[str, ...]
    projects: tuple[PbProject, ...]
    vote_columns: tuple[str, ...] = ()
    votes: tuple[PbVote, ...] = field(default=())

    @property
    def vote_type(self) -> str:
        """META ``vote_type`` (approval, choose-1, cumulative, scoring or ordinal)."""
        return self.meta.get("vote_type", "approval")

    @property
    def budget(self) -> Amount:
        """META ``budget`` as an exact number."""
        return parse_number(self.meta["budget"], decimal_comma=True)

    def to_projects(self) -> list[Project]:
        """Projects for :func:`~civicvote.allocation.allocate` (categories from the file)."""
        out = []
        for p in self.projects:
            raw = p.columns.get("category", p.columns.get("categories")) or ""
            cats = frozenset(c.strip() for c in raw.split(",") if c.strip())
            out.append(Project(p.id, p.cost, cats))
        return out

    def voter_groups(self) -> list[str | None] | None:
        """Each vote's ``neighborhood`` (Pabulib's optional voter field, US spelling; None
        where it is empty, e.g. paper ballots), or None when the file has no such column."""
        name = next((c for c in ("neighborhood", "neighbourhood") if c in self.vote_columns), None)
        if name is None:
            return None
        values = [(v.columns.get(name) or "").strip() for v in self.votes]
        return [None if value in ("", "None") else value for value in values]

    def to_votes(self) -> Votes:
        """Ballots for :func:`~civicvote.allocation.allocate`, by META ``vote_type``."""
        kind = self.vote_type
        if kind in ("approval", "choose-1"):
            return Votes.approval(v.vote for v in self.votes)
        if kind in ("cumulative", "scoring"):
            ballots = []
            for v in self.votes:
                ballot: dict[str, Amount] = {}
                for pid, pts in zip(v.vote, v.points or (), strict=False):
                    ballot.setdefault(pid, pts)
                ballots.append(ballot)
            return Votes.points(ballots, kind=CUMULATIVE if kind == "cumulative" else SCORING)
        if kind == "ordinal":
            return Votes.ordinal(v.vote for v in self.votes)
        raise PabulibError(f"unsupported vote_type {kind!r}")


# No real budget, cost or score comes near it. The bound keeps a malformed file from asking
# for numbers that overflow the floats MES prices with, or, written "1e999999999", take minutes
# to build exactly.
MAX_NUMBER = 10**18
_EXPONENT = re.compile(r"[eE]([+-]?\d+)$")  # checked before Fraction builds 10**exponent


def parse_number(text: str, decimal_comma: bool = False) -> Amount:
    """Parse a number exactly (``"1331751.11"`` -> ``Fraction(133175111, 100)``), at most
    ``MAX_NUMBER`` in size."""
    cleaned = text.strip()
    if decimal_comma:
        cleaned = cleaned.replace(",", ".")
    power = _EXPONENT.search(cleaned)
    if len(cleaned) > 64 or (power is not None and len(power.group(1).lstrip("+-")) > 2):
        raise PabulibError(f"number out of range: {text[:40]!r} (at most 10^18)")
    try:
        value = Fraction(cleaned)
    except (ValueError, ZeroDivisionError) as exc:
        raise PabulibError(f"not a number: {text!r}") from exc
    if abs(value) > MAX_NUMBER:
        raise PabulibError(f"number out of range: {text!r} (at most 10^18)")
    return exact(value)


def format_number(value: Amount) -> str:
    """Write an exact number as Pabulib does: an integer, or a finite decimal."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        raise ValueError(f"{value} has no finite decimal form")
    digits = max(twos, fives)
    scaled = abs(value) * 10**digits
    whole, frac = divmod(int(scaled), 10**digits)
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}.{frac:0{digits}d}"


def _cell(text: str) -> str | None:
    return None if text.strip().lower() == "none" else text


class _Sections:
    """What the rows of a ``.pb`` file hold so far, section by section."""

    def __init__(self) -> None:
        self.meta: dict[str, str] = {}
        self.project_columns: list[str] = []
        self.projects: list[PbProject] = []
        self.vote_columns: list[str] = []
        self.votes: list[PbVote] = []
        self.section: str | None = None
        self.expect_header = False

    def take(self, row: list[str]) -> None:
        """One row: a section's name, its header, or one of its rows."""
        if not row or (len(row) == 1 and not row[0].strip()):
            return
        name = row[0].strip().lower()
        if name in SECTIONS and len(row) == 1:
            if SECTIONS.index(name) < (SECTIONS.index(self.section) if self.section else -1):
                raise PabulibError(f"section {row[0]} out of order")
            self.section, self.expect_header = name, True
        elif self.section is None:
            raise PabulibError("the file must start with META")
        elif self.expect_header:
            self.expect_header = False
            header = [h.strip() for h in row]
            if self.section == "projects":
                self.project_columns = header
            elif self.section == "votes":
                self.vote_columns = header
        else:
            self._data(row)

    def _data(self, row: list[str]) -> None:
        if self.section == "meta":
            if len(row) < 2:
                raise PabulibError(f"META row without a value: {row[0]!r}")
            self.meta[row[0].strip()] = row[1].strip()
        elif self.section == "projects":
            self.projects.append(_project_row(row, self.project_columns))
        else:
            self.votes.append(_vote_row(row, self.vote_columns))


def parse_pb(text: str) -> Election:
    """Parse the text of a ``.pb`` file."""
    if text.startswith("\ufeff"):
        text = text[1:]
    sections = _Sections()
    try:
        for row in csv.reader(text.splitlines(), delimiter=";"):
            sections.take(row)
    except csv.Error as exc:
        raise PabulibError(f"malformed CSV: {exc}") from exc
    meta, project_columns = sections.meta, sections.project_columns
    projects, vote_columns, votes = sections.projects, sections.vote_columns, sections.votes
    if not meta or not project_columns:
        raise PabulibError("a .pb file needs META and PROJECTS sections")
    if "budget" not in meta:
        raise PabulibError("META has no budget")
    parse_number(meta["budget"], decimal_comma=True)
    ids = [p.id for p in projects]
    if len(set(ids)) != len(ids):
        raise PabulibError("duplicate project ids")
    known = set(ids)
    for v in votes:
        unknown = set(v.vote) - known
        if unknown:
            raise PabulibError(f"vote names unknown project(s) {sorted(unknown)}")
    return Election(
        meta, tuple(project_columns), tuple(projects), tuple(vote_columns), tuple(votes)
    )


def _project_row(row: list[str], header: list[str]) -> PbProject:
    if len(row) > len(header):
        raise PabulibError(f"project row has more cells than the header: {row[0]!r}")
    columns = {h: _cell(c) for h, c in zip(header, row, strict=False)}
    pid = row[0].strip()
    raw_cost = columns.get("cost")
    if raw_cost is None:
        raise PabulibError(f"project {pid!r} has no cost")
    return PbProject(pid, parse_number(raw_cost, decimal_comma=True), columns)


def _vote_row(row: list[str], header: list[str]) -> PbVote:
    if len(row) > len(header):
        raise PabulibError("vote row has more cells than the header")
    columns = {h: _cell(c) for h, c in zip(header, row, strict=False)}
    if "vote" not in header:
        raise PabulibError("VOTES has no vote column")
    raw_vote = columns.pop("vote") or ""
    vote = tuple(raw_vote.split(",")) if raw_vote.strip() else ()
    points = None
    if "points" in header:
        raw_points = columns.pop("points") or ""
        points = tuple(parse_number(x) for x in raw_points.split(",")) if raw_points.strip() else ()
    return PbVote(vote, points, columns)


def write_pb(election: Election) -> str:
    """Write an Election as ``.pb`` text (``\\n`` line ends, quoting only where needed)."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["META"])
    w.writerow(["key", "value"])
    for key, value in election.meta.items():
        w.writerow([key, value])
    w.writerow(["PROJECTS"])
    w.writerow(election.project_columns)
    for p in election.projects:
        cells = []
        for col in election.project_columns:
            if col == "cost":
                raw = p.columns.get("cost")
                same = raw is not None and parse_number(raw, decimal_comma=True) == p.cost
                cells.append(raw if same else format_number(p.cost))
            elif col == election.project_columns[0]:
                cells.append(p.id)
            else:
                cells.append(_text(p.columns.get(col)))
        w.writerow(cells)
    w.writerow(["VOTES"])
    w.writerow(election.vote_columns)
    for v in election.votes:
        cells = []
        for col in election.vote_columns:
            if col == "vote":
                cells.append(",".join(v.vote))
            elif col == "points":
                cells.append(",".join(format_number(x) for x in v.points or ()))
            else:
                cells.append(_text(v.columns.get(col)))
        w.writerow(cells)
    return out.getvalue()


def _text(value: str | None) -> str:
    return "None" if value is None else value


def replay(
    election: Election,
    rule: str | None = None,
    threshold: Amount | None = None,
    tie_break: str | None = None,
    completion: str | None = None,
    prove: bool = False,
    workers: int = 1,
) -> Outcome:
    """Recompute the outcome of a ``.pb`` file.

    A file civicvote exported carries the round's own settings in META ``comment`` (see
    :func:`counted_by`): rule, completion, tie-break and seed, fund sources and threshold are
    then taken from there, so the recount gives the published result. Arguments given here
    override them.

    Otherwise META ``rule`` is replayed: ``greedy``, ``greedy-threshold`` (with
    ``min_project_score_threshold``), ``greedy-no-skip`` (threshold applied when present),
    ``equalshares`` (MES, cost utilities, no completion), ``equalshares/add1`` or
    ``equalshares/add1-comparison`` (add1, then the comparison with greedy).
    ``rule`` may also be ``mes``. Greedy ranks by ``score`` when PROJECTS has that column, else
    by ``votes``; both are counted from VOTES when the file has ballots (ordinal score:
    ``len(ballot) - position``). Ties: ``lexico`` unless ``tie_break`` says otherwise.
    ``prove``: MES with add1 proves every increment rather than searching, in ``workers``
    processes at once (see ``allocate``).
    """
    ours = counted_by(election.meta)
    if ours is not None:
        return _replay_ours(election, ours, rule, threshold, tie_break, completion, prove, workers)
    name = rule or election.meta.get("rule", "")
    tie_break = tie_break or "lexico"
    meta_threshold = election.meta.get("min_project_score_threshold")
    if threshold is None and meta_threshold and name in ("greedy-threshold", "greedy-no-skip"):
        threshold = parse_number(meta_threshold)
    projects = election.to_projects()
    votes = election.to_votes()
    tally = None
    if not election.votes:
        tally = _tally_from_columns(election)
    rank_by = "score" if "score" in election.project_columns else "votes"
    common = {
        "budget": election.budget,
        "tie_break": tie_break,
        "tally": tally,
        "prove": prove,
        "workers": workers,
    }
    limit = Threshold(threshold) if threshold is not None else None
    if name in ("greedy", "greedy-no-skip"):
        return allocate(projects, votes, rule=name, threshold=limit, rank_by=rank_by, **common)
    if name == "greedy-threshold":
        if limit is None:
            raise PabulibError("greedy-threshold needs a threshold (min_project_score_threshold)")
        return allocate(projects, votes, rule=name, threshold=limit, rank_by=rank_by, **common)
    mes_names = {
        "mes": "add1",
        "equalshares": "none",
        "equalshares/add1": "add1",
        "equalshares/add1-comparison": "add1+compare",
    }
    if name in mes_names:
        if tally is not None:
            raise PabulibError("MES needs the ballots; this file has no VOTES rows")
        return allocate(
            projects,
            votes,
            rule="mes",
            completion=completion or mes_names[name],
            utility="cost",
            threshold=limit,
            **common,
        )
    raise PabulibError(
        f"cannot replay rule {name!r}; choose greedy, greedy-no-skip, greedy-threshold or mes"
    )


# An exported file's META comment ends with "#N: civicvote {JSON}": the settings that decided
# the result, which Pabulib has no fields for.
COUNTED_BY = "civicvote "


def counted_by(meta: Mapping[str, str]) -> dict | None:
    """The civicvote settings a file's META ``comment`` carries, or None.

    Keys: ``rule``, ``completion``, ``tie_break``, ``votes_required`` (the ballots that had
    to support a project, or null), ``threshold`` (files before it: a fraction of the ballots,
    as text, or null), ``step`` (add1's increment per voter), ``sources`` (each with ``id``,
    ``kind``, ``amount``, ``categories``, ``per_project_cap``, ``match_ratio``; amounts in
    the file's currency unit, as text) and anything else the round recorded (``quorum``).
    """
    comment = meta.get("comment") or ""
    marker = re.search(r"#\d+: " + COUNTED_BY, comment)
    if marker is None:
        return None
    try:
        settings = json.loads(comment[marker.end() :])
    except ValueError as exc:
        raise PabulibError(f"META comment: unreadable civicvote settings: {exc}") from exc
    if not isinstance(settings, dict):
        raise PabulibError("META comment: civicvote settings must be a JSON object")
    return settings


def settings_comment(settings: Mapping, notes: list[str]) -> str:
    """META ``comment``: numbered notes (``#1: ...``), then the settings as JSON, last."""
    parts = [f"#{i}: {note}" for i, note in enumerate(notes, start=1)]
    parts.append(f"#{len(parts) + 1}: {COUNTED_BY}" + json.dumps(settings, ensure_ascii=False))
    return " ".join(parts)


def sources_from(settings: Mapping) -> list[FundSource]:
    """The fund sources of a settings mapping (see :func:`counted_by`)."""
    out = []
    for raw in settings.get("sources") or []:
        cap = raw.get("per_project_cap")
        out.append(
            FundSource(
                str(raw["id"]),
                parse_number(str(raw["amount"])),
                raw.get("kind") or GENERAL,
                frozenset(raw["categories"]) if raw.get("categories") else None,
                parse_number(str(cap)) if cap is not None else None,
                Fraction(str(raw.get("match_ratio") or 1)),
            )
        )
    return out


PABULIB_MES = {
    "none": "equalshares",
    "add1": "equalshares/add1",
    "add1+compare": "equalshares/add1-comparison",
}


def pabulib_rule(
    rule: str,
    completion: str,
    *,
    threshold: bool,
    plain_sources: bool,
    whole_amounts: bool = True,
) -> tuple[str, list[str]]:
    """META ``rule`` for a civicvote rule, and notes on what Pabulib cannot express.

    Where Pabulib has no name for what decided the result (fund sources with restrictions,
    caps or matching; MES with a threshold or a greedy completion, or on amounts that are not
    whole, which Pabulib's checker rounds down before it recounts), the rule is ``unknown``,
    which Pabulib's checker accepts, and the notes say why; the exact rule is in the
    civicvote settings either way.
    """
    notes = []
    if not plain_sources:
        notes.append(
            "Several fund sources with restrictions, caps or matching paid for the projects; "
            "Pabulib cannot express them."
        )
    if rule == "mes" and threshold:
        notes.append("Equal shares ran only on the projects that passed the threshold.")
    if rule == "mes" and not whole_amounts:
        notes.append("Equal shares counted costs exactly, fen included.")
    if rule == "mes" and completion not in PABULIB_MES:
        notes.append(f"Equal shares with the {completion} completion has no Pabulib name.")
    if notes:
        return "unknown", notes
    if rule == "mes":
        return PABULIB_MES[completion], notes
    if rule == "greedy" and threshold:
        return "greedy-threshold", notes
    return rule, notes


def _replay_ours(
    election, settings, rule, threshold, tie_break, completion, prove, workers
) -> Outcome:
    try:
        sources = sources_from(settings) or None
        limit = settings.get("threshold")
        rule = rule or settings["rule"]
        options = {
            "rule": rule,
            "tie_break": tie_break or settings.get("tie_break") or "lexico",
            "completion": completion or settings.get("completion") or "add1",
            "step": parse_number(str(settings.get("step") or 1)),
            "prove": prove,
            "workers": workers,
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise PabulibError(f"META comment: bad civicvote settings: {exc}") from exc
    required = settings.get("votes_required")
    if threshold is not None:
        options["threshold"] = Threshold(threshold)
    elif required is not None:
        # The ballots that had to support a project, whatever its score (points).
        options["threshold"] = Threshold(int(required), on_votes=True)
    elif limit is not None:
        options["threshold"] = Threshold(Fraction(str(limit)), relative=True)
    budget = None if sources else election.budget
    return allocate(
        election.to_projects(), election.to_votes(), budget=budget, sources=sources, **options
    )


def _tally_from_columns(election: Election) -> tuple[dict[str, int], dict[str, Amount]]:
    count: dict[str, int] = {}
    score: dict[str, Amount] = {}
    for p in election.projects:
        count[p.id] = int(parse_number(p.columns.get("votes") or "0"))
        raw_score = p.columns.get("score")
        score[p.id] = parse_number(raw_score) if raw_score else count[p.id]
    return count, score


__all__ = [
    "APPROVAL",
    "ORDINAL",
    "Election",
    "PabulibError",
    "counted_by",
    "settings_comment",
    "sources_from",
    "PbProject",
    "PbVote",
    "format_number",
    "pabulib_rule",
    "parse_number",
    "parse_pb",
    "replay",
    "write_pb",
]
