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
