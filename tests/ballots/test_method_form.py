"""The new-ballot form asks only what the chosen method uses, with or without JavaScript.

Step 1 chooses the method (a GET form); step 2 is the form of that method. Settings of other
methods are not shown, and when posted anyway they are neither checked nor stored.
"""

import re

import pytest

from civicvote.ballots.forms import ALL_METHOD_FIELDS, METHOD_FIELDS
from civicvote.ballots.models import Ballot
from civicvote.ballots.rules import validate_contents
from civicvote.errors import DomainError
from civicvote.extensions import db
from tests import factories

FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')


def _setup(client):
    community = factories.community()
    factories.user("organizer1", roles=[(community, "organizer")])
    funding_round = factories.funding_round(community)
    proposals = [factories.proposal(funding_round, cost_fen=c) for c in (1_000_000, 2_000_000)]
    factories.login(client, "organizer1")
    url = f"/console/c/{community.slug}/rounds/{funding_round.id}/ballots/new"
    return community, url, proposals


def _form(proposals, method, **fields) -> dict:
    data = {
        "title": "2026年度投票",
        "method": method,
        "mode": "online",
        "quorum_kind": "minimum",
        "quorum_value": "10",
        "pass_threshold_percent": "50",
        "live_batch_size": "10",
        "proposals": [str(p.id) for p in proposals],
    }
    data.update(fields)
    return data


def test_the_method_comes_first_and_its_form_has_only_its_fields(client):
    _community, url, _proposals = _setup(client)
    step1 = client.get(url).get_data(as_text=True)
    assert set(FIELD.findall(step1)) == {"method", "csrf_token"}  # the method alone
    assert step1.count('type="radio" name="method"') == 4
    for method, used in METHOD_FIELDS.items():
        page = client.get(url, query_string={"method": method}).get_data(as_text=True)
        names = set(FIELD.findall(page))
        assert names & set(ALL_METHOD_FIELDS) == set(used), method
        assert re.search(rf'<input[^>]*name="method"[^>]*value="{method}"', page), method


@pytest.mark.parametrize(
    "method, fields, stored",
    [
        # Settings of other methods, garbage or not, are ignored; the method's own are kept.
        (
            "yes_no",
            {"min_choices": "2", "max_choices": "x", "budget_yuan": "abc", "points_total": "-4"},
            {"min_choices": 2, "max_choices": None, "budget_fen": None, "points_total": None},
        ),
        (
            "cumulative",
            {"points_total": "7", "min_choices": "x", "budget_yuan": "1.5万"},
            {"min_choices": 0, "max_choices": None, "budget_fen": None, "points_total": 7},
        ),
        (
            "knapsack",
            {"budget_yuan": "２.５万", "points_total": "9", "max_choices": "2"},
            {"min_choices": 1, "max_choices": 2, "budget_fen": 2_500_000, "points_total": None},
        ),
        (
            "approval",
            {"min_choices": "1", "budget_yuan": "10万", "points_total": "x"},
            {"min_choices": 1, "max_choices": None, "budget_fen": None, "points_total": None},
        ),
    ],
)
def test_the_server_keeps_only_the_methods_settings(client, method, fields, stored):
    _community, url, proposals = _setup(client)
    csrf = factories.csrf_token(client.get(url, query_string={"method": method}).get_data(True))
    created = client.post(url, data={**_form(proposals, method, **fields), "csrf_token": csrf})
    assert created.status_code == 302, created.get_data(as_text=True)
    ballot = db.session.scalar(db.select(Ballot))
    assert ballot.method == method
    assert {name: getattr(ballot, name) for name in stored} == stored


def test_errors_are_only_for_the_methods_own_fields(client):
    _community, url, proposals = _setup(client)
    csrf = factories.csrf_token(client.get(url, query_string={"method": "knapsack"}).get_data(True))
    data = {**_form(proposals, "knapsack", budget_yuan="一万二", points_total="x")}
    refused = client.post(url, data={**data, "csrf_token": csrf}, headers={"Accept-Language": "en"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "10万" in page  # the amount's message, with its example
    assert 'name="points_total"' not in page and 'id="points_total-error"' not in page
    garbage = client.post(url, data={**_form(proposals, "ranked"), "csrf_token": csrf})
    assert garbage.status_code == 422
    assert db.session.scalar(db.select(db.func.count()).select_from(Ballot)) == 0


def test_editing_shows_the_ballots_method_and_can_change_it(client):
    community, url, proposals = _setup(client)
    csrf = factories.csrf_token(
        client.get(url, query_string={"method": "cumulative"}).get_data(True)
    )
    client.post(url, data={**_form(proposals, "cumulative", points_total="5"), "csrf_token": csrf})
    ballot = db.session.scalar(db.select(Ballot))
    edit = f"/console/c/{community.slug}/ballots/{ballot.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'name="points_total"' in page and 'value="5"' in page
    assert 'name="budget_yuan"' not in page
    assert set(FIELD.findall(client.get(f"{edit}?choose=1").get_data(True))) == {
        "method",
        "csrf_token",
    }
    page = client.get(edit, query_string={"method": "knapsack"}).get_data(as_text=True)
    assert 'name="budget_yuan"' in page and 'name="points_total"' not in page
    saved = client.post(
        edit, data={**_form(proposals, "knapsack", budget_yuan="3万"), "csrf_token": csrf}
    )
    assert saved.status_code == 302
    db.session.refresh(ballot)
    assert (ballot.method, ballot.budget_fen, ballot.points_total) == ("knapsack", 3_000_000, None)


def test_a_yes_no_ballot_without_an_answer_asks_for_one_answer(app):
    ballot = factories.ballot(method="yes_no", proposals=2)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        with pytest.raises(DomainError) as refused:
            validate_contents(ballot, {"answers": {}})
        message = str(refused.value.message)
        assert "表态" in message and "选择一个项目" not in message
    ballot.min_choices = 2
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        with pytest.raises(DomainError) as refused:
            validate_contents(ballot, {"answers": {str(ballot.items[0].proposal_id): True}})
        assert "请至少对 2 个项目表态" in str(refused.value.message)
