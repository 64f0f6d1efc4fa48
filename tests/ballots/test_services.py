"""The casting service, ballot lifecycle and the tally, called directly (paper: test_paper.py)."""

import time
from datetime import timedelta

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.ballots import lifecycle, rules, setup
from civicvote.ballots.models import CastBallot, Participation
from civicvote.errors import Conflict, DomainError, Forbidden, InvalidTransition
from civicvote.extensions import db
from civicvote.registry import credentials
from civicvote.registry.models import Credential
from civicvote.timeutil import utcnow
from civicvote.voting import casting, receipts, statements
from civicvote.voting.tally import tally
from tests import factories


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def ids(ballot):
    return [item.proposal_id for item in ballot.items]


def test_vote_is_recorded_in_two_unlinked_rows(app):
    ballot = factories.ballot()
    cred, token, _ = factories.credential(ballot, "h7")
    result = casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:2]})
    assert result.created and len(result.receipt) == receipts.RECEIPT_LENGTH
    participation = db.session.scalar(db.select(Participation))
    assert (participation.voter_key, participation.channel) == ("h7", "online")
    [(contents, receipt)] = factories.stored_votes()
    assert contents == {"selections": sorted(ids(ballot)[:2])}
    assert receipt == result.receipt
    lifecycle.change_status(ballot.id, "close", actor=None)
    stored = db.session.scalar(db.select(CastBallot))
    assert (stored.contents, stored.receipt_code) == (contents, receipt)
    assert len(stored.id) == 32 and int(stored.id, 16) >= 0
    assert db.session.get(Credential, cred.id).used_at is not None


def test_second_vote_with_the_same_credential_is_refused(app):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    with pytest.raises(Conflict) as error:
        casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[1:2]})
    assert error.value.code == "already_voted"
    assert factories.stored_count() == 1


def test_a_household_votes_once_whatever_card_it_uses(app):
    ballot = factories.ballot()
    _, first, _ = factories.credential(ballot, "h1")
    _, second, _ = factories.credential(ballot, "h1")
    casting.cast_vote(ballot.id, first, {"selections": ids(ballot)[:1]})
    with pytest.raises(Conflict):
        casting.cast_vote(ballot.id, second, {"selections": ids(ballot)[:1]})
    assert count(Participation) == 1


def test_retry_with_the_same_key_returns_the_same_receipt(app):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    vote = {"selections": ids(ballot)[:2]}
    first = casting.cast_vote(ballot.id, token, vote, idempotency_key="k-1")
    # The same choices in another order are the same request.
    again = casting.cast_vote(
        ballot.id, token, {"selections": ids(ballot)[:2][::-1]}, idempotency_key="k-1"
    )
    assert (again.receipt, again.created) == (first.receipt, False)
    # Other choices with the same key are a retry too: nothing kept can tell them apart (no
    # hash of the contents is stored), and the vote that counts is the first.
    changed = casting.cast_vote(
        ballot.id, token, {"selections": ids(ballot)[:1]}, idempotency_key="k-1"
    )
    assert (changed.receipt, changed.created) == (first.receipt, False)
    with pytest.raises(Conflict) as error:
        casting.cast_vote(ballot.id, token, vote, idempotency_key="k-2")
    assert error.value.code == "already_voted"
    assert factories.stored_count() == 1


def test_a_retry_after_the_close_is_told_the_vote_counted_not_its_receipt(app):
    """The close wipes the vote replays (issue 14): nothing links a card to a receipt after it."""
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]}, idempotency_key="k")
    lifecycle.change_status(ballot.id, "close", actor=None)
    with pytest.raises(Conflict) as error:
        casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]}, idempotency_key="k")
    assert error.value.code == "already_voted"


@pytest.mark.parametrize(
    ("method", "fields", "payload", "code"),
    [
        ("approval", {}, {"selections": [999999]}, "not_on_ballot"),
        ("approval", {}, {"selections": ["x"]}, "type"),
        ("approval", {}, {"selections": [True]}, "type"),
        ("approval", {}, {"selections": "1"}, "type"),
        ("approval", {}, {"selections": []}, "too_few"),
        ("approval", {"max_choices": 2}, {"selections": "ALL"}, "type"),
        ("approval", {"max_choices": 2}, {"selections": "ALL3"}, "too_many"),
        ("approval", {}, {"selections": "DUP"}, "duplicate"),
        ("knapsack", {"budget_fen": 2_500_000}, {"selections": "ALL3"}, "over_budget"),
        ("cumulative", {"points_total": 5}, {"points": {"FIRST": -1}}, "negative"),
        ("cumulative", {"points_total": 5}, {"points": {"FIRST": 1.5}}, "type"),
        ("cumulative", {"points_total": 5}, {"points": {"FIRST": 6}}, "too_many_points"),
        ("cumulative", {"points_total": 5}, {"points": {"FIRST": 0}}, "too_few"),
        ("cumulative", {"points_total": 5}, {"points": []}, "type"),
        ("yes_no", {}, {"answers": {"FIRST": "yes"}}, "type"),
        ("yes_no", {}, {"answers": {}}, "too_few"),
    ],
)
def test_invalid_ballots_are_refused_and_nothing_is_stored(app, method, fields, payload, code):
    fields.setdefault("min_choices", 1)
    ballot = factories.ballot(method=method, **fields)
    _, token, _ = factories.credential(ballot)
    first = ids(ballot)[0]
    if payload.get("selections") == "ALL3":
        payload = {"selections": ids(ballot)}
    elif payload.get("selections") == "DUP":
        payload = {"selections": [first, first]}
    elif payload.get("selections") == "ALL":
        payload = {"selections": "all"}
    for name in ("points", "answers"):
        if isinstance(payload.get(name), dict) and "FIRST" in payload[name]:
            payload = {name: {str(first): payload[name]["FIRST"]}}
    with pytest.raises(rules.BallotContentError) as error:
        casting.cast_vote(ballot.id, token, payload)
    assert error.value.code == code
    assert error.value.status_code == 422
    assert count(Participation) == factories.stored_count() == 0
    assert db.session.scalar(db.select(Credential)).used_at is None


def test_valid_ballots_of_each_method(app):
    knapsack = factories.ballot(
        method="knapsack", budget_fen=3_000_000, costs=[1_000_000, 2_000_000, 500_000]
    )
    _, token, _ = factories.credential(knapsack)
    casting.cast_vote(knapsack.id, token, {"selections": ids(knapsack)[:2]})
    cumulative = factories.ballot(method="cumulative", points_total=5, max_choices=2)
    _, token, _ = factories.credential(cumulative)
    p, q, r = ids(cumulative)
    casting.cast_vote(cumulative.id, token, {"points": {str(p): 3, str(q): "2", str(r): 0}})
    yes_no = factories.ballot(method="yes_no")
    _, token, _ = factories.credential(yes_no)
    a, b, _c = ids(yes_no)
    casting.cast_vote(yes_no.id, token, {"answers": {str(a): True, str(b): False}})
    stored = {b.id: factories.stored_votes(b.id)[0][0] for b in (knapsack, cumulative, yes_no)}
    assert stored[knapsack.id] == {"selections": sorted(ids(knapsack)[:2])}
    assert stored[cumulative.id] == {"points": {str(p): 3, str(q): 2}}
    assert stored[yes_no.id] == {str(a): True, str(b): False}


@pytest.mark.parametrize(
    ("fields", "code", "error_type"),
    [
        ({"status": "draft"}, "not_open", Conflict),
        ({"status": "paused"}, "paused", Conflict),
        ({"status": "closed"}, "closed", Conflict),
        ({"online_closes_at": utcnow() - timedelta(minutes=1)}, "outside_window", Conflict),
        ({"online_opens_at": utcnow() + timedelta(hours=1)}, "outside_window", Conflict),
        ({"mode": "assembly"}, "not_checked_in", Forbidden),
    ],
)
def test_votes_outside_the_open_window_are_refused(app, fields, code, error_type):
    ballot = factories.ballot(**fields)
    _, token, _ = factories.credential(ballot)
    with pytest.raises(error_type) as error:
        casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    assert error.value.code == code
    assert count(Participation) == 0


def test_assembly_ballot_takes_checked_in_voters(app):
    ballot = factories.ballot(mode="assembly")
    _, token, _ = factories.credential(ballot, "r5")
    factories.check_in(ballot, "r5")
    casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    assert db.session.scalar(db.select(Participation.channel)) == "assembly"


def test_mixed_ballot_accepts_checked_in_voters_outside_the_online_window(app):
    ballot = factories.ballot(mode="mixed", online_closes_at=utcnow() - timedelta(hours=1))
    _, token, _ = factories.credential(ballot, "h3")
    factories.check_in(ballot, "h3")
    casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    assert db.session.scalar(db.select(Participation.channel)) == "assembly"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"revoked_at": utcnow()}, "revoked"),
        ({"expires_at": utcnow() - timedelta(seconds=1)}, "expired"),
    ],
)
def test_revoked_and_expired_credentials_cannot_vote(app, fields, code):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot, **fields)
    with pytest.raises(Forbidden) as error:
        casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    assert error.value.code == code


def test_unknown_and_other_ballots_credentials_are_refused(app):
    ballot, other = factories.ballot(), factories.ballot()
    _, token, _ = factories.credential(other)
    for secret in ("nope", token):
        with pytest.raises(Forbidden):
            casting.cast_vote(ballot.id, secret, {"selections": ids(ballot)[:1]})


def test_short_code_votes_with_a_session_seal(app):
    ballot = factories.ballot()
    _, _, short = factories.credential(ballot)
    first = casting.cast_vote(
        ballot.id,
        short.lower(),
        {"selections": ids(ballot)[:1]},
        idempotency_key="k",
        seal_secret="s" * 43,
    )
    again = casting.cast_vote(
        ballot.id, short, {"selections": ids(ballot)[:1]}, idempotency_key="k", seal_secret="s" * 43
    )
    assert again.receipt == first.receipt


def test_walk_in_links_are_claimed_once(app):
    ballot = factories.ballot()
    walk_in, token, _ = factories.credential(
        ballot, kind="walk_in", expires_at=utcnow() + timedelta(minutes=10)
    )
    credentials.claim_credential(credentials.find_credential_by_token(token))
    assert walk_in.claimed_at is not None
    with pytest.raises(Forbidden) as error:
        credentials.claim_credential(credentials.find_credential_by_token(token))
    assert error.value.code == "claimed"
    card, token, _ = factories.credential(ballot)
    credentials.claim_credential(card)
    credentials.claim_credential(card)  # a printed card's link can be opened again


def test_lifecycle_is_audited_and_locks_the_settings(app):
    community = factories.community()
    organizer = factories.user(roles=[(community, "organizer")])
    funding_round = factories.funding_round(community)
    proposals = [factories.proposal(funding_round) for _ in range(3)]
    values = {
        "title": "投票",
        "method": "approval",
        "mode": "mixed",
        "min_choices": 1,
        "max_choices": 2,
        "quorum_kind": "minimum",
        "quorum_value": 10,
        "pass_threshold_percent": 50,
    }
    ballot = setup.create_ballot(
        funding_round, values, [p.id for p in proposals[:2]], actor=organizer
    )
    setup.update_ballot(
        ballot, {**values, "max_choices": 3}, [p.id for p in proposals], actor=organizer
    )
    assert ballot.max_choices == 3
    lifecycle.change_status(ballot.id, "open", actor=organizer)
    with pytest.raises(Conflict) as error:
        setup.update_ballot(ballot, {**values, "max_choices": 1}, ids(ballot), actor=organizer)
    assert error.value.code == "locked"
    with pytest.raises(Conflict):
        setup.update_ballot(ballot, {**values, "max_choices": 3}, ids(ballot)[:2], actor=organizer)
    setup.update_ballot(
        ballot, {**values, "max_choices": 3, "title": "新标题"}, ids(ballot), actor=organizer
    )
    lifecycle.change_status(ballot.id, "pause", actor=organizer)
    lifecycle.change_status(ballot.id, "open", actor=organizer)
    lifecycle.change_status(ballot.id, "close", actor=organizer)
    with pytest.raises(InvalidTransition):
        lifecycle.change_status(ballot.id, "open", actor=organizer)
    actions = list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == [
        "ballot.create",
        "ballot.update",
        "ballot.open",
        "ballot.update",
        "ballot.pause",
        "ballot.open",
        "ballot.close",
    ]


def test_only_approved_proposals_of_the_round_go_on_a_ballot(app):
    community = factories.community()
    funding_round = factories.funding_round(community)
    draft = factories.proposal(funding_round, status="submitted")
    values = {
        "title": "投票",
        "method": "approval",
        "mode": "mixed",
        "min_choices": 0,
        "max_choices": None,
        "quorum_kind": "minimum",
        "quorum_value": 1,
        "pass_threshold_percent": 50,
    }
    with pytest.raises(DomainError):
        setup.create_ballot(funding_round, values, [draft.id], actor=None)


def test_tally_counts_each_method(app):
    approval = factories.ballot()
    a, b, c = ids(approval)
    for chosen in ([a], [a, b], [a, c]):
        _, token, _ = factories.credential(approval)
        casting.cast_vote(approval.id, token, {"selections": chosen})
    result = tally(approval.id)
    assert result.votes == {a: 3, b: 1, c: 1}
    assert result.ballots_cast == 3 and result.by_channel == {"online": 3}

    cumulative = factories.ballot(method="cumulative", points_total=10)
    a, b, c = ids(cumulative)
    for points in ({a: 10}, {a: 4, b: 6}):
        _, token, _ = factories.credential(cumulative)
        casting.cast_vote(cumulative.id, token, {"points": {str(k): v for k, v in points.items()}})
    assert tally(cumulative.id).votes == {a: 14, b: 6, c: 0}

    yes_no = factories.ballot(method="yes_no")
    a, b, c = ids(yes_no)
    for answers in ({a: True, b: False}, {a: True, b: True, c: False}):
        _, token, _ = factories.credential(yes_no)
        casting.cast_vote(yes_no.id, token, {"answers": {str(k): v for k, v in answers.items()}})
    result = tally(yes_no.id)
    assert result.votes == {a: 2, b: 1, c: 0}
    assert result.no_votes == {a: 0, b: 1, c: 1}


def test_sqlite_vote_takes_the_write_lock_before_reading(sqlite_app):
    """On SQLite the casting transaction starts with BEGIN IMMEDIATE: no other writer can start
    between its reads and its writes."""
    import sqlite3

    ballot = factories.ballot()
    lifecycle.lock_ballot(ballot.id, exclusive=False)
    other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        db.session.rollback()
    # Released at the end of the transaction.
    other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def _change_between_read_and_write(monkeypatch, ballot_id: int, values: dict) -> None:
    """Make the next vote's read be followed by another connection changing the ballot."""
    from sqlalchemy import create_engine, update

    from civicvote.ballots.models import Ballot

    read = statements.read_vote_state
    pending = [values]

    def read_then_change(connection, *args):
        state = read(connection, *args)
        if pending:
            other = create_engine(db.engine.url)
            with other.begin() as elsewhere:
                change = update(Ballot).where(Ballot.id == ballot_id).values(pending.pop())
                elsewhere.execute(change)
            other.dispose()
        return state

    monkeypatch.setattr(statements, "read_vote_state", read_then_change)


def test_vote_read_before_a_close_is_decided_again_and_refused(postgres_app, monkeypatch):
    """PostgreSQL reads a vote's ballot without a lock and writes only if the locked row is
    unchanged: a close committed in between makes it decide again, on the closed ballot."""
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    _change_between_read_and_write(monkeypatch, ballot.id, {"status": "closed"})
    with pytest.raises(Conflict) as error:
        casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    assert error.value.code == "closed"
    assert count(Participation) == factories.stored_count() == 0
    assert db.session.scalar(db.select(Credential)).used_at is None


def test_vote_read_before_the_window_closed_is_decided_on_the_new_window(postgres_app, monkeypatch):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    ended = utcnow() - timedelta(minutes=1)
    _change_between_read_and_write(monkeypatch, ballot.id, {"online_closes_at": ended})
    with pytest.raises(Conflict) as error:
        casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    assert error.value.code == "outside_window"
    assert count(Participation) == factories.stored_count() == 0


def test_vote_read_before_an_unrelated_edit_is_counted_on_the_second_try(postgres_app, monkeypatch):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    _change_between_read_and_write(monkeypatch, ballot.id, {"max_choices": 3})
    result = casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:2]})
    assert result.created
    assert count(Participation) == factories.stored_count() == 1


def test_a_vote_is_two_statements_on_postgresql(postgres_app, monkeypatch):
    """The hot path stays lean: one read, then one write statement (participation, ballot and
    credential use) that is its own transaction, so no BEGIN or COMMIT round trips; and no
    connection check while the pool is in use."""
    import psycopg
    from psycopg._connection_base import BaseConnection

    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    ballot_id, choice = ballot.id, ids(ballot)[:1]
    db.session.commit()  # the connection was just used, as in a busy server
    receipts._last_sweep[0] = time.monotonic()  # no sweep of expired replays in this vote
    sent = []
    execute, command = psycopg.Cursor.execute, BaseConnection._exec_command

    def counting(cursor, query, *args, **kwargs):
        sent.append(str(query).split(None, 1)[0].upper())
        return execute(cursor, query, *args, **kwargs)

    def counting_command(connection, query, *args, **kwargs):
        sent.append(bytes(query).decode().split(None, 1)[0].upper())
        return command(connection, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    monkeypatch.setattr(BaseConnection, "_exec_command", counting_command)
    result = casting.cast_vote(ballot_id, token, {"selections": choice}, idempotency_key="k")
    monkeypatch.undo()
    assert sent == ["SELECT", "WITH"]
    assert result.created
    assert count(Participation) == factories.stored_count() == 1


def test_receipt_codes_are_uniform_over_the_alphabet():
    from collections import Counter

    codes = [receipts.new_receipt_code() for _ in range(3000)]
    assert all(len(code) == receipts.RECEIPT_LENGTH for code in codes)
    symbols = Counter("".join(codes))
    assert set(symbols) == set(credentials.SHORT_ALPHABET)
    expected = 3000 * receipts.RECEIPT_LENGTH / len(credentials.SHORT_ALPHABET)
    assert all(abs(n - expected) < 250 for n in symbols.values())  # about 7 standard deviations
