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
from ..ballots.models import Ballot, BallotBoxEntry, Participation
from ..errors import NotFound
from ..extensions import db
from ..registry.services import eligible_counts
from ..rounds.models import VOTE_UNIT_RESIDENT
from .sealing import open_box


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


# The number of ballots, read by the same statement as the counts: one snapshot of the table,
# so a vote committed meanwhile is in both or in neither (the live batches rely on it).
_CAST_ROW = " UNION ALL SELECT NULL, NULL, COUNT(*) FROM cast_ballots WHERE ballot_id = :b"


def _aggregate(ballot: Ballot) -> tuple[list[tuple[str, object, int]], int]:
    """(proposal id as text, value, count or sum) rows computed by the database from the JSON,
    and the number of ballots cast."""
    dialect = "sqlite" if db.session.get_bind().dialect.name == "sqlite" else "postgresql"
    sql = _AGGREGATES[_KIND.get(ballot.method, "answers"), dialect] + _CAST_ROW
    rows = list(db.session.execute(text(sql), {"b": ballot.id}))
    cast = next(int(amount) for key, _flag, amount in rows if key is None)
    return [row for row in rows if row[0] is not None], cast


def _aggregate_sealed(ballot: Ballot) -> tuple[list[tuple[str, object, int]], int]:
    """The same rows for the open ballot's sealed entries, opened in memory, and their count."""
    kind = _KIND.get(ballot.method, "answers")
    sums: dict[tuple[str, object], int] = {}
    opened = open_box(ballot.id)
    for contents in opened:
        if kind == "selections":
            pairs = [(str(pid), 1, 1) for pid in contents.get("selections", [])]
        elif kind == "points":
            pairs = [(str(pid), 1, int(n)) for pid, n in contents.get("points", {}).items()]
        else:
            pairs = [(str(pid), 1 if yes else 0, 1) for pid, yes in contents.items()]
        for pid, flag, amount in pairs:
            sums[pid, flag] = sums.get((pid, flag), 0) + amount
    return [(pid, flag, amount) for (pid, flag), amount in sums.items()], len(opened)


def _has_sealed(ballot_id: int) -> bool:
    query = select(BallotBoxEntry.id).filter_by(ballot_id=ballot_id).limit(1)
    return db.session.scalar(query) is not None


def tally(ballot_id: int) -> Tally:
    """Count a ballot: votes (or points, or yes/no) per proposal, ballots cast and turnout.

    Every proposal on the ballot appears, with 0 if nobody chose it.
    """
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    votes = {item.proposal_id: 0 for item in ballot.items}
    no_votes = dict(votes) if ballot.method == "yes_no" else {}
    rows, cast = _aggregate(ballot)
    sealed = 0
    if ballot.status != "closed" and _has_sealed(ballot.id):
        opened, sealed = _aggregate_sealed(ballot)
        rows += opened
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
        ballots_cast=cast + sealed,
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
