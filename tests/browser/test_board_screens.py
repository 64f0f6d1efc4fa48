"""The public board on a TV (1920×1080) and a portrait screen (1080×1920), in both locales,
before, during and after a vote; live without reload; text at least 28 px."""

import csv
import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.servers import Server, civicvote, demo_ballot_id, server_env

SCREENS = {
    "landscape": {"width": 1920, "height": 1080},
    "portrait": {"width": 1080, "height": 1920},
}


@pytest.fixture(scope="module")
def vote_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("board-instance")
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    server = Server(env, log_path=instance / "server.log")
    server.env = env
    with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
        server.tokens = [row["token"] for row in csv.DictReader(handle)]
    server.ballot_id = demo_ballot_id(env)
    yield server
    server.stop()


def _proposals(server) -> list[int]:
    """The ballot's proposals, from the open data API (which lists a ballot once it opens)."""
    with urllib.request.urlopen(f"{server.url}/api/v1/ballots/{server.ballot_id}") as response:
        return [p["id"] for p in json.load(response)["proposals"]]


def _vote(server, n: int) -> None:
    token = server.tokens[n]
    proposals = _proposals(server)
    choice = [proposals[0]] if n % 3 else proposals[:2]
    body = json.dumps(
        {"credential": token, "selections": choice, "idempotency_key": f"board-{n}"}
    ).encode()
    request = urllib.request.Request(
        f"{server.url}/api/v1/ballots/{server.ballot_id}/votes",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201


def _shoot(chromium, server, stage: str) -> None:
    for locale in ("zh-CN", "en"):
        for layout, viewport in SCREENS.items():
            context = chromium.new_context(
                viewport=viewport, locale=locale, extra_http_headers={"Accept-Language": locale}
            )
            page = context.new_page()
            page.goto(f"{server.url}/c/xingfuli/board?layout={layout}")
            tag = "zh" if locale == "zh-CN" else "en"
            screenshot(page, f"board-{stage}-{layout}-{tag}")
            small = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(el => el.offsetParent !== null && [...el.childNodes].some(
                    n => n.nodeType === 3 && n.textContent.trim()))
                .map(el => [el.textContent.trim().slice(0, 30),
                            parseFloat(getComputedStyle(el).fontSize)])
                .filter(([, size]) => size < 28)""")
            assert small == [], f"text under 28px on the {layout} board ({tag}): {small}"
            context.close()


def test_board_before_during_and_after_a_vote(vote_server, chromium):
    _shoot(chromium, vote_server, "before")

    civicvote(["ballots", "open", str(vote_server.ballot_id)], vote_server.env)
    context = chromium.new_context(viewport=SCREENS["landscape"], locale="zh-CN")
    live = context.new_page()
    live.goto(f"{vote_server.url}/c/xingfuli/board")
    turnout = live.locator(".turnout")
    assert "已投票：0" in turnout.inner_text()
    for n in range(20):  # each vote reads the ballot from the API first: batches at 10 and 20
        _vote(vote_server, n)
    _proposals(vote_server)
    # The open page follows without a reload, a batch of 10 ballots behind (ballots/live.py).
    expect(turnout).to_contain_text("已投票：10", timeout=10_000)
    expect(live.locator(".live-batch").first).to_contain_text("再有 20 票后更新")  # at 30
    assert live.locator(".bar-row").count() == len(_proposals(vote_server))
    _shoot(chromium, vote_server, "during")

    civicvote(["ballots", "close", str(vote_server.ballot_id)], vote_server.env)
    expect(live.locator(".badge-line")).to_contain_text("已结束", timeout=10_000)
    context.close()
    _shoot(chromium, vote_server, "after")


def test_board_shows_offline_marker_when_the_server_stops(chromium, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    server = Server(env)
    context = chromium.new_context(viewport=SCREENS["landscape"], locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/c/xingfuli/board")
        expect(page.locator("#board-updated")).to_contain_text("更新于")
    finally:
        server.stop()
    expect(page.locator("body")).to_have_class(re.compile("offline"), timeout=15_000)
    assert "正在重新连接" in page.locator("#board-updated").inner_text()
    screenshot(page, "board-offline")
    # A new server on the same port and database: the board recovers by itself.
    restarted = Server(env, port=server.port)
    try:
        expect(page.locator("body")).not_to_have_class(re.compile("offline"), timeout=15_000)
    finally:
        restarted.stop()
        context.close()
