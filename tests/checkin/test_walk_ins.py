"""Walk-ins need the resident in person and a second staff member; the resident's own card is
withdrawn with a reason; every walk-in names both staff members and is counted in public.

On the old code a clerk alone gave any resident who had not voted a code, present or not, and
their printed card kept working: test_walk_in_refused_without_a_second_person,
test_walk_in_needs_the_resident_checked_in and test_walk_in_withdraws_the_card_and_names_both_staff
fail there.
"""

from datetime import datetime

import pytest

from civicvote.accounts.models import User
from civicvote.audit.describe import describe
from civicvote.audit.models import AuditEvent
from civicvote.checkin.models import WalkIn
from civicvote.checkin.services import CheckInRefused, check_in
from civicvote.checkin.walkins import (
    SecondPersonMissing,
    SecondPersonRefused,
    issue_confirmed_walk_in,
    walk_ins_by_assembly,
)
from civicvote.errors import Conflict, DomainError
from civicvote.extensions import db
from civicvote.i18n import LOCALE_COOKIE
from civicvote.registry.credentials import issue_credentials
from civicvote.registry.models import Credential
from tests import factories

BASE = "http://localhost"


@pytest.fixture
def desk(app):
    """A household round: an assembly, everyone's card, a clerk and a second staff member."""
    community = factories.community()
    funding_round = factories.funding_round(community, vote_unit="household")
    households = factories.registry(community, buildings=1, rooms=2, per_room=1)
    ballot = factories.ballot(funding_round)
    ballot.status = "open"
    assembly = factories.assembly(ballot)
    cards = issue_credentials(ballot.id, base_url=BASE)
    db.session.commit()
    clerk = factories.user("clerk", roles=[(community, "clerk")])
    factories.user("second", roles=[(community, "supervisor")], display_name="李监督")
    return community, ballot, assembly, cards, households, clerk


def _issue(assembly, key, clerk, **given):
    values = {
        "reason": "card_forgotten",
        "second_username": "second",
        "second_password": factories.PASSWORD,
        **given,
    }
    return issue_confirmed_walk_in(
        assembly, key, clerk=clerk, base_url=BASE, seal=lambda value, purpose: b"sealed", **values
    )


def _walk_in_credentials() -> int:
    return db.session.scalar(db.select(db.func.count()).where(Credential.kind == "walk_in"))


def test_walk_in_refused_without_a_second_person(desk):
    community, _ballot, assembly, cards, households, clerk = desk
    key = f"h{households[0].id}"
    check_in(assembly, cards[0].link)
    db.session.commit()
    factories.user("reviewer", roles=[(community, "reviewer")])
    factories.user("elsewhere", roles=[(factories.community(), "clerk")])
    refusals = [
        ({"second_username": "", "second_password": ""}, SecondPersonMissing),
        ({"second_password": "wrong password"}, SecondPersonRefused),
        ({"second_username": "nobody"}, SecondPersonRefused),
        ({"second_username": "clerk"}, SecondPersonRefused),  # the clerk cannot confirm alone
        ({"second_username": "reviewer"}, SecondPersonRefused),  # no staff role at the desk
        ({"second_username": "elsewhere"}, SecondPersonRefused),  # staff of another community
    ]
    for given, refusal in refusals:
        with pytest.raises(refusal):
            _issue(assembly, key, clerk, **given)
        db.session.rollback()
    assert _walk_in_credentials() == 0
    assert db.session.get(Credential, cards[0].credential_id).revoked_at is None


def test_walk_in_needs_the_resident_checked_in(desk):
    _community, _ballot, assembly, _cards, households, clerk = desk
    with pytest.raises(Conflict) as refused:
        _issue(assembly, f"h{households[0].id}", clerk)
    assert refused.value.code == "not_present"
    db.session.rollback()
    assert _walk_in_credentials() == 0


def test_walk_in_withdraws_the_card_and_names_both_staff(desk):
    community, ballot, assembly, cards, households, clerk = desk
    key = f"h{households[0].id}"
    check_in(assembly, cards[0].link)
    db.session.commit()
    issued = _issue(assembly, key, clerk, reason="card_lost")
    card = db.session.get(Credential, cards[0].credential_id)
    assert card.revoked_at is not None and card.revoked_reason == "card_lost"
    walk_in = db.session.scalar(db.select(WalkIn))
    second = db.session.scalar(db.select(User).filter_by(username="second"))
    assert (walk_in.clerk_id, walk_in.confirmed_by_id) == (clerk.id, second.id)
    assert walk_in.credential_id == issued.card.credential_id and walk_in.reason == "card_lost"
    # The withdrawn card no longer checks anyone in (another assembly of the same ballot).
    other = factories.assembly(ballot, title="第二场", starts_at=datetime(2026, 6, 2, 1, 30))
    with pytest.raises(CheckInRefused):
        check_in(other, cards[0].link)
    db.session.rollback()
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="walk_in.issue"))
    assert event.public and event.actor_id == clerk.id
    (entry,) = describe([event])
    assert "李监督" in entry.sentence and "选民卡遗失" in entry.sentence  # default zh_Hans
    counts = walk_ins_by_assembly(ballot.id)
    assert [(row["assembly_id"], row["walk_ins"]) for row in counts] == [
        (assembly.id, 1),
        (other.id, 0),
    ]
    assert community.id == event.community_id


def test_never_received_is_refused_for_a_resident_holding_a_card(desk):
    _community, _ballot, assembly, cards, households, clerk = desk
    check_in(assembly, cards[0].link)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        _issue(assembly, f"h{households[0].id}", clerk, reason="no_card")
    assert refused.value.code == "reason"
    db.session.rollback()
    with pytest.raises(DomainError):
        _issue(assembly, f"h{households[0].id}", clerk, reason="made up")


def test_walk_in_form_refused_without_a_second_person_says_why(desk, client):
    community, _ballot, assembly, cards, households, _clerk = desk
    check_in(assembly, cards[1].link)
    db.session.commit()
    factories.login(client, "clerk")
    client.set_cookie(LOCALE_COOKIE, "en")
    url = f"/console/c/{community.slug}/assemblies/{assembly.id}/walk-in/new"
    key = f"h{households[1].id}"
    page = client.get(f"{url}?voter={key}").get_data(as_text=True)
    assert f'name="voter" value="{key}"' in page
    data = {"csrf_token": factories.csrf_token(page), "voter": key, "reason": "card_forgotten"}
    refused = client.post(url, data=data)
    assert refused.status_code == 422
    assert "A second staff member must confirm every walk-in" in refused.get_data(as_text=True)
    wrong = client.post(url, data={**data, "second_username": "clerk", "second_password": "x"})
    assert wrong.status_code == 403
    accepted = client.post(
        url, data={**data, "second_username": "second", "second_password": factories.PASSWORD}
    )
    assert accepted.status_code == 303
    assert _walk_in_credentials() == 1
    # The ballot's public statistics count walk-ins per assembly: open data and the report.
    ballot = assembly.ballot
    stats = client.get(f"/api/v1/ballots/{ballot.id}").get_json()["walk_ins"]
    assert stats == [{"assembly_id": assembly.id, "title": assembly.title, "count": 1}]
    report = client.get(f"/c/{community.slug}/rounds/{ballot.round_id}/report")
    assert "1 walk-in voting code given" in report.get_data(as_text=True)
