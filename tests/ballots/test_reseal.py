"""``civicvote ballots reseal ID`` finishes a close that did not finish (voting/sealing.py)."""

from collections import Counter
from pathlib import Path

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.ballots import lifecycle
from civicvote.ballots.models import Ballot, BallotBoxEntry, CastBallot, VoteReplay
from civicvote.extensions import db
from civicvote.voting import casting
from civicvote.voting.sealing import close_step
from civicvote.voting.tally import tally
from tests import factories

CHOICES = ([0], [0, 1], [1], [2], [0, 2])


def _open_ballot_with_votes():
    ballot = factories.ballot()
    ids = [item.proposal_id for item in ballot.items]
    for n, picks in enumerate(CHOICES):
        _, token, _ = factories.credential(ballot, f"h{n}")
        casting.cast_vote(
            ballot.id, token, {"selections": [ids[i] for i in picks]}, idempotency_key=f"k{n}"
        )
    return ballot.id


def _count(model, ballot_id: int) -> int:
    query = db.select(db.func.count()).select_from(model).filter_by(ballot_id=ballot_id)
    return db.session.scalar(query)


def _cast(ballot_id: int) -> Counter:
    rows = db.session.scalars(db.select(CastBallot.contents).filter_by(ballot_id=ballot_id))
    return Counter(tuple(contents["selections"]) for contents in rows)


def _reseal(runner, ballot_id: int):
    db.session.commit()  # the test's own transaction would hold the scrub up
    return runner.invoke(args=["ballots", "reseal", str(ballot_id)])


def test_reseal_seals_what_a_close_left_in_the_box_and_changes_nothing_when_run_again(app, runner):
    ballot_id = _open_ballot_with_votes()
    expected = tally(ballot_id)
    # The close is interrupted before its seal: here, run by a process without the seal step.
    saved = list(lifecycle.CLOSE_STEPS)
    lifecycle.CLOSE_STEPS[:] = [entry for entry in saved if entry[1] is not close_step]
    try:
        lifecycle.change_status(ballot_id, "close", actor=None)
    finally:
        lifecycle.CLOSE_STEPS[:] = saved
    assert _count(BallotBoxEntry, ballot_id) == len(CHOICES)
    assert _count(CastBallot, ballot_id) == 0

    first = _reseal(runner, ballot_id)
    # (PostgreSQL: the scrub waits for every older transaction of the server, other tests'
    # too, at most a minute; if one outlasts it the command says so and fails.)
    scrubbed = first.exit_code == 0
    assert scrubbed or "could not be scrubbed" in first.output, first.output
    assert f"{len(CHOICES)} entries were still in the ballot box" in first.output
    assert _count(BallotBoxEntry, ballot_id) == _count(VoteReplay, ballot_id) == 0
    sealed = _cast(ballot_id)
    assert sum(sealed.values()) == len(CHOICES)
    counted = tally(ballot_id)
    assert (counted.ballots_cast, counted.votes) == (expected.ballots_cast, expected.votes)

    ids_before = set(db.session.scalars(db.select(CastBallot.id).filter_by(ballot_id=ballot_id)))
    again = _reseal(runner, ballot_id)
    assert "0 entries were still in the ballot box" in again.output, again.output
    assert _cast(ballot_id) == sealed
    # Rewritten as the close writes them: new ids, drawn now.
    assert not ids_before & set(
        db.session.scalars(db.select(CastBallot.id).filter_by(ballot_id=ballot_id))
    )


def _reseal_entries(ballot_id: int) -> list[AuditEvent]:
    query = db.select(AuditEvent).filter_by(action="ballot.reseal", object_id=ballot_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_reseal_is_in_the_public_log_with_what_it_did(app, runner, client):
    ballot_id = _open_ballot_with_votes()
    saved = list(lifecycle.CLOSE_STEPS)
    lifecycle.CLOSE_STEPS[:] = [entry for entry in saved if entry[1] is not close_step]
    try:
        lifecycle.change_status(ballot_id, "close", actor=None)
    finally:
        lifecycle.CLOSE_STEPS[:] = saved
    assert _reseal_entries(ballot_id) == []

    result = _reseal(runner, ballot_id)
    scrubbed = result.exit_code == 0
    entries = _reseal_entries(ballot_id)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.public and entry.actor_id is None and entry.actor_label == "system"
    assert entry.after == {"sealed": len(CHOICES), "scrubbed": scrubbed}
    community = db.session.get(Ballot, ballot_id).round.community
    assert entry.community_id == community.id

    page = client.get(f"/c/{community.slug}/log").get_data(as_text=True)
    assert "在服务器命令行上" in page and f"票箱中还有 {len(CHOICES)} 条记录" in page
    assert ("已从数据库中清除" if scrubbed else "需要再运行一次") in page
    assert "ballot.reseal" not in page

    # Run again: a second entry, nothing left to seal.
    _reseal(runner, ballot_id)
    assert [e.after["sealed"] for e in _reseal_entries(ballot_id)] == [len(CHOICES), 0]


def test_reseal_refuses_a_ballot_that_is_not_closed(app, runner):
    ballot_id = _open_ballot_with_votes()
    result = _reseal(runner, ballot_id)
    assert result.exit_code == 1
    assert "只有已经结束的投票才能重新封存。" in result.output  # the default locale
    assert _count(BallotBoxEntry, ballot_id) == len(CHOICES)
    assert _reseal(runner, ballot_id + 1000).exit_code == 1
    assert _reseal_entries(ballot_id) == []  # a refusal did nothing to log


def _traces(database: Path, sealed: list[bytes]) -> int:
    """How many of the sealed entries can still be read raw in the file or its -wal."""
    raw = b"".join(
        Path(f"{database}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{database}{suffix}").exists()
    )
    return sum(bytes(entry)[:24] in raw for entry in sealed)


class ServerStopped(Exception):
    """Stands for the server process ending right after the close's commit."""


def _stop_after_commit(_ballot):
    def stop():
        raise ServerStopped

    return stop


def test_reseal_scrubs_after_a_close_interrupted_before_its_scrub(sqlite_app):
    database = Path(db.engine.url.database)
    ballot_id = _open_ballot_with_votes()
    sealed = list(db.session.scalars(db.select(BallotBoxEntry.sealed)))
    db.session.commit()
    # The close commits, then the process stops before the scrub (the first thing after it).
    saved = list(lifecycle.CLOSE_STEPS)
    lifecycle.CLOSE_STEPS.insert(0, ("seal", _stop_after_commit))
    try:
        with pytest.raises(ServerStopped):
            lifecycle.change_status(ballot_id, "close", actor=None)
    finally:
        lifecycle.CLOSE_STEPS[:] = saved
    assert _count(BallotBoxEntry, ballot_id) == 0
    assert _count(CastBallot, ballot_id) == len(CHOICES)
    db.session.remove()
    assert _traces(database, sealed) > 0  # what the close deleted is still in the files

    result = sqlite_app.test_cli_runner().invoke(args=["ballots", "reseal", str(ballot_id)])
    assert result.exit_code == 0, result.output
    assert "0 entries were still in the ballot box" in result.output
    assert "The tables were scrubbed." in result.output
    db.session.remove()
    assert _traces(database, sealed) == 0
    assert tally(ballot_id).ballots_cast == len(CHOICES)
