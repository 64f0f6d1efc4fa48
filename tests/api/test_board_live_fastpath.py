"""The board's live polls are replayed without Flask while the snapshot holds, and never stale."""

import pytest

from civicvote.board import services as board
from civicvote.board.fastpath import LiveFastPath
from civicvote.voting.casting import cast_vote
from tests import factories


@pytest.fixture
def long_cache(monkeypatch):
    monkeypatch.setattr(board, "CACHE_SECONDS", 60)
    board._cache.clear()
    yield
    board._cache.clear()


def test_replayed_answers_equal_flask_answers_until_the_data_changes(app, client, long_cache):
    layer = app.wsgi_app
    while not isinstance(layer, LiveFastPath):  # under the vote API's fast path
        layer = layer.wsgi_app
    ballot = factories.ballot(results_visible_live=True, live_batch_size=2)
    path = f"/c/{ballot.round.community.slug}/board/live"
    first = client.get(path)
    assert first.status_code == 200
    replayed = client.get(path)
    assert replayed.data == first.data
    assert dict(replayed.headers) == dict(first.headers)
    etag = first.headers["ETag"]
    not_modified = client.get(path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert (
        not_modified.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    )
    english = client.get(path, headers={"Accept-Language": "en"})
    assert english.headers["ETag"] != etag

    for _ in range(2):  # a batch: the next update is announced, the figures lag one batch
        _, token, _ = factories.credential(ballot)
        cast_vote(ballot.id, token, {"selections": [ballot.items[0].proposal_id]})
    board._cache.clear()  # the snapshot expires (as it does after 0.5 s)
    fresh = client.get(path, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.get_json()["stats"]["cast"] == 0
    assert fresh.headers["ETag"] != etag


def test_other_paths_and_unknown_boards_go_to_flask(client, long_cache):
    assert client.get("/c/nowhere/board/live").status_code == 404
    assert client.get("/c/nowhere/board/live").status_code == 404
    assert client.post("/c/nowhere/board/live").status_code in (404, 405)
