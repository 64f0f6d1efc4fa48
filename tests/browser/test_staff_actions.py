"""Staff actions in Chromium, as the roles run them (issue 15): a walk-in refused without a
second person and accepted with one; spending against a fund that did not pay refused; a card
sheet reloaded (and its form sent again after going back) issues no second batch.

The desk and the console run on a laptop; QR codes are decoded from what Chromium rendered.
"""

import re
from datetime import date

import pytest

from tests.browser.conftest import DEMO_PASSWORD, locale_context, log_in, screenshot, seeded_server
from tests.browser.test_checkin_flows import _decode, confirm_walk_in


def test_walk_in_is_refused_without_a_second_person_then_given_with_one(demo_server, desktop):
    base = demo_server.url
    log_in(desktop, base, "clerk", DEMO_PASSWORD)
    desktop.goto(base + "/console/c/xingfuli/assemblies/1/walk-in?q=6栋-1单元")
    row = desktop.locator("table.walk-in-results tbody tr").filter(has=desktop.locator("button"))
    address = row.first.locator("td").nth(1).inner_text()
    row.first.locator("button.primary").click()  # the clerk checked her identity: present
    desktop.locator("table.walk-in-results tr", has_text=address).locator("a.button").first.click()
    desktop.get_by_label("忘带选民卡").check()
    with desktop.expect_response(re.compile(r".*/walk-in/new$")) as answer:
        desktop.locator("form.walk-in-confirm button[type=submit]").click()
    assert answer.value.status == 422
    refusal = desktop.locator(".field-error")
    assert "每次现场投票都须由第二名工作人员确认" in refusal.inner_text()
    assert desktop.locator(".walk-in-qr").count() == 0
    screenshot(desktop, "walk-in-refused-without-second-person")

    link = _decode(confirm_walk_in(desktop, address))
    assert re.fullmatch(re.escape(base) + r"/v/[A-Za-z0-9_-]{22,}", link)
    screenshot(desktop, "walk-in-confirmed")
    desktop.reload()  # the code is a page of its own: a reload shows the same code
    assert _decode(desktop.locator(".walk-in-qr svg.qr")) == link
    # The public log names the clerk's walk-in and the supervisor who confirmed it.
    desktop.goto(base + "/c/xingfuli/log")
    assert "居民监督委员会" in desktop.locator("main").inner_text()


def _cards_issued(page) -> int:
    facts = page.locator("dl.facts")
    return int(facts.locator("dt:has-text('已发放选民卡') + dd").inner_text())


def test_card_sheet_reload_and_resend_issue_no_second_batch(demo_server, desktop):
    base = demo_server.url
    log_in(desktop, base, "organizer", DEMO_PASSWORD)
    cards_url = base + "/console/c/xingfuli/ballots/1/cards"
    desktop.goto(cards_url)
    before = _cards_issued(desktop)
    desktop.locator("select[name=building]").select_option("4栋")
    desktop.locator("input[name=count]").fill("3")
    desktop.locator("main form button.primary").first.click()
    desktop.wait_for_url(re.compile(r".*/cards/batches/\d+$"))
    sheet_url = desktop.url
    cards = desktop.locator("article.voter-card svg.qr")
    links = [_decode(cards.nth(i)) for i in range(cards.count())]
    assert len(links) == 3
    desktop.reload()
    assert [_decode(cards.nth(i)) for i in range(cards.count())] == links
    # Back to the form, which Chromium loads again; the same choices sent again.
    desktop.go_back()
    desktop.wait_for_url(cards_url)
    desktop.locator("select[name=building]").select_option("4栋")
    desktop.locator("input[name=count]").fill("3")
    desktop.locator("main form button.primary").first.click()
    desktop.wait_for_url(sheet_url)
    assert [_decode(cards.nth(i)) for i in range(cards.count())] == links
    screenshot(desktop, "cards-sheet-sent-again")
    desktop.goto(cards_url)
    assert _cards_issued(desktop) == before + 3


@pytest.fixture(scope="module")
def project_server(tmp_path_factory):
    yield from seeded_server(tmp_path_factory, "sources-instance", "tests.delivery.seed_sources")


def _pay(page, console: str, item: str, fund: str):
    """Fill the spending form for ¥500 on the seedlings, charged to the source named ``fund``."""
    page.goto(console)
    form = page.locator("form").filter(has=page.locator("input[name=action][value=spending]"))
    form.locator("input[type=date]").fill(date.today().isoformat())
    form.locator("input[name$=item]").fill(item)
    form.locator("input[inputmode=decimal]").fill("500")
    form.locator("input[name$=payee]").fill("供应商")
    form.locator("select[name$=line_item]").select_option(label="树苗")
    option = form.locator("select[name$=fund_source] option", has_text=fund)
    form.locator("select[name$=fund_source]").select_option(option.get_attribute("value"))
    return form, option.inner_text()


def test_spending_against_a_fund_that_did_not_pay_is_refused(project_server, chromium):
    seed = project_server.seed
    base = project_server.url
    page = locale_context(chromium, "zh-CN", {"width": 1024, "height": 900}).new_page()
    log_in(page, base, seed["users"]["member"], seed["password"])
    console = f"{base}/console/c/{seed['slug']}/projects/{seed['proposal_id']}"
    form, label = _pay(page, console, "儿童绘本", "儿童基金")
    assert "未资助本项目" in label
    with page.expect_response(re.compile(r".*/projects/\d+$")) as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status == 422
    assert "儿童基金 没有资助本项目" in page.locator(".flashes").inner_text()
    screenshot(page, "spending-refused-fund-did-not-pay")
    public = f"{base}/c/{seed['slug']}/projects/{seed['proposal_id']}"
    page.goto(public)
    assert "儿童绘本" not in page.locator("main").inner_text()

    # Charged to the fund that paid for the project, the same payment is recorded.
    form, _label = _pay(page, console, "香樟树苗", "为民服务专项资金")
    form.locator("button[type=submit]").click()
    assert page.get_by_role("status").inner_text() == "支出已登记。"
    page.goto(public)
    totals = page.locator("table.money-table tfoot")
    assert totals.count() == 2
    assert (
        totals.nth(0).locator("td").nth(1).inner_text()
        == totals.nth(1).locator("td").nth(1).inner_text()
    )
    page.context.close()
