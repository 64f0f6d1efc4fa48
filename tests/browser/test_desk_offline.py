"""The check-in desk on a hall's bad Wi-Fi (issue 18): dropped, throttled and hung network.

Scans taken while offline or while a request is pending are queued in the browser and all
reach the database once the network returns; the stored time is the time of the scan.
"""

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import DEMO_PASSWORD, log_in, screenshot
from tests.browser.test_checkin_flows import _demo_cards

DESK = "/console/c/xingfuli/assemblies/1"


def _db(server) -> sqlite3.Connection:
    return sqlite3.connect(Path(server.env["CIVICVOTE_INSTANCE_PATH"]) / "civicvote.db")


@pytest.fixture(scope="module")
def desk_server(demo_server):
    # The demo's assembly starts in three days; this one has opened (scan times are believed).
    opened = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat(" ")
    with _db(demo_server) as connection:
        connection.execute("UPDATE assemblies SET starts_at = ? WHERE id = 1", (opened,))
    return demo_server


def _check_ins(server) -> list[str]:
    with _db(server) as connection:
        rows = connection.execute(
            "SELECT checked_in_at FROM check_ins WHERE assembly_id = 1 ORDER BY id"
        ).fetchall()
    return [row[0] for row in rows]


def _scan(page, card: dict, base: str) -> None:
    # A USB scanner types the link and Enter, as fast as it can.
    scan = page.locator("input[name=code]")
    scan.press_sequentially(f"{base}/v/{card['token']}", delay=0)
    scan.press("Enter")


def test_offline_and_back_to_back_scans_all_reach_the_database(desk_server, desktop):
    base = desk_server.url
    cards = _demo_cards(desk_server)[10:17]
    log_in(desktop, base, "clerk", DEMO_PASSWORD)
    desktop.goto(base + DESK)
    before = len(_check_ins(desk_server))
    badge = desktop.locator("#desk-queue")

    # Five cards while the Wi-Fi is down: each taken at once, kept, counted in the badge.
    desktop.context.set_offline(True)
    for card in cards[:5]:
        _scan(desktop, card, base)
        assert desktop.locator("input[name=code]").input_value() == ""
    desktop.wait_for_function("document.getElementById('desk-queue').textContent.includes('5')")
    assert "离线" in badge.inner_text()
    assert desktop.locator(".quorum-panel.is-stale").count() == 1
    assert desktop.locator("#scan-log li.scan-waiting").count() == 5
    screenshot(desktop, "checkin-desk-offline-queue")
    time.sleep(2)  # the scans are older than their arrival
    back_online = datetime.now(UTC).replace(tzinfo=None)
    assert len(_check_ins(desk_server)) == before

    desktop.context.set_offline(False)
    badge.wait_for(state="hidden", timeout=20000)
    times = _check_ins(desk_server)
    assert len(times) == before + 5
    # Stored at the time of the scan, not the time the queue was sent.
    assert all(datetime.fromisoformat(t) < back_online for t in times[before:])
    assert desktop.locator(".quorum-panel.is-stale").count() == 0
    assert desktop.locator("#scan-log li.scan-ok").count() == 5

    # Two cards back to back on a slow link (1.5 s each way): the second is neither appended
    # to the first nor dropped while the first is pending.
    cdp = desktop.context.new_cdp_session(desktop)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 1500, "downloadThroughput": 6250, "uploadThroughput": 6250},
    )
    _scan(desktop, cards[5], base)
    _scan(desktop, cards[6], base)
    assert desktop.locator("input[name=code]").input_value() == ""
    desktop.wait_for_function("document.getElementById('desk-queue').textContent.includes('2')")
    badge.wait_for(state="hidden", timeout=30000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    assert len(_check_ins(desk_server)) == before + 7
    assert desktop.locator("#scan-log li.scan-ok").count() == 7
    screenshot(desktop, "checkin-desk-queue-drained")


def test_a_hung_check_in_times_out_and_is_sent_again(desk_server, desktop):
    base = desk_server.url
    card = _demo_cards(desk_server)[20]
    log_in(desktop, base, "clerk", DEMO_PASSWORD)
    desktop.goto(base + DESK)
    before = len(_check_ins(desk_server))
    held = []
    # The first answer never comes (a hung access point); later ones go through.
    desktop.route(
        "**/check-in",
        lambda route: held.append(route) if not held else route.continue_(),
    )
    _scan(desktop, card, base)
    desktop.locator("#desk-queue").wait_for(state="hidden", timeout=30000)
    assert len(held) == 1
    assert len(_check_ins(desk_server)) == before + 1
    assert desktop.locator("#scan-log li.scan-ok").count() >= 1


def _waiting_scans(page) -> int:
    return page.locator("#scan-log li.scan-waiting").count()


def test_an_ended_login_stops_the_queue_says_so_and_sends_after_login(desk_server, desktop):
    """Logged out in another tab: the scans stay queued, a banner says why and how many, its
    link logs in and comes back to the desk, and then the queue is sent and counted."""
    base = desk_server.url
    cards = _demo_cards(desk_server)[21:23]
    log_in(desktop, base, "clerk", DEMO_PASSWORD)
    desktop.goto(base + DESK)
    before = len(_check_ins(desk_server))
    other = desktop.context.new_page()
    other.goto(base + "/console")
    other.locator("form[action='/logout'] button").click()
    other.wait_for_load_state()
    other.close()

    banner = desktop.locator("#desk-auth")
    _scan(desktop, cards[0], base)
    banner.wait_for(state="visible", timeout=10000)
    _scan(desktop, cards[1], base)
    desktop.wait_for_function(
        "document.querySelector('#desk-auth p').textContent.includes('已扫的 2 张卡')"
    )
    assert "登录已失效，请重新登录" in banner.inner_text()
    time.sleep(4)  # past a retry: nothing is sent, nothing is lost, nothing settled
    assert len(_check_ins(desk_server)) == before
    assert _waiting_scans(desktop) == 2
    assert "离线" not in desktop.locator("#desk-queue").inner_text()
    screenshot(desktop, "checkin-desk-login-ended")

    banner.get_by_role("link").click()
    desktop.wait_for_url(lambda url: "/login?next=" in url)
    desktop.locator("input[name=username]").fill("clerk")
    desktop.locator("input[name=password]").fill(DEMO_PASSWORD)
    desktop.locator("main form button[type=submit]").click()
    desktop.wait_for_url(base + DESK)
    desktop.locator("#desk-queue").wait_for(state="hidden", timeout=20000)
    assert banner.is_hidden()
    assert len(_check_ins(desk_server)) == before + 2
    assert desktop.locator("#scan-log li.scan-ok").count() >= 2


def test_a_removed_role_stops_the_queue_until_it_is_given_back(desk_server, desktop):
    """403 (the clerk's role here was removed): the same stop and banner, in words that fit;
    once the role is back the desk notices by itself and sends the kept scan."""
    base = desk_server.url
    card = _demo_cards(desk_server)[23]
    log_in(desktop, base, "clerk", DEMO_PASSWORD)
    desktop.goto(base + DESK)
    before = len(_check_ins(desk_server))
    with _db(desk_server) as connection:
        clerk = connection.execute("SELECT id FROM users WHERE username = 'clerk'").fetchone()[0]
        role = connection.execute(
            "SELECT community_id, role FROM memberships WHERE user_id = ?", (clerk,)
        ).fetchone()
        connection.execute("DELETE FROM memberships WHERE user_id = ?", (clerk,))
    try:
        _scan(desktop, card, base)
        banner = desktop.locator("#desk-auth")
        banner.wait_for(state="visible", timeout=10000)
        assert "不能在本社区办理签到" in banner.inner_text()
        assert "已扫的 1 张卡" in banner.inner_text()
        assert _waiting_scans(desktop) == 1
    finally:
        with _db(desk_server) as connection:
            connection.execute(
                "INSERT INTO memberships (user_id, community_id, role) VALUES (?, ?, ?)",
                (clerk, *role),
            )
    banner.wait_for(state="hidden", timeout=15000)
    desktop.locator("#desk-queue").wait_for(state="hidden", timeout=15000)
    assert len(_check_ins(desk_server)) == before + 1
