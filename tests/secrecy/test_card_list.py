"""Attack 1 (issue 14, finding 1): the printed card list and every possible choice set, tried
against everything the database stores, while the ballot is open and after it closes."""

from civicvote.ballots import lifecycle
from civicvote.extensions import db
from tests.secrecy.attack import brute_force_links, cast_votes, secret_ballot, stored_values


def test_the_card_list_and_every_choice_set_link_no_vote(app):
    ballot = secret_ballot()
    voters = cast_votes(app, ballot, {"web": 10, "api": 4, "paper": 2})
    during = brute_force_links(voters, ballot, stored_values(db.session.connection()))
    db.session.rollback()
    lifecycle.change_status(ballot.id, "close", actor=None)
    after = brute_force_links(voters, ballot, stored_values(db.session.connection()))
    assert (during, after) == ({}, {})


def test_replays_expire_and_are_wiped(app):
    """After the recovery window a retry is told the vote counted, and the replay is wiped."""
    from datetime import timedelta

    from civicvote.ballots.models import VoteReplay
    from civicvote.errors import Conflict
    from civicvote.timeutil import utcnow
    from civicvote.voting import casting, receipts
    from tests import factories

    ballot = secret_ballot()
    _, token, _ = factories.credential(ballot)
    choice = {"selections": [ballot.items[0].proposal_id]}
    first = casting.cast_vote(ballot.id, token, choice, idempotency_key="k")
    again = casting.cast_vote(ballot.id, token, choice, idempotency_key="k")
    assert (again.receipt, again.created) == (first.receipt, False)
    later = utcnow() + timedelta(minutes=31)
    try:
        casting.cast_vote(ballot.id, token, choice, idempotency_key="k", now=later)
    except Conflict as error:
        assert error.code == "already_voted"
    else:
        raise AssertionError("a retry after the window replayed the receipt")
    receipts._last_sweep[0] = 0.0  # the next vote sweeps
    _, other, _ = factories.credential(ballot)
    casting.cast_vote(ballot.id, other, choice, now=later)
    assert db.session.scalar(db.select(db.func.count()).select_from(VoteReplay)) == 0
