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
