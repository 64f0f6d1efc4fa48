"""The tally: votes (or points, or yes and no) per proposal, ballots cast and turnout.

Aggregation happens in the database, over the cast ballots' JSON (SQLite's ``json_each``,
PostgreSQL's ``json_array_elements_text`` and ``json_each_text``); Python only shapes the result.
While a ballot is open its contents are still sealed in the ballot box (sealing.py): they are
opened and counted here, in Python, and never written out opened.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text

from ..ballots.live import LiveFigures, live_figures
from ..ballots.models import Ballot, Participation
from ..errors import NotFound
from ..extensions import db
from ..registry.services import eligible_counts
from ..rounds.models import VOTE_UNIT_RESIDENT
from .sealing import open_contents


@dataclass
class Tally:
    ballot_id: int
    method: str
    ballots_cast: int
    eligible: int
    by_channel: dict[str, int]
    # proposal id -> votes (approval/knapsack), points (cumulative) or yes votes (yes_no)
    votes: dict[int, int]
    no_votes: dict[int, int]  # yes_no only

    @property
    def turnout_percent(self) -> float:
        return round(100 * self.ballots_cast / self.eligible, 1) if self.eligible else 0.0


def eligible_count(ballot: Ballot) -> int:
    """Eligible voters of the ballot's round, by the registry's rule: residents, or households."""
    funding_round = ballot.round
    residents, households = eligible_counts(funding_round.community_id, funding_round.year)
    return residents if funding_round.vote_unit == VOTE_UNIT_RESIDENT else households


# (proposal id as text, 1 or yes/no flag, count or sum) per method kind and database.
_AGGREGATES = {
    ("selections", "sqlite"): (
        "SELECT CAST(j.value AS TEXT), 1, COUNT(*) FROM cast_ballots c, "
        "json_each(c.contents, '$.selections') j WHERE c.ballot_id = :b "
        "GROUP BY j.value"
    ),
    ("selections", "postgresql"): (
        "SELECT j.value, 1, COUNT(*) FROM cast_ballots c, "
        "json_array_elements_text(c.contents -> 'selections') j(value) "
        "WHERE c.ballot_id = :b GROUP BY j.value"
    ),
    ("points", "sqlite"): (
        "SELECT j.key, 1, SUM(j.value) FROM cast_ballots c, "
        "json_each(c.contents, '$.points') j WHERE c.ballot_id = :b GROUP BY j.key"
    ),
    ("points", "postgresql"): (
        "SELECT j.key, 1, SUM(j.value::bigint) FROM cast_ballots c, "
        "json_each_text(c.contents -> 'points') j WHERE c.ballot_id = :b GROUP BY j.key"
    ),
    ("answers", "sqlite"): (
        "SELECT j.key, CASE WHEN j.type = 'true' THEN 1 ELSE 0 END AS yes, COUNT(*) "
        "FROM cast_ballots c, json_each(c.contents) j WHERE c.ballot_id = :b "
        "GROUP BY j.key, yes"
    ),
    ("answers", "postgresql"): (
        "SELECT j.key, CASE WHEN j.value = 'true' THEN 1 ELSE 0 END AS yes, COUNT(*) "
        "FROM cast_ballots c, json_each_text(c.contents) j WHERE c.ballot_id = :b "
        "GROUP BY j.key, yes"
    ),
}
_KIND = {"approval": "selections", "knapsack": "selections", "cumulative": "points"}


# The open ballot's sealed entries first (so PostgreSQL types the union's columns from them and
# the counts), then the counts of the cast ballots, then their number: one statement, so one
# snapshot of both tables. A vote committed meanwhile is in all or in none, and a close
# committed meanwhile (the box moved into cast_ballots) is seen whole or not at all: the live
# batches rely on it.
_BOX_ROWS = "SELECT NULL AS k, NULL AS f, NULL AS n, sealed FROM ballot_box WHERE ballot_id = :b"
_CAST_ROW = "SELECT NULL, NULL, COUNT(*), NULL FROM cast_ballots WHERE ballot_id = :b"
_READS = {  # only this module's constants are joined; the ballot's id is a bound parameter
    key: f"{_BOX_ROWS} UNION ALL SELECT a.*, NULL FROM ({counts}) a UNION ALL {_CAST_ROW}"  # noqa: S608
    for key, counts in _AGGREGATES.items()
}


def _read(ballot: Ballot) -> tuple[list[tuple[str, object, int]], int, list[bytes]]:
    """In one statement: (proposal id as text, value, count or sum) rows computed by the
    database from the cast ballots' JSON, the number of cast ballots, and the sealed entries
    of the ballot box (none once the ballot has closed)."""
    dialect = "sqlite" if db.session.get_bind().dialect.name == "sqlite" else "postgresql"
    sql = _READS[_KIND.get(ballot.method, "answers"), dialect]
    rows, cast, sealed = [], 0, []
    for key, flag, amount, entry in db.session.execute(text(sql), {"b": ballot.id}):
        if entry is not None:
            sealed.append(entry)
        elif key is None:
            cast = int(amount)
        else:
            rows.append((key, flag, amount))
    return rows, cast, sealed


def _aggregate_sealed(ballot: Ballot, sealed: list) -> list[tuple[str, object, int]]:
    """The same rows for the open ballot's sealed entries, opened in memory."""
    kind = _KIND.get(ballot.method, "answers")
    sums: dict[tuple[str, object], int] = {}
    for entry in sealed:
        contents = open_contents(ballot.id, entry)[0]
        if kind == "selections":
            pairs = [(str(pid), 1, 1) for pid in contents.get("selections", [])]
        elif kind == "points":
            pairs = [(str(pid), 1, int(n)) for pid, n in contents.get("points", {}).items()]
        else:
            pairs = [(str(pid), 1 if yes else 0, 1) for pid, yes in contents.items()]
        for pid, flag, amount in pairs:
            sums[pid, flag] = sums.get((pid, flag), 0) + amount
    return [(pid, flag, amount) for (pid, flag), amount in sums.items()]


def tally(ballot_id: int) -> Tally:
    """Count a ballot: votes (or points, or yes/no) per proposal, ballots cast and turnout.

    Every proposal on the ballot appears, with 0 if nobody chose it.
    """
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    votes = {item.proposal_id: 0 for item in ballot.items}
    no_votes = dict(votes) if ballot.method == "yes_no" else {}
    rows, cast, sealed = _read(ballot)
    rows += _aggregate_sealed(ballot, sealed)
    for key, flag, amount in rows:
        pid = int(key)
        if pid not in votes:
            continue
        counts = no_votes if ballot.method == "yes_no" and not flag else votes
        counts[pid] += int(amount)
    channels = dict(
        db.session.execute(
            select(Participation.channel, func.count())
            .where(Participation.ballot_id == ballot_id)
            .group_by(Participation.channel)
        ).all()
    )
    return Tally(
        ballot_id=ballot_id,
        method=ballot.method,
        ballots_cast=cast + len(sealed),
        eligible=eligible_count(ballot),
        by_channel=channels,
        votes=votes,
        no_votes=no_votes,
    )


@dataclass(frozen=True)
class PublicCounts:
    """A ballot's figures as they may be published now: the final tally once it is closed,
    while it is open or paused the published live batch (``live`` says when the next comes)."""

    cast: int
    eligible: int
    votes: dict[int, int]
    no_votes: dict[int, int]
    live: LiveFigures | None

    @property
    def turnout_percent(self) -> float:
        return round(100 * self.cast / self.eligible, 1) if self.eligible else 0.0


def public_counts(ballot: Ballot) -> PublicCounts:
    """The figures of ``ballot`` that may be shown: on the board, in the API, on the console
    (see ballots.live)."""
    counts = tally(ballot.id)
    if ballot.status not in ("open", "paused"):
        return PublicCounts(
            counts.ballots_cast, counts.eligible, counts.votes, counts.no_votes, None
        )
    current = {
        "cast": counts.ballots_cast,
        "votes": {str(pid): n for pid, n in counts.votes.items()},
        "no_votes": {str(pid): n for pid, n in counts.no_votes.items()},
    }
    live = live_figures(ballot, current)
    shown = live.published

    def figures(name: str, like: dict) -> dict[int, int]:
        return {pid: int(shown[name].get(str(pid), 0)) for pid in like}

    return PublicCounts(
        shown["cast"],
        counts.eligible,
        figures("votes", counts.votes),
        figures("no_votes", counts.no_votes),
        live,
    )
