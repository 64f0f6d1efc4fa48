"""Issue 14, finding 8: no receipt, code or token in any log line, the access log included.

A real ``civicvote serve`` (gunicorn) is driven the way residents use it: a vote through the API
and its retry, a card link opened and a vote through the web form, a short code typed, receipts
looked up on the page and in the API, a forged link and a wrong code. Then its whole output
(access log and error log, one stream) is searched for every token, code and receipt used: none
is there, though the requests are (redacted). Before the redaction covered receipts and query
strings, the API's receipt lookups were written to the access log with the client's address.
"""

import csv
import http.cookiejar
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request

import pytest

from civicvote.registry.credentials import normalize_short_code
from tests.servers import Server, civicvote, demo_ballot_id, server_env

pytestmark = pytest.mark.load


class Browser:
    """A phone's browser: cookies kept, redirects followed, errors returned as answers."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, path: str, data: dict | list | None = None, json_body=None):
        body, headers = None, {}
        if json_body is not None:
            body, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _web_vote(browser: Browser, ballot_id: int, proposal: int) -> str:
    """Vote on the ballot page (the browser holds a card); the receipt shown at the end."""
    status, page = browser.open(f"/ballots/{ballot_id}/vote")
    assert status == 200, page
    _, review = browser.open(
        f"/ballots/{ballot_id}/review", {"csrf_token": _csrf(page), "selection": str(proposal)}
    )
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', review)
    status, done = browser.open(f"/ballots/{ballot_id}/cast", fields)
    assert status == 200, done
    return re.search(r'id="receipt-code">([A-Z0-9-]+)<', done).group(1)


@pytest.fixture
def server(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    ballot_id = demo_ballot_id(env)
    civicvote(["ballots", "open", str(ballot_id)], env)
    log = tmp_path / "server.log"
    running = Server(env, workers=1, threads=4, log_path=log)
    with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
        cards = list(csv.DictReader(handle))
    try:
        yield running, ballot_id, cards, log
    finally:
        running.stop()


def test_no_token_code_or_receipt_reaches_the_logs(server):
    running, ballot_id, cards, log = server
    phone = Browser(running.url)
    _, description = phone.open(f"/api/v1/ballots/{ballot_id}")
    proposal = json.loads(description)["proposals"][0]["id"]
    secrets_used = []

    # The API: a vote and its retry, the receipt looked up.
    vote = {"credential": cards[0]["token"], "selections": [proposal], "idempotency_key": "k1"}
    status, body = phone.open(f"/api/v1/ballots/{ballot_id}/votes", json_body=vote)
    assert status == 201, body
    assert phone.open(f"/api/v1/ballots/{ballot_id}/votes", json_body=vote)[0] == 200
    api_receipt = json.loads(body)["receipt"]
    assert phone.open(f"/api/v1/receipts/{api_receipt}")[0] == 200
    secrets_used += [cards[0]["token"], cards[0]["short_code"], api_receipt]

    # A card's link opened on a phone, a vote through the web form, the receipt page.
    assert phone.open(f"/v/{cards[1]['token']}")[0] == 200
    web_receipt = _web_vote(phone, ballot_id, proposal)
    assert phone.open(f"/receipts?code={web_receipt}")[0] == 200
    secrets_used += [cards[1]["token"], cards[1]["short_code"], web_receipt]

    # A short code typed on another phone, and the vote.
    other = Browser(running.url)
    _, page = other.open("/vote/code")
    status, _ = other.open(
        "/vote/code",
        {"csrf_token": _csrf(page), "ballot": str(ballot_id), "code": cards[2]["short_code"]},
    )
    assert status == 200
    code_receipt = _web_vote(other, ballot_id, proposal)
    secrets_used += [cards[2]["token"], cards[2]["short_code"], code_receipt]

    # Refusals are logged (without what was tried): a forged link, a wrong code, a wrong token.
    forged = secrets.token_urlsafe(20)
    assert other.open(f"/v/{forged}")[0] == 404
    _, page = other.open("/vote/code")
    wrong = "ZZZZ-ZZZZ-ZZ"
    assert other.open(
        "/vote/code", {"csrf_token": _csrf(page), "ballot": str(ballot_id), "code": wrong}
    )[0] in (403, 422)
    bad_vote = {"credential": forged, "selections": [proposal]}
    assert phone.open(f"/api/v1/ballots/{ballot_id}/votes", json_body=bad_vote)[0] == 403
    assert phone.open("/api/v1/receipts/ABCDEFGHJKMN")[0] == 404
    secrets_used += [forged, wrong, "ABCDEFGHJKMN"]

    running.stop()
    text = log.read_text(encoding="utf-8")
    variants = set()
    for value in secrets_used:
        plain = normalize_short_code(value) if len(value) < 20 else value
        variants |= {value, plain, plain.lower()}
    leaked = sorted(v for v in variants if v in text)
    assert leaked == [], f"in the server's logs: {leaked}"
    assert "/v/…" in text and "/api/v1/receipts/…" in text  # the requests are in the log
    assert "unknown voting link" in text  # and so are the refusals
