"""Secrecy: from the database alone, no cast ballot can be joined to a credential or a voter."""

from sqlalchemy import inspect, text

from civicvote.ballots import lifecycle
from civicvote.ballots.models import CastBallot
from civicvote.extensions import db
from civicvote.voting import casting
from tests import factories


def ids(ballot):
    return [item.proposal_id for item in ballot.items]


def _vote_many(ballot, n=12):
    tokens = []
    for i in range(n):
        _, token, _ = factories.credential(ballot, f"r{i}")
        choice = [ids(ballot)[i % 3]]
        casting.cast_vote(ballot.id, token, {"selections": choice}, idempotency_key=f"key-{i}")
        tokens.append(token)
    return tokens


def test_cast_ballots_carry_no_voter_link_no_time_no_sequence(app):
    columns = {c["name"] for c in inspect(db.engine).get_columns("cast_ballots")}
    # neighbourhood: a building group of at least the round's minimum of ballots, or none,
    # written by the close (allocation/buildings.py; tests/results/test_buildings.py).
    assert columns == {"id", "ballot_id", "contents", "receipt_code", "neighbourhood"}
    foreign = inspect(db.engine).get_foreign_keys("cast_ballots")
    assert [fk["referred_table"] for fk in foreign] == ["ballots"]
    # Nothing else points at a cast ballot either.
    for table in inspect(db.engine).get_table_names():
        for fk in inspect(db.engine).get_foreign_keys(table):
            assert fk["referred_table"] != "cast_ballots", table
    participation_columns = {c["name"] for c in inspect(db.engine).get_columns("participations")}
    assert not participation_columns & {"cast_ballot_id", "receipt_code", "contents"}
    # Nothing computed from the card and the contents together (issue 14, tests/secrecy/).
    assert not participation_columns & {"request_hash", "sealed_receipt", "idempotency_hash"}


def test_stored_order_reveals_nothing(app):
    ballot = factories.ballot()
    _vote_many(ballot)
    assert db.session.scalar(db.select(db.func.count()).select_from(CastBallot)) == 0  # sealed
    lifecycle.change_status(ballot.id, "close", actor=None)
    stored_ids = list(db.session.scalars(db.select(CastBallot.id)))
    # Ids are random 128-bit hex, not a sequence.
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in stored_ids)
    assert len(set(stored_ids)) == len(stored_ids)
    if db.engine.dialect.name == "sqlite":
        # No hidden rowid records the insertion order (the table is WITHOUT ROWID) ...
        error = None
        try:
            db.session.execute(text("SELECT rowid FROM cast_ballots")).all()
        except Exception as failure:  # sqlite3.OperationalError: no such column
            error = failure
        db.session.rollback()
        assert error is not None
        # ... and the natural scan order is the random id's order.
        scanned = [row[0] for row in db.session.execute(text("SELECT id FROM cast_ballots"))]
        assert scanned == sorted(stored_ids)
    else:
        # The close wrote the rows in random-id order in one transaction.
        rows = db.session.execute(
            text("SELECT id, xmin::text FROM cast_ballots ORDER BY ctid")
        ).all()
        assert [row[0] for row in rows] == sorted(stored_ids)
        assert len({row[1] for row in rows}) == 1
