"""Issue 14, finding 4: watching the board and the API while ballots come in one at a time.

An observer reads the public board's live answer and the API's ballot after every single ballot.
Every change they see must be attributable only to a set of at least k ballots: turnout and
counts move from the tally of the first q ballots to that of the first q' >= q + k, and the final
result differs from the last live figures by at least k ballots too. On the code before the
batches, turnout and counts moved with every ballot, and this test fails there.
"""

import random
import re

import pytest

from civicvote.ballots.lifecycle import change_status
from civicvote.ballots.live import LiveSnapshot, next_batches
from civicvote.board import services as board
from civicvote.extensions import db
from civicvote.voting.casting import cast_vote
from tests import factories

K = 4
VOTERS = 5 * K + 2


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    monkeypatch.setattr(board, "CACHE_SECONDS", 0)
    board._cache.clear()


def _observe(client, ballot) -> dict:
    """Everything public about the ballot: the API's answer and the board's live panels."""
    api = client.get(f"/api/v1/ballots/{ballot.id}").get_json()
    live = client.get(f"/c/{ballot.round.community.slug}/board/live").get_json()
    return {
        "cast": api["turnout"]["cast"],
        "percent": api["turnout"]["percent"],
        "votes": {row["proposal_id"]: row["votes"] for row in api["results"] or ()},
        "board_cast": live["stats"]["cast"],
        # The panels as shown, without the next-update line (checked on its own below).
        "board": re.sub(r'<p class="caption live-batch">.*?</p>', "", live["html"], flags=re.S),
        "next": re.findall(r"\d+", re.search(r"live-batch\">\s*<strong>(.*?)<", live["html"])[1])
        if "live-batch" in live["html"]
        else None,
    }


def _prefix_tally(ballots: list[list[int]], q: int, proposals: list[int]) -> dict:
    return {pid: sum(pid in chosen for chosen in ballots[:q]) for pid in proposals}


def test_no_published_change_is_attributable_to_fewer_than_k_ballots(client):
    ballot = factories.ballot(results_visible_live=True, live_batch_size=K, proposals=3)
    proposals = [item.proposal_id for item in ballot.items]
    rng = random.Random(14)
    cast: list[list[int]] = []
    seen = [_observe(client, ballot)]
    for _ in range(VOTERS):
        chosen = rng.sample(proposals, rng.randint(1, 3))
        _, token, _ = factories.credential(ballot)
        cast_vote(ballot.id, token, {"selections": chosen})
        cast.append(chosen)
        seen.append(_observe(client, ballot))

    published = [0]
    for before, after in zip(seen, seen[1:], strict=False):
        assert after["cast"] == after["board_cast"]
        # The figures shown are always those of the first q ballots, for some q.
        assert after["votes"] == _prefix_tally(cast, after["cast"], proposals)
        if after["cast"] != before["cast"]:
            assert after["cast"] - before["cast"] >= K, "turnout moved by fewer than k ballots"
            published.append(after["cast"])
        else:  # no batch: not one figure, word or bar of the panels moved
            assert (after["votes"], after["percent"], after["board"]) == (
                before["votes"],
                before["percent"],
                before["board"],
            )
        if after["next"] != before["next"]:  # announced when a batch is taken, k apart too
            assert len(cast) >= K
    assert len(published) >= 3, "the figures should have moved a few times"
    assert VOTERS - published[-1] >= K  # the final result adds at least k unseen ballots

    change_status(ballot.id, "close", actor=None)
    final = _observe(client, ballot)
    assert final["cast"] == VOTERS and final["next"] is None
    assert final["votes"] == _prefix_tally(cast, VOTERS, proposals)
    assert db.session.get(LiveSnapshot, ballot.id) is None  # the pending batch is gone


def test_batches_step_by_at_least_k_and_lag_one():
    empty = {"cast": 0}
    state = (empty, empty)
    shown = []
    for count in (1, 3, 4, 5, 7, 8, 9, 12, 13, 20):  # counts as readers happen to see them
        state = next_batches(*state, {"cast": count}, 4)
        shown.append(state[0]["cast"])
    assert shown == [0, 0, 0, 0, 0, 4, 4, 8, 8, 12]


def test_the_board_says_when_the_next_update_comes(client):
    ballot = factories.ballot(results_visible_live=True, live_batch_size=K)
    slug = ballot.round.community.slug
    assert "再有 4 票后更新" in client.get(f"/c/{slug}/board").get_data(as_text=True)
    for _ in range(K):
        _, token, _ = factories.credential(ballot)
        cast_vote(ballot.id, token, {"selections": [ballot.items[0].proposal_id]})
    english = client.get(f"/c/{slug}/board/live", headers={"Accept-Language": "en"})
    assert "Next update after 8 more ballots" in english.get_json()["html"]
    assert english.get_json()["stats"]["cast"] == 0
