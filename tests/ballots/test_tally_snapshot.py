"""The tally of an open ballot reads its cast ballots and its sealed box in one snapshot, so a
close committed while it counts is seen whole or not at all (voting/tally.py)."""

import threading

from sqlalchemy import event

from civicvote.ballots import lifecycle
from civicvote.extensions import db
from civicvote.voting import casting
from civicvote.voting.sealing import seal_ballot_box
from civicvote.voting.tally import tally
from tests import factories


def _close_elsewhere(app, ballot_id: int, errors: list) -> None:
    """What a close commits (status closed, the box moved into cast ballots), from another
    connection; the scrub after it is left out: it would wait for the tally's transaction."""
    try:
        with app.app_context():
            ballot = lifecycle.lock_ballot(ballot_id, exclusive=True)
            ballot.change_status("closed")
            seal_ballot_box(ballot)
            db.session.commit()
    except Exception as error:  # reported by the test, not lost in the thread
        errors.append(error)


def test_a_close_between_the_tallys_statements_is_counted_once(app):
    ballot = factories.ballot()
    first, second = (item.proposal_id for item in ballot.items[:2])
    for n, selections in enumerate(([first], [first, second], [second])):
        _, token, _ = factories.credential(ballot, f"h{n}")
        casting.cast_vote(ballot.id, token, {"selections": selections})
    ballot_id = ballot.id
    db.session.remove()
    errors, closed = [], []

    def close_once(_conn, _cursor, statement, *_args):
        # Right after the tally's first read of the ballots' contents, the ballot closes.
        touches = "cast_ballots" in statement or "ballot_box" in statement
        if touches and not closed and threading.current_thread() is threading.main_thread():
            closed.append(statement)
            other = threading.Thread(target=_close_elsewhere, args=(app, ballot_id, errors))
            other.start()
            other.join(30)

    event.listen(db.engine, "after_cursor_execute", close_once)
    try:
        counted = tally(ballot_id)
    finally:
        event.remove(db.engine, "after_cursor_execute", close_once)
    assert closed and not errors
    assert counted.ballots_cast == 3
    assert (counted.votes[first], counted.votes[second]) == (2, 2)
    db.session.remove()
    after = tally(ballot_id)  # and the closed ballot counts the same
    assert (after.ballots_cast, after.votes) == (3, counted.votes)
