"""A batch of voter cards is issued once per form, whatever the browser does: the sheet is a GET
page of that batch, reloading or sending the form again issues nothing and loses no code.

On the old code the sheet was the POST's answer: sending the form again (a reload) issued a
second batch and the first batch's codes were gone; every test here fails there (no
``request_key``, no batch page).
"""

import re
import threading

import pytest

from civicvote.extensions import db
from civicvote.registry.batches import issue_card_batch
from civicvote.registry.models import CardBatch, Credential
from tests import factories
from tests.registry.qr import decode_svg, svgs_in
from tests.registry.test_cards import request_key


@pytest.fixture
def setup(app):
    community = factories.community()
    funding_round = factories.funding_round(community, vote_unit="household")
    factories.registry(community, buildings=2, rooms=3, per_room=1)
    ballot = factories.ballot(funding_round)
    factories.user("org", roles=[(community, "organizer")])
    return community, ballot


def _cards() -> int:
    return db.session.scalar(db.select(db.func.count(Credential.id)))


def _links(html: str) -> list[str]:
    return [decode_svg(svg) for svg in svgs_in(html)]


def _form(client, url: str, **choices) -> dict:
    """The cards form as the page gives it: CSRF token, one-time key, and ``choices``."""
    page = client.get(url).get_data(as_text=True)
    return {"csrf_token": factories.csrf_token(page), "request_key": request_key(page), **choices}


def test_sending_the_form_again_issues_no_second_batch(setup, client):
    community, ballot = setup
    factories.login(client, "org")
    url = f"/console/c/{community.slug}/ballots/{ballot.id}/cards"
    data = _form(client, url, count="2")
    first = client.post(url, data=data)
    assert first.status_code == 303
    sheet = client.get(first.headers["Location"])
    assert sheet.headers["Cache-Control"] == "no-store"
    links = _links(sheet.get_data(as_text=True))
    assert len(links) == 2 and _cards() == 2
    # Reloading the sheet shows the same cards; the same form sent again finds the same batch.
    assert _links(client.get(first.headers["Location"]).get_data(as_text=True)) == links
    again = client.post(url, data=data)
    assert again.headers["Location"] == first.headers["Location"]
    assert _links(client.get(again.headers["Location"]).get_data(as_text=True)) == links
    assert _cards() == 2 and db.session.scalar(db.select(db.func.count(CardBatch.id))) == 1
    # Back to the form: Chromium loads it again (a new key) and refills the choices. Sent
    # again, the same choices show the batch just issued...
    page = client.get(url).get_data(as_text=True)
    assert request_key(page) != data["request_key"]
    back = client.post(url, data={**data, "request_key": request_key(page)})
    assert back.headers["Location"] == first.headers["Location"] and _cards() == 2
    # ...and more cards are issued only when asked for: the next two voters.
    more = client.post(url, data={**data, "request_key": request_key(page), "another": "y"})
    assert more.headers["Location"] != first.headers["Location"]
    assert _cards() == 4


def test_only_the_issuing_browser_can_show_the_codes(setup, client, app):
    community, ballot = setup
    factories.login(client, "org")
    url = f"/console/c/{community.slug}/ballots/{ballot.id}/cards"
    data = _form(client, url, count="1")
    sheet_url = client.post(url, data=data).headers["Location"]
    (link,) = _links(client.get(sheet_url).get_data(as_text=True))
    other = app.test_client()
    factories.login(other, "org")
    elsewhere = other.get(sheet_url)
    assert elsewhere.status_code == 303
    assert link.rsplit("/", 1)[1] not in other.get(elsewhere.headers["Location"]).get_data(
        as_text=True
    )
    # Nothing stored holds a token in clear.
    batch = db.session.scalar(db.select(CardBatch))
    assert link.rsplit("/", 1)[1].encode() not in batch.sealed
    assert re.search(r"/batches/\d+$", sheet_url)
    other_ballot = factories.ballot(factories.funding_round(community, name="另一轮"))
    wrong = f"/console/c/{community.slug}/ballots/{other_ballot.id}/cards/batches/{batch.id}"
    assert client.get(wrong).status_code == 404


def test_the_same_key_twice_at_once_issues_one_batch(setup, app):
    _community, ballot = setup
    ballot_id = ballot.id
    answers = []
    barrier = threading.Barrier(2)

    def issue():
        with app.app_context():
            barrier.wait()
            batch, created = issue_card_batch(
                ballot_id,
                "k" * 32,
                building=None,
                count=None,
                base_url="http://localhost",
                seal=lambda value, purpose: b"sealed",
            )
            answers.append((batch.id, created))
            db.session.remove()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created for _, created in answers) == [False, True]
    assert len({batch_id for batch_id, _ in answers}) == 1
    assert _cards() == 6
