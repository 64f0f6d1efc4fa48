"""Results in Chromium: the organizer publishes the allocation, a resident objects from a phone,
the organizer answers in public."""

import pytest

from tests.browser.conftest import demo_vote_server, publish_provisional, screenshot
from tests.servers import civicvote, vote_by_api


@pytest.fixture(scope="module")
def closed_vote_server(tmp_path_factory):
    server = demo_vote_server(tmp_path_factory, "results-instance")
    for n, card in enumerate(server.cards[:12]):
        choice = server.proposals[n % 3 : n % 3 + 2]
        vote_by_api(server.url, server.ballot_id, card["token"], choice, f"r{n}")
    civicvote(["ballots", "close", str(server.ballot_id)], server.env)
    server.short_code = server.cards[20]["short_code"]
    yield server
    server.stop()


def test_publish_object_and_answer(closed_vote_server, chromium, phone):
    server = closed_vote_server
    desk = publish_provisional(chromium, server)
    screenshot(desk, "results-console")

    phone.goto(f"{server.url}/c/xingfuli")
    phone.get_by_role("link", name="结果与异议").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "投票结果"
    assert "获得资助" in phone.locator("table.results").inner_text()
    screenshot(phone, "results-public-phone")
    phone.get_by_label("您的异议").fill("希望说明充电棚为什么没有入选。")
    phone.get_by_label("您的投票卡代码（或在下面留下联系方式）").fill(server.short_code)
    phone.get_by_role("button", name="提交异议").click()
    assert "您的异议已登记" in phone.get_by_role("status").inner_text()
    assert "等待答复" in phone.locator("main").inner_text()

    desk.reload()
    desk.get_by_label("公开答复").fill("充电棚费用超出剩余资金，详见上表说明。")
    desk.get_by_role("button", name="发布答复").click()
    assert desk.get_by_role("status").inner_text() == "答复已发布。"
    desk.context.close()

    phone.reload()
    assert "充电棚费用超出剩余资金" in phone.locator("main").inner_text()
    screenshot(phone, "results-objection-answered")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
