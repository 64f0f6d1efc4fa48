"""Residents' voting pages, the ballot console and the ``ballots`` CLI, through HTTP."""

import logging
import re
from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from civicvote.audit.models import AuditEvent
from civicvote.ballots.models import Ballot, Participation
from civicvote.extensions import db
from civicvote.timeutil import utcnow
from tests import factories


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def ids(ballot):
    return [item.proposal_id for item in ballot.items]


def hidden_fields(page: str) -> MultiDict:
    return MultiDict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def land(client, token):
    return client.get(f"/v/{token}")


def test_personal_link_is_exchanged_for_a_session_without_the_token(client):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    response = land(client, token)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/ballots/{ballot.id}/vote?opened=1")
    assert token not in response.headers["Location"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = client.get(f"/ballots/{ballot.id}/vote")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert 'name="selection"' in page.get_data(as_text=True)


def test_full_vote_without_javascript(app, client):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot, "h9")
    land(client, token)
    page = client.get(f"/ballots/{ballot.id}/vote").get_data(as_text=True)
    csrf = factories.csrf_token(page)
    review = client.post(
        f"/ballots/{ballot.id}/review",
        data={"csrf_token": csrf, "selection": [str(ids(ballot)[0]), str(ids(ballot)[2])]},
    )
    # Post, redirect, get: Back from the receipt comes to a page, not to a form to send again.
    assert review.status_code == 303
    review = client.get(review.headers["Location"])
    assert review.status_code == 200
    assert count(Participation) == 0  # reviewing stores nothing
    fields = hidden_fields(review.get_data(as_text=True))
    names = [name for name, _value in fields.items(multi=True)]
    # The vote's key belongs to the card (kept in the session), not to the review page.
    assert names.count("selection") == 2 and "card" in names and "idempotency_key" not in names
    cookie_before = client.get_cookie("session").value
    cast = client.post(f"/ballots/{ballot.id}/cast", data=fields)
    assert cast.status_code == 303
    done = client.get(cast.headers["Location"])
    receipt = re.search(r'id="receipt-code">([A-Z0-9-]+)<', done.get_data(as_text=True)).group(1)
    [(contents, stored_receipt)] = factories.stored_votes()
    assert receipt.replace("-", "") == stored_receipt
    assert contents == {"selections": sorted([ids(ballot)[0], ids(ballot)[2]])}
    # A double tap of "confirm" (same form, same key, sent with the same cookie before the first
    # answer came back) is the same vote, not a second one, and shows the same receipt.
    retry = app.test_client()
    retry.set_cookie("session", cookie_before, domain="localhost")
    again = retry.post(f"/ballots/{ballot.id}/cast", data=fields)
    assert again.status_code == 303
    retry_done = retry.get(again.headers["Location"]).get_data(as_text=True)
    assert receipt in retry_done
    assert factories.stored_count() == 1
    # Coming back shows the vote as recorded; the session no longer holds the card's secret.
    page = client.get(f"/ballots/{ballot.id}/vote").get_data(as_text=True)
    assert 'name="selection"' not in page and receipt in page
    assert token not in str(client.get_cookie("session").value)
    lookup = client.get(f"/receipts?code={receipt}")
    assert lookup.status_code == 200 and "flash-success" in lookup.get_data(as_text=True)
    assert client.get("/receipts?code=AAAA-BBBB-CCCC").status_code == 404


def test_knapsack_over_budget_is_refused_with_the_message(client):
    ballot = factories.ballot(method="knapsack", budget_fen=2_500_000)
    _, token, _ = factories.credential(ballot)
    land(client, token)
    csrf = factories.csrf_token(client.get(f"/ballots/{ballot.id}/vote").get_data(as_text=True))
    response = client.post(
        f"/ballots/{ballot.id}/review",
        data={"csrf_token": csrf, "selection": [str(i) for i in ids(ballot)]},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "more than the budget of ¥25,000.00" in page
    assert page.count("checked") == 3  # the choices are kept for correction


def test_cumulative_and_yes_no_forms(client):
    cumulative = factories.ballot(method="cumulative", points_total=5)
    _, token, _ = factories.credential(cumulative)
    land(client, token)
    csrf = factories.csrf_token(client.get(f"/ballots/{cumulative.id}/vote").get_data(as_text=True))
    a, b, _c = ids(cumulative)
    data = {"csrf_token": csrf, f"points-{a}": "3", f"points-{b}": "2"}
    review = client.post(f"/ballots/{cumulative.id}/review", data=data, follow_redirects=True)
    assert review.status_code == 200
    cast = client.post(
        f"/ballots/{cumulative.id}/cast", data=hidden_fields(review.get_data(as_text=True))
    )
    assert cast.status_code == 303
    too_many = client.post(f"/ballots/{cumulative.id}/review", data={**data, f"points-{a}": "4"})
    assert too_many.status_code in (200, 422)  # already voted: the page says so

    yes_no = factories.ballot(method="yes_no")
    _, token, _ = factories.credential(yes_no)
    land(client, token)
    a, b, _c = ids(yes_no)
    review = client.post(
        f"/ballots/{yes_no.id}/review",
        data={"csrf_token": csrf, f"answer-{a}": "yes", f"answer-{b}": "no"},
        follow_redirects=True,
    )
    assert review.status_code == 200
    assert (
        client.post(
            f"/ballots/{yes_no.id}/cast", data=hidden_fields(review.get_data(as_text=True))
        ).status_code
        == 303
    )
    assert factories.stored_votes(yes_no.id)[0][0] == {str(a): True, str(b): False}


def test_ballot_page_without_a_session_asks_for_the_card(client):
    ballot = factories.ballot()
    response = client.get(f"/ballots/{ballot.id}/vote")
    assert response.status_code == 403
    assert "/vote/code" in response.get_data(as_text=True)
    assert client.get("/ballots/99999/vote").status_code == 404


def test_unknown_link_is_refused_and_the_token_is_not_logged(client, caplog):
    factories.ballot()
    with caplog.at_level(logging.WARNING):
        response = land(client, "x" * 27)
    assert response.status_code == 404
    assert "x" * 27 not in caplog.text


@pytest.mark.parametrize(
    "fields",
    [
        {"revoked_at": utcnow()},
        {"kind": "walk_in", "expires_at": utcnow() - timedelta(minutes=1)},
    ],
)
def test_revoked_or_expired_links_are_refused(client, fields):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot, **fields)
    assert land(client, token).status_code == 403


def test_walk_in_link_works_once(app):
    ballot = factories.ballot()
    _, token, _ = factories.credential(
        ballot, kind="walk_in", expires_at=utcnow() + timedelta(minutes=10)
    )
    first, second = app.test_client(), app.test_client()
    assert land(first, token).status_code == 302
    refused = land(second, token)
    assert refused.status_code == 403
    # The phone that claimed it keeps its session.
    assert first.get(f"/ballots/{ballot.id}/vote").status_code == 200


def test_typed_code_entry_and_its_limits(app, client, caplog):
    app.config["RATELIMIT_CREDENTIAL"] = "3 per minute"
    ballot = factories.ballot()
    _, _, short = factories.credential(ballot)
    page = client.get("/vote/code").get_data(as_text=True)
    csrf = factories.csrf_token(page)
    with caplog.at_level(logging.WARNING):
        wrong = client.post(
            "/vote/code", data={"csrf_token": csrf, "ballot": ballot.id, "code": "ZZZZZZZZZZ"}
        )
    assert wrong.status_code == 403
    assert "voter code refused" in caplog.text and "ZZZZZZZZZZ" not in caplog.text
    right = client.post(
        "/vote/code",
        data={"csrf_token": csrf, "ballot": ballot.id, "code": f"{short[:5]}-{short[5:]}".lower()},
    )
    assert right.status_code == 302
    assert client.get(f"/ballots/{ballot.id}/vote").status_code == 200
    wrong_again = [
        client.post(
            "/vote/code", data={"csrf_token": csrf, "ballot": ballot.id, "code": "ZZZZZZZZZZ"}
        ).status_code
        for _ in range(3)
    ]
    # The same wrong code is limited; a valid code is looked up first and always taken.
    assert wrong_again == [403, 403, 429]
    again = client.post("/vote/code", data={"csrf_token": csrf, "ballot": ballot.id, "code": short})
    assert again.status_code == 302


def test_assembly_ballot_page_asks_for_check_in_first(client):
    ballot = factories.ballot(mode="assembly")
    _, token, _ = factories.credential(ballot, "h77")
    land(client, token)
    page = client.get(f"/ballots/{ballot.id}/vote", headers={"Accept-Language": "en"})
    assert "please check in at the desk first" in page.get_data(as_text=True)
    assert 'name="selection"' not in page.get_data(as_text=True)
    factories.check_in(ballot, "h77")
    page = client.get(f"/ballots/{ballot.id}/vote").get_data(as_text=True)
    assert 'name="selection"' in page


def test_closed_ballot_page_says_so(client):
    ballot = factories.ballot(status="closed")
    _, token, _ = factories.credential(ballot)
    land(client, token)
    page = client.get(f"/ballots/{ballot.id}/vote", headers={"Accept-Language": "en"})
    assert "Voting has closed" in page.get_data(as_text=True)


# --------------------------------------------------------------------------- console


def _organizer_setup():
    community = factories.community()
    organizer = factories.user("organizer1", roles=[(community, "organizer")])
    funding_round = factories.funding_round(community)
    proposals = [factories.proposal(funding_round, cost_fen=c) for c in (1_000_000, 2_000_000)]
    return community, organizer, funding_round, proposals


def _ballot_form(proposals, **overrides):
    data = {
        "title": "2026年度投票",
        "method": "approval",
        "mode": "mixed",
        "min_choices": "1",
        "max_choices": "2",
        "budget_yuan": "",
        "points_total": "",
        "online_opens_at": "",
        "online_closes_at": "",
        "quorum_kind": "households_percent",
        "quorum_value": "50",
        "pass_threshold_percent": "50",
        "proposals": [str(p.id) for p in proposals],
    }
    data.update(overrides)
    return data


def test_organizer_creates_opens_and_closes_a_ballot(client):
    community, _organizer, funding_round, proposals = _organizer_setup()
    factories.login(client, "organizer1")
    url = f"/console/c/{community.slug}/rounds/{funding_round.id}/ballots/new"
    csrf = factories.csrf_token(client.get(url).get_data(as_text=True))
    bad = client.post(url, data={**_ballot_form(proposals, max_choices="0"), "csrf_token": csrf})
    assert bad.status_code == 422
    created = client.post(
        url,
        data={**_ballot_form(proposals, online_closes_at="2026-12-01T20:00"), "csrf_token": csrf},
    )
    assert created.status_code == 302
    ballot = db.session.scalar(db.select(Ballot))
    assert ballot.status == "draft" and ids(ballot) == [p.id for p in proposals]
    assert ballot.online_closes_at.hour == 12  # 20:00 in Shanghai is 12:00 UTC
    show = f"/console/c/{community.slug}/ballots/{ballot.id}"
    assert client.get(show).status_code == 200
    status_url = f"{show}/status"
    assert client.post(status_url, data={"csrf_token": csrf, "action": "open"}).status_code == 302
    db.session.refresh(ballot)
    assert ballot.status == "open"
    # Locked: changing the limits is refused with a message, nothing changes.
    edit = client.post(
        f"{show}/edit",
        data={**_ballot_form(proposals, max_choices="1"), "csrf_token": csrf},
        headers={"Accept-Language": "en"},
    )
    assert edit.status_code == 409
    assert "locked" in edit.get_data(as_text=True)
    db.session.refresh(ballot)
    assert ballot.max_choices == 2
    # The title may still change.
    renamed = client.post(
        f"{show}/edit",
        data={
            **_ballot_form(proposals, title="新标题", online_closes_at="2026-12-01T20:00"),
            "csrf_token": csrf,
        },
    )
    assert renamed.status_code == 302
    assert client.post(status_url, data={"csrf_token": csrf, "action": "close"}).status_code == 302
    reopened = client.post(status_url, data={"csrf_token": csrf, "action": "open"})
    assert reopened.status_code == 302
    db.session.refresh(ballot)
    assert ballot.status == "closed"
    actions = list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["ballot.create", "ballot.open", "ballot.update", "ballot.close"]


def test_console_is_scoped_to_the_community(client):
    community, _organizer, funding_round, proposals = _organizer_setup()
    other = factories.community()
    factories.user("outsider", roles=[(other, "organizer")])
    ballot = factories.ballot(funding_round)
    factories.login(client, "outsider")
    assert client.get(f"/console/c/{community.slug}/ballots/{ballot.id}").status_code == 403
    assert client.get(f"/console/c/{other.slug}/ballots/{ballot.id}").status_code == 404
    assert client.get(f"/console/c/{community.slug}/ballots").status_code == 403


def test_cli_opens_pauses_and_closes(runner):
    ballot = factories.ballot(status="draft")
    assert "open" in runner.invoke(args=["ballots", "open", str(ballot.id)]).output
    assert runner.invoke(args=["ballots", "pause", str(ballot.id)]).exit_code == 0
    assert runner.invoke(args=["ballots", "close", str(ballot.id)]).exit_code == 0
    refused = runner.invoke(args=["ballots", "open", str(ballot.id)])
    assert refused.exit_code != 0
    assert runner.invoke(args=["ballots", "close", "999999"]).exit_code != 0
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).status == "closed"


def test_second_card_of_a_household_that_voted_is_told_so(app, client):
    ballot = factories.ballot()
    _, first, _ = factories.credential(ballot, "h88")
    _, second, _ = factories.credential(ballot, "h88")
    from civicvote.voting import casting

    casting.cast_vote(ballot.id, first, {"selections": ids(ballot)[:1]})
    land(client, second)
    page = client.get(f"/ballots/{ballot.id}/vote").get_data(as_text=True)
    assert 'name="selection"' not in page and "flash-success" in page
    csrf = factories.csrf_token(client.get("/vote/code").get_data(as_text=True))
    # Told kindly, not as an error (issue 18): the household's vote is counted.
    response = client.post(
        f"/ballots/{ballot.id}/cast",
        data={"csrf_token": csrf, "selection": str(ids(ballot)[1])},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "already been counted" in response.get_data(as_text=True)
    assert factories.stored_count() == 1


# --- browsers that keep no cookies (issue 18) ---------------------------------------------------


def test_card_link_in_a_browser_without_cookies_says_what_to_do(app):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    cookieless = app.test_client(use_cookies=False)
    landed = cookieless.get(f"/v/{token}")
    assert landed.status_code == 302
    page = cookieless.get(landed.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "浏览器打开" in text and "/vote/code" in text
    assert "表单已过期" not in text


def test_code_form_in_a_browser_without_cookies_says_what_to_do(app):
    ballot = factories.ballot()
    cookieless = app.test_client(use_cookies=False)
    page = cookieless.get("/vote/code").get_data(as_text=True)
    answer = cookieless.post(
        "/vote/code",
        data={"csrf_token": factories.csrf_token(page), "ballot": ballot.id, "code": "ABCDE12345"},
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "浏览器打开" in text and "表单已过期" not in text


def test_a_browser_with_cookies_never_sees_that_page(client):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    page = client.get(client.get(f"/v/{token}").headers["Location"])
    assert page.status_code == 200
    assert "浏览器打开" not in page.get_data(as_text=True)
