"""The check-in desk, walk-in QR and printed voter cards in real Chromium against gunicorn.

The desk runs on a laptop (desktop viewport); residents hold phones (360x740). QR codes are
decoded from what Chromium actually rendered (element screenshots) with zxing-cpp.
"""

import csv
import io
import re
import sqlite3
from pathlib import Path

import zxingcpp
from PIL import Image

from tests.browser.conftest import DEMO_PASSWORD, locale_context, log_in, screenshot

PASSWORD = DEMO_PASSWORD


def _login(page, base: str, username: str, password: str = PASSWORD) -> None:
    """The demo's staff sign in (kept for modules that import it; new ones use log_in)."""
    log_in(page, base, username, password)


def confirm_walk_in(page, address: str, second: str = "supervisor"):
    """On the walk-in form: card forgotten, a second staff member confirms; returns the QR."""
    page.get_by_label("忘带选民卡").check()
    page.get_by_label("第二名工作人员：账号").fill(second)
    page.get_by_label("第二名工作人员：密码").fill(PASSWORD)
    page.locator("form.walk-in-confirm button[type=submit]").click()
    qr = page.locator(".walk-in-qr svg.qr")
    qr.wait_for()
    assert address in page.locator(".walk-in-voter").inner_text()
    return qr


def _decode(element) -> str:
    image = Image.open(io.BytesIO(element.screenshot()))
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    return results[0].text


def _demo_cards(server) -> list[dict]:
    path = Path(server.env["CIVICVOTE_INSTANCE_PATH"]) / "demo-cards.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_walk_in_desk_shows_a_qr_that_decodes_to_a_personal_link(demo_server, desktop, chromium):
    base = demo_server.url
    log_in(desktop, base, "clerk", PASSWORD)
    desktop.goto(base + "/console/c/xingfuli/assemblies")
    screenshot(desktop, "checkin-assemblies")
    desktop.locator("a[href$='/assemblies/1']").first.click()
    desktop.locator("a[href$='/walk-in']").click()
    desktop.locator("input[name=q]").fill("5栋-1单元-3")
    desktop.locator("main form[role=search] button").click()
    desktop.wait_for_url(re.compile(r".*/walk-in\?q=.+"))
    rows = desktop.locator("table.walk-in-results tbody tr")
    rows.first.wait_for()
    screenshot(desktop, "checkin-walk-in-search")
    row = rows.filter(has=desktop.locator("button")).first
    address = row.locator("td").nth(1).inner_text()
    row.locator("button.primary").click()  # identity checked: check in
    desktop.locator("table.walk-in-results tr", has_text=address).locator("a.button").first.click()
    qr = confirm_walk_in(desktop, address)
    screenshot(desktop, "checkin-walk-in-qr")
    link = _decode(qr)
    assert re.fullmatch(re.escape(base) + r"/v/[A-Za-z0-9_-]{22,}", link)

    # The resident's phone scans the desk screen and opens the link. The landing page belongs to
    # the casting half: where it exists, the token must not stay in the address bar.
    phone = locale_context(chromium, "zh-CN", {"width": 360, "height": 740}).new_page()
    try:
        response = phone.goto(link)
        if response.request.redirected_from is not None:  # exchanged for a session cookie
            assert link.rsplit("/", 1)[1] not in phone.url
        if response.status != 404:
            screenshot(phone, "checkin-walk-in-phone-landing")
    finally:
        phone.context.close()


def test_desk_checks_in_by_scanner_input_once_with_live_count(demo_server, desktop):
    base = demo_server.url
    cards = _demo_cards(demo_server)
    log_in(desktop, base, "clerk", PASSWORD)
    desktop.goto(base + "/console/c/xingfuli/assemblies/1")
    before = int(desktop.locator("[data-live=attendance]").inner_text())
    scan = desktop.locator("input[name=code]")
    # A USB scanner "types" the card's link and presses Enter.
    scan.fill(f"{base}/v/{cards[0]['token']}")
    scan.press("Enter")
    result = desktop.locator("#desk-result")
    result.locator(".desk-address").wait_for()
    assert cards[0]["voter"] in result.inner_text()
    desktop.wait_for_function(
        f"document.querySelector('[data-live=attendance]').textContent == '{before + 1}'"
    )
    assert scan.input_value() == ""  # ready for the next card
    screenshot(desktop, "checkin-desk-checked-in")

    # The same card again: "already checked in at HH:MM", and the count does not move.
    scan.fill(cards[0]["short_code"].lower())
    scan.press("Enter")
    desktop.wait_for_selector("#desk-result.desk-result-warning")
    assert re.search(r"\d\d:\d\d", result.inner_text())
    assert desktop.locator("[data-live=attendance]").inner_text() == str(before + 1)
    screenshot(desktop, "checkin-desk-already")

    scan.fill("NOTACARD99")
    scan.press("Enter")
    desktop.wait_for_selector("#desk-result.desk-result-error")
    screenshot(desktop, "checkin-desk-unknown")


def test_desk_works_without_javascript(demo_server, chromium):
    base = demo_server.url
    cards = _demo_cards(demo_server)
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    try:
        log_in(page, base, "clerk", PASSWORD)
        page.goto(base + "/console/c/xingfuli/assemblies/1")
        page.locator("input[name=code]").fill(cards[1]["short_code"])
        page.locator("#checkin-form button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/assemblies/1$"))
        assert cards[1]["voter"] in page.locator(".flashes").inner_text()
        screenshot(page, "checkin-desk-no-js")
    finally:
        context.close()


def test_printed_card_sheet_qr_codes_decode_to_the_links(demo_server, desktop):
    base = demo_server.url
    log_in(desktop, base, "organizer", PASSWORD)
    desktop.goto(base + "/console/c/xingfuli/ballots/1/cards")
    screenshot(desktop, "cards-issue")
    desktop.locator("select[name=building]").select_option("3栋")
    desktop.locator("input[name=count]").fill("8")
    desktop.locator("main form button.primary").first.click()
    cards = desktop.locator("article.voter-card")
    cards.first.wait_for()
    assert cards.count() == 8
    screenshot(desktop, "cards-sheet-screen")
    links = set()
    for index in range(cards.count()):
        card = cards.nth(index)
        link = _decode(card.locator("svg.qr"))
        assert re.fullmatch(re.escape(base) + r"/v/[A-Za-z0-9_-]{22,}", link)
        assert card.locator(".voter-card-voter").inner_text().startswith("3栋")
        links.add(link)
    assert len(links) == 8
    assert _overflowing_cards_in_print(desktop) == []
    screenshot(desktop, "cards-sheet-print")
    desktop.emulate_media(media="screen")


def _overflowing_cards_in_print(page) -> list:
    """Printed on A4 (794 CSS px wide at 96 dpi): the cards whose content is cut off."""
    page.set_viewport_size({"width": 794, "height": 1123})
    page.emulate_media(media="print")
    return page.evaluate(
        "Array.from(document.querySelectorAll('.voter-card'))"
        ".filter(c => c.scrollHeight > c.clientHeight + 1 || c.scrollWidth > c.clientWidth + 1)"
        ".map(c => [c.scrollHeight, c.clientHeight, c.scrollWidth, c.clientWidth])"
    )


def test_a_card_of_a_ballot_with_three_assemblies_names_the_first_and_still_fits(
    demo_server, desktop
):
    """Every assembly on the 90 mm card would push its code off: the first one and how many
    more (the community page lists them all), and nothing on the printed card is cut off."""
    base = demo_server.url
    database = Path(demo_server.env["CIVICVOTE_INSTANCE_PATH"]) / "civicvote.db"
    with sqlite3.connect(database) as connection:
        first = connection.execute(
            "SELECT place, starts_at FROM assemblies WHERE ballot_id = 1 ORDER BY starts_at"
        ).fetchone()
        added = [
            connection.execute(
                "INSERT INTO assemblies (ballot_id, title, place, starts_at) "
                "VALUES (1, ?, ?, datetime(?, ?))",
                (f"补充议事会{n}", f"第{n}网格活动室（老年活动中心旁）", first[1], f"+{n} days"),
            ).lastrowid
            for n in (1, 2)
        ]
    try:
        log_in(desktop, base, "organizer", PASSWORD)
        desktop.goto(base + "/console/c/xingfuli/ballots/1/cards")
        desktop.locator("select[name=building]").select_option("4栋")
        desktop.locator("input[name=count]").fill("4")
        desktop.locator("main form button.primary").first.click()
        cards = desktop.locator("article.voter-card")
        cards.first.wait_for()
        for index in range(cards.count()):
            when = cards.nth(index).locator(".voter-card-when").inner_text()
            assert first[0] in when
            assert "另有 2 场，详见社区页面" in when
            assert "网格活动室" not in when
        overflowing = _overflowing_cards_in_print(desktop)
        screenshot(desktop, "cards-sheet-print-three-assemblies")
        assert overflowing == []
        desktop.emulate_media(media="screen")
    finally:
        with sqlite3.connect(database) as connection:
            connection.executemany("DELETE FROM assemblies WHERE id = ?", [(i,) for i in added])


def test_registry_import_lists_bad_rows_on_a_phone(demo_server, phone, tmp_path):
    base = demo_server.url
    log_in(phone, base, "organizer", PASSWORD)
    phone.goto(base + "/console/c/xingfuli/registry/import")
    bad = tmp_path / "名册.csv"
    bad.write_bytes(
        "编号,姓名,楼栋,单元,房号,出生年份,居住状态\n"
        "N1,新居民,7栋,1单元,101,1990,户籍\n"
        "N2,,7栋,1单元,102,1990,户籍\n"
        "N3,某某,7栋,1单元,103,1890,户籍\n".encode("gb18030")
    )
    phone.locator("input[type=file]").set_input_files(str(bad))
    phone.locator("main form button[type=submit]").click()
    summary = phone.locator(".error-summary")
    summary.wait_for()
    cells = summary.locator("tbody td.num").all_inner_texts()
    assert cells == ["3", "4"]
    assert "姓名" in summary.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "registry-import-bad-rows")
