"""A ballot's live results: off by default when people vote online, the batch size k (2-1000)
chosen on the ballot form and locked once the ballot opens."""

import pytest

from civicvote.ballots import lifecycle, setup
from civicvote.ballots.models import Ballot
from civicvote.errors import Conflict
from civicvote.extensions import db
from tests import factories
from tests.ballots.test_views import _ballot_form, _organizer_setup


def _create(client, **overrides):
    community, _organizer, funding_round, proposals = _organizer_setup()
    factories.login(client, "organizer1")
    url = f"/console/c/{community.slug}/rounds/{funding_round.id}/ballots/new"
    csrf = factories.csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={**_ballot_form(proposals, **overrides), "csrf_token": csrf},
        headers={"Accept-Language": "en"},
    )
    return response, db.session.scalar(db.select(Ballot))


@pytest.mark.parametrize(
    ("mode", "choice", "live"),
    [
        ("online", "default", False),
        ("mixed", "default", False),
        ("assembly", "default", True),
        ("online", "on", True),
        ("assembly", "off", False),
    ],
)
def test_live_results_default_by_how_people_vote(client, mode, choice, live):
    response, ballot = _create(client, mode=mode, live_results=choice, live_batch_size="25")
    assert response.status_code == 302
    assert ballot.results_visible_live is live and ballot.live_batch_size == 25


@pytest.mark.parametrize("size", ["1", "1001", "", "ten"])
def test_the_batch_size_is_2_to_1000(client, size):
    response, ballot = _create(client, live_batch_size=size)
    assert response.status_code == 422 and ballot is None
    assert "Live results change only after" in response.get_data(as_text=True)


def test_the_batch_size_is_locked_once_open(app):
    community = factories.community()
    organizer = factories.user(roles=[(community, "organizer")])
    funding_round = factories.funding_round(community)
    proposals = [factories.proposal(funding_round) for _ in range(2)]
    values = {
        "title": "投票",
        "method": "approval",
        "mode": "online",
        "min_choices": 1,
        "quorum_kind": "minimum",
        "quorum_value": 10,
        "pass_threshold_percent": 50,
    }
    ballot = setup.create_ballot(funding_round, values, [p.id for p in proposals], actor=None)
    assert ballot.results_visible_live is False and ballot.live_batch_size == 10
    lifecycle.change_status(ballot.id, "open", actor=organizer)
    with pytest.raises(Conflict):  # a smaller batch mid-vote could single out a ballot
        setup.update_ballot(
            ballot, {**values, "live_batch_size": 2}, [p.id for p in proposals], actor=organizer
        )
