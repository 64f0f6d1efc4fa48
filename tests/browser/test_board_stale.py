"""The board on a hall's bad Wi-Fi (issue 18): a hung poll makes it say it is stale."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import screenshot

TV = {"width": 1920, "height": 1080}


def _shown_time(text: str) -> datetime:
    hours, minutes, seconds = map(int, re.search(r"(\d\d):(\d\d):(\d\d)", text).groups())
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    return now.replace(hour=hours, minute=minutes, second=seconds, microsecond=0)


def test_a_hung_poll_dims_the_board_and_shows_a_banner(demo_server, chromium):
    # The TV's clock is in another zone: the board still shows the community's time.
    context = chromium.new_context(viewport=TV, locale="zh-CN", timezone_id="America/New_York")
    page = context.new_page()
    try:
        page.goto(f"{demo_server.url}/c/xingfuli/board")
        updated = page.locator("#board-updated")
        expect(updated).to_contain_text("秒前", timeout=5_000)
        shanghai_now = datetime.now(ZoneInfo("Asia/Shanghai"))
        assert abs(_shown_time(updated.inner_text()) - shanghai_now) < timedelta(seconds=30)
        assert page.locator("#board-stale").is_hidden()

        held = []

        def hang(route):  # never answered: a hung access point
            held.append(route)

        page.route("**/board/live**", hang)
        expect(page.locator("#board-stale")).to_be_visible(timeout=10_000)
        assert held
        expect(page.locator("body")).to_have_class(re.compile("offline"))
        assert "过时" in page.locator("#board-stale").inner_text()
        assert re.search(r"\d+ 秒前", page.locator("#board-stale-age").inner_text())
        opacity = page.evaluate(
            "Number(getComputedStyle(document.getElementById('board-panels')).opacity)"
        )
        assert opacity < 0.5
        screenshot(page, "board-stale")

        page.unroute("**/board/live**", hang)
        expect(page.locator("#board-stale")).to_be_hidden(timeout=15_000)
        expect(page.locator("body")).not_to_have_class(re.compile("offline"))
    finally:
        context.close()
