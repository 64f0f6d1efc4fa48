"""Paper ballots in Chromium, as the roles run them: the organizer prints sheets, a clerk
hands one over to a resident found by registry number, two clerks enter the sheet
differently, and the supervisor settles it on a phone by clicking a radio button. The result
counts it once."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.a11y.conftest import AXE
from tests.a11y.test_accessibility import serious_violations
from tests.browser.conftest import PHONE, built_server, screenshot

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def paper_server(tmp_path_factory):
    def build():
        community = factories.community(slug="xingfu", name="幸福社区")
        households = factories.registry(community, buildings=2, rooms=3, per_room=2)
        funding_round = factories.funding_round(community)
        titles = ("楼道加装扶手", "老年食堂助餐", "儿童游乐场翻新")
        proposals = [factories.proposal(funding_round, title=t) for t in titles]
        ballot = factories.ballot(funding_round, proposals=proposals, mode="mixed")
        for username, role in (
            ("organizer", "organizer"),
            ("clerk1", "clerk"),
            ("clerk2", "clerk"),
            ("supervisor", "supervisor"),
        ):
            factories.user(username, roles=[(community, role)])
        resident = households[4].residents[1]
        data = {"ballot": ballot.id, "ref": resident.external_ref, "name": resident.name}
        data["address"] = resident.household.address
        return data

    yield from built_server(tmp_path_factory, "paper-instance", build)


def test_a_paper_dispute_is_settled_by_clicking_and_counted_once(paper_server, logged_in):
    base, ballot = paper_server["url"], paper_server["ballot"]
    console = f"{base}/console/c/xingfu/ballots/{ballot}"

    # The organizer prints four sheets; reloading the printed page makes no new numbers.
    organizer = logged_in(base, "organizer", viewport=DESKTOP)
    organizer.goto(console)
    organizer.get_by_role("link", name="打印纸质选票").click()
    organizer.get_by_label("张数").fill("4")
    organizer.get_by_role("button", name="生成选票并打印").click()
    numbers = organizer.locator(".sheet-number")
    expect(numbers).to_have_count(4)
    printed = numbers.all_inner_texts()
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", n) for n in printed)
    expect(organizer.locator(".paper-sheet svg.qr")).to_have_count(4)
    screenshot(organizer, "paper-sheets-print")
    pdf = organizer.pdf(prefer_css_page_size=True)  # the print CSS: two sheets to an A4 page
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    organizer.reload()
    assert organizer.locator(".sheet-number").all_inner_texts() == printed

    # At the desk, a clerk finds the resident by the number printed on the registry.
    clerk1 = logged_in(base, "clerk1", viewport=DESKTOP)
    clerk1.goto(console)
    clerk1.get_by_role("link", name="发放纸质选票").click()
    clerk1.get_by_label("名册编号、姓名或地址").fill(paper_server["ref"])
    clerk1.locator("main form[role=search] button").click()
    row = clerk1.locator("table.hand-over-results tbody tr").filter(has_text=paper_server["name"])
    expect(row).to_have_count(1)
    row.get_by_role("button", name="发放纸质选票").click()
    expect(clerk1.locator(".flash-success")).to_contain_text(paper_server["address"])
    screenshot(clerk1, "paper-hand-over")

    # Two clerks enter the same sheet; they read it differently.
    clerk2 = logged_in(base, "clerk2", viewport=DESKTOP)
    for page, option in ((clerk1, 0), (clerk2, 1)):
        page.goto(console + "/paper")
        page.get_by_label(re.compile("选票编号")).fill(printed[0].lower())
        page.locator(".ballot-option").nth(option).click()
        page.get_by_role("button", name="保存本次录入").click()
    expect(clerk2.locator(".flash-error")).to_contain_text("两次录入不一致")

    # The supervisor, on a phone, opens the disputed sheet and clicks the entry it shows.
    # (CSP bypassed only to inject axe-core, which checks the page's accessibility.)
    supervisor = logged_in(base, "supervisor", viewport=PHONE, bypass_csp=AXE.exists())
    supervisor.goto(console)
    for shown in ("name", "ref", "address"):
        expect(supervisor.locator("body")).not_to_contain_text(paper_server[shown])
    supervisor.get_by_role("link", name=f"选票 {printed[0]}").click()
    radios = supervisor.locator("input[type=radio][name=choice]")
    expect(radios).to_have_count(3)
    second = supervisor.get_by_role("radio", name=re.compile("第 2 次录入"))
    second.click()
    expect(second).to_be_checked()
    screenshot(supervisor, "paper-dispute-phone")
    if AXE.exists():
        assert serious_violations(supervisor, AXE.read_text()) == []
    supervisor.get_by_role("button", name="裁定并计入这张选票").click()
    expect(supervisor.locator(".flash-success")).to_contain_text("计入一次")
    expect(supervisor.locator("#paper-counts")).to_contain_text("已计入：1")
    expect(supervisor.locator("#ballots-cast")).to_have_text("1")
    # Live counts move only in batches (issue 14): the organizer closes, and the count shows it.
    organizer.goto(console)
    organizer.on("dialog", lambda dialog: dialog.accept())
    organizer.locator("form[data-confirm]:has(input[value=close]) button").click()
    expect(organizer.locator(".flash-success")).to_be_visible()
    votes = organizer.locator("table tbody tr td.num:nth-child(3)").all_inner_texts()
    assert votes == ["0", "1", "0"]
