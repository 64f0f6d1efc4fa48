"""The public board: what it shows, when results are visible, live polling, the presenter."""

import re

import pytest

from civicvote.accounts.models import CLERK, ORGANIZER
from civicvote.ballots.lifecycle import change_status
from civicvote.board import services as board
from civicvote.checkin.services import check_in
from civicvote.extensions import db
from civicvote.voting.casting import cast_vote
from tests import factories
from tests.qr import decode


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    # Each request must see the database as it is now; the cache is tested on its own.
    monkeypatch.setattr(board, "CACHE_SECONDS", 0)
    board._cache.clear()


def _voting_community(results_live=True, residents=4, batch=10):
    ballot = factories.ballot(
        results_visible_live=results_live,
        mode="mixed",
        pass_threshold_percent=50,
        live_batch_size=batch,
    )
    place = ballot.round.community
    households = factories.registry(place, buildings=1, rooms=residents, per_room=1)
    cards = [factories.credential(ballot, f"h{h.id}") for h in households]
    return place, ballot, cards


def _vote(ballot, token, proposal_ids):
    cast_vote(ballot.id, token, {"selections": proposal_ids})


def test_snapshot_counts_votes_and_marks_passing(app):
    place, ballot, cards = _voting_community()
    first, second, third = (item.proposal_id for item in ballot.items)
    _vote(ballot, cards[0][1], [first, second])
    _vote(ballot, cards[1][1], [first])
    _vote(ballot, cards[2][1], [first])
    change_status(ballot.id, "close", actor=None)  # while open, figures move in batches
    data = board.snapshot(place)
    assert data["turnout"] == {"cast": 3, "eligible": 4, "percent": 75.0}
    by_id = {row["proposal_id"]: row for row in data["results"]}
    assert [row["proposal_id"] for row in data["results"]] == [first, second, third]
    assert by_id[first]["votes"] == 3 and by_id[first]["passes"]
    assert by_id[second]["votes"] == 1 and not by_id[second]["passes"]  # 1/3 is not > 50%
    assert by_id[third]["votes"] == 0


def test_hidden_results_stay_hidden_until_close(app):
    place, ballot, cards = _voting_community(results_live=False)
    _vote(ballot, cards[0][1], [ballot.items[0].proposal_id])
    data = board.snapshot(place)
    assert data["results"] is None and data["turnout"]["cast"] == 0  # a batch is 10 ballots
    change_status(ballot.id, "close", actor=None)
    closed = board.snapshot(place)
    assert closed["results"][0]["votes"] == 1 and closed["turnout"]["cast"] == 1


def test_check_in_moves_attendance(app):
    place, ballot, cards = _voting_community()
    assembly = factories.assembly(ballot)
    before = board.snapshot(place)["attendance"]["present"]
    check_in(assembly, cards[0][2])
    db.session.commit()
    after = board.snapshot(place)["attendance"]
    assert after["present"] == before + 1
    assert after["eligible"] == 4


def test_attendance_says_what_it_counts_while_open_and_after(client):
    """While voting is open the figure counts check-ins only (a vote added one by one would be
    singled out); the caption must not claim "or voted" then, and does once the votes join."""
    place, ballot, cards = _voting_community()
    _vote(ballot, cards[0][1], [ballot.items[0].proposal_id])
    english = {"Accept-Language": "en"}
    page = client.get(f"/c/{place.slug}/board", headers=english).get_data(as_text=True)
    assert board.snapshot(place)["attendance"]["present"] == 0
    assert "checked in so far" in page and "checked in or voted" not in page
    change_status(ballot.id, "close", actor=None)
    page = client.get(f"/c/{place.slug}/board", headers=english).get_data(as_text=True)
    assert board.snapshot(place)["attendance"]["present"] == 1
    assert "checked in or voted" in page and "checked in so far" not in page


def test_live_endpoint_answers_304_until_something_changes(client):
    place, ballot, cards = _voting_community(batch=2)
    url = f"/c/{place.slug}/board/live"
    first = client.get(url)
    assert first.status_code == 200 and first.is_json
    etag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    _vote(ballot, cards[0][1], [ballot.items[0].proposal_id])
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304  # one ballot
    _vote(ballot, cards[1][1], [ballot.items[0].proposal_id])
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "bar-row" in changed.json["html"]


def test_board_page_renders_in_both_locales_and_layouts(client):
    place, ballot, cards = _voting_community()
    _vote(ballot, cards[0][1], [ballot.items[0].proposal_id])
    for layout in ("landscape", "portrait"):
        zh = client.get(f"/c/{place.slug}/board?layout={layout}").get_data(as_text=True)
        assert f"board-{layout}" in zh and "出席" in zh
        en = client.get(
            f"/c/{place.slug}/board?layout={layout}", headers={"Accept-Language": "en"}
        ).get_data(as_text=True)
        assert "Attendance" in en
    page = client.get(f"/c/{place.slug}/board").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>: refreshes without JS
    assert '<svg class="bar"' in page
    qr = re.search(r'<svg class="qr".*?</svg>', page, re.S).group(0)
    # The QR leads to the code page of the ballot on the screen (issue 17).
    assert decode(qr) == [f"http://localhost/vote/code/{ballot.id}"]


def test_board_escapes_proposal_titles(client):
    place, ballot, cards = _voting_community()
    ballot.items[0].proposal.title = "<script>alert(1)</script>"
    db.session.commit()
    _vote(ballot, cards[0][1], [ballot.items[0].proposal_id])
    page = client.get(f"/c/{place.slug}/board").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_presenter_chooses_the_panel(client):
    place, _ballot, _cards = _voting_community()
    factories.user("chair", roles=[(place, ORGANIZER)])
    factories.user("desk", roles=[(place, CLERK)])
    url = f"/console/c/{place.slug}/board"
    factories.login(client, "desk")
    assert client.get(url).status_code == 403
    client.post(
        "/logout",
        data={
            "csrf_token": factories.csrf_token(
                client.get(f"/console/c/{place.slug}").get_data(as_text=True)
            )
        },
    )
    factories.login(client, "chair")
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, "panel": "results"}).status_code == 302
    live = client.get(f"/c/{place.slug}/board/live").json
    assert live["panel"] == "results"
    assert "panel-attendance" not in live["html"] and "panel-results" in live["html"]
    assert client.post(url, data={"csrf_token": token, "panel": "bogus"}).status_code == 422
    assert client.post(url, data={"panel": "funded"}).status_code == 400  # no CSRF token


def test_unknown_community_board_is_404(client):
    assert client.get("/c/nowhere/board").status_code == 404
    assert client.get("/c/nowhere/board/live").status_code == 404


def test_cache_reuses_a_value_for_its_lifetime(monkeypatch):
    calls = []
    monkeypatch.setattr(board.time, "monotonic", lambda: 100.0)
    assert board.cached(("k",), lambda: calls.append(1) or "v", seconds=1) == "v"
    assert board.cached(("k",), lambda: calls.append(1) or "w", seconds=1) == "v"
    monkeypatch.setattr(board.time, "monotonic", lambda: 101.5)
    assert board.cached(("k",), lambda: calls.append(1) or "w", seconds=1) == "w"
    assert len(calls) == 2
