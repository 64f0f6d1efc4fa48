"""Resident paths on a 360 px phone (issue 17): the community page's button follows the round,
closed doors say when they open, the code alone finds its ballot, the board's QR leads to the
ballot, and Back from the receipt shows a normal page, in at most four taps after the scan."""

import io
import re
from datetime import datetime

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from civicvote.extensions import db
from tests import factories
from tests.browser.conftest import PHONE, built_server, screenshot

ASSEMBLY_AT = datetime(2026, 6, 1, 1, 30)  # 09:30 in Asia/Shanghai
ASSEMBLY_ZH = "2026年6月1日周一 09:30"
BROWSER_ERRORS = ("ERR_CACHE_MISS", "Confirm Form Resubmission", "确认重新提交表单")


def _round(name: str, phase: str):
    community = factories.community(name=name)
    return community, factories.funding_round(community, phase=phase)


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """One server, one community per step of the round; the voting one has two open ballots."""

    def build():
        data = {}
        voting, funding_round = _round("幸福社区", "ballot")
        _proposals, approval, knapsack = factories.approval_and_knapsack(funding_round)
        factories.assembly(approval, starts_at=ASSEMBLY_AT, place="社区服务中心三楼")
        voting.board_ballot_id = approval.id
        db.session.commit()
        data["cards"] = {
            "approval": [factories.credential(approval)[1:] for _ in range(6)],
            "knapsack": [factories.credential(knapsack)[1:] for _ in range(3)],
        }
        data["voting"] = (voting.slug, approval.id, knapsack.id)
        data["intake"] = _round("和平社区", "intake")[0].slug
        data["review"] = _round("光明社区", "review")[0].slug
        soon, soon_round = _round("春晖社区", "ballot")
        factories.assembly(
            factories.ballot(soon_round, status="draft", title="春晖投票"),
            starts_at=ASSEMBLY_AT,
            place="春晖活动室",
        )
        data["soon"] = soon.slug
        notice, notice_round = _round("朝阳社区", "notice")
        data["notice"] = (notice.slug, notice_round.id)
        data["delivery"] = _round("金桥社区", "delivery")[0].slug
        return data

    yield from built_server(tmp_path_factory, "resident-paths", build)


class Taps:
    """Counts the resident's taps (clicks) after the scan."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def __call__(self, locator):
        self.count += 1
        locator.click()


def assert_normal_page(page) -> None:
    """Not Chromium's error page: a page of ours, with its heading and no resubmission error."""
    assert not page.url.startswith("chrome-error://"), page.url
    expect(page.locator("h1")).to_be_visible()
    body = page.locator("body").inner_text()
    assert not any(error in body for error in BROWSER_ERRORS), body[:300]


def main_button(page):
    return page.locator("#next-step a.button.primary").first


# --------------------------------------------------------------------------- community page


@pytest.mark.parametrize(
    ("key", "label", "lands_on"),
    [
        ("intake", "提交需求", r"/needs/new$"),
        ("review", "查看项目方案", r"/proposals$"),
        ("voting", "去投票：居民议事会投票", r"/vote/code/\d+$"),
        ("notice", "查看投票结果", r"/rounds/\d+/results$"),
        ("delivery", "查看项目实施进展", r"/projects$"),
    ],
)
def test_community_page_main_button_per_phase(paths, phone, key, label, lands_on):
    slug = paths[key][0] if isinstance(paths[key], tuple) else paths[key]
    phone.goto(f"{paths['url']}/c/{slug}")
    button = main_button(phone)
    expect(button).to_contain_text(label)
    box = button.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(phone, f"community-step-{key}-phone")
    button.click()
    assert re.search(lands_on, phone.url.split("?")[0]), phone.url
    assert_normal_page(phone)
    if key == "intake":
        expect(phone.locator("input[name=title]")).to_be_visible()
    if key == "voting":  # the ballot's code page says when and where it is voted
        expect(phone.locator("main")).to_contain_text(f"社区服务中心三楼，{ASSEMBLY_ZH}")


def test_voting_page_offers_each_open_ballot(paths, phone):
    slug, approval, knapsack = paths["voting"]
    phone.goto(f"{paths['url']}/c/{slug}")
    hrefs = [a.get_attribute("href") for a in phone.locator("#next-step a.button.primary").all()]
    assert hrefs == [f"/vote/code/{approval}", f"/vote/code/{knapsack}"]
    expect(phone.locator("a", has_text="提交需求")).to_have_count(0)


def test_closed_doors_show_dates(paths, phone):
    base = paths["url"]
    phone.goto(f"{base}/c/{paths['soon']}")
    step = phone.locator("#next-step")
    expect(step).to_contain_text("投票尚未开始")
    expect(step).to_contain_text(f"投票将于 {ASSEMBLY_ZH} 开始")
    expect(step).to_contain_text("春晖活动室")
    screenshot(phone, "community-vote-soon-phone")
    # The need form outside collection says what step the round is at.
    response = phone.goto(f"{base}/c/{paths['review']}/needs/new")
    assert response.status == 200
    expect(phone.locator("main")).to_contain_text("目前不收集需求")
    expect(phone.locator("#intake-when")).to_contain_text("方案审核")
    screenshot(phone, "need-form-closed-phone")
    # The ballots file before the result is final: a page that says when, not "no such page".
    slug, round_id = paths["notice"]
    response = phone.goto(f"{base}/c/{slug}/rounds/{round_id}/ballots.pb")
    assert response.status == 404
    expect(phone.locator("main")).to_contain_text("结果确定后才能下载")
    expect(phone.locator("main")).not_to_contain_text("页面不存在")


# --------------------------------------------------------------------------- the code alone


def test_vote_by_code_alone_with_two_ballots_open(paths, phone):
    slug, _approval, knapsack = paths["voting"]
    _token, code = paths["cards"]["knapsack"][0]
    phone.goto(f"{paths['url']}/vote/code")
    expect(phone.locator("select")).to_have_count(0)
    phone.locator("input[name=code]").fill(f"{code[:4]} {code[4:8]} {code[8:]}".lower())
    screenshot(phone, "vote-code-alone-phone")
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_url(re.compile(rf".*/ballots/{knapsack}/vote\?opened=1$"))
    expect(phone.locator(".ballot-option").first).to_be_visible()
    expect(phone.locator("h1")).to_have_text("预算投票")


def test_board_qr_leads_to_the_ballot(paths, phone):
    slug, approval, _knapsack = paths["voting"]
    phone.goto(f"{paths['url']}/c/{slug}/board")
    qr = phone.locator(".vote-qr svg.qr")
    qr.scroll_into_view_if_needed()
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert [r.text for r in results] == [f"{paths['url']}/vote/code/{approval}"]
    # Scanned: the ballot's own code page; the code typed there opens the ballot.
    phone.goto(results[0].text)
    expect(phone.locator("h1")).to_contain_text("居民议事会投票")
    phone.locator("input[name=code]").fill(paths["cards"]["approval"][5][1])
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_url(re.compile(rf".*/ballots/{approval}/vote\?opened=1$"))


# --------------------------------------------------------------------------- back after receipt


def vote_and_go_back(page, base: str, ballot_id: int, scan_url: str) -> int:
    """Scan, choose one, review, confirm; then Back twice. Returns the taps after the scan."""
    page.goto(scan_url)  # the scan: the phone opens the card's link
    page.wait_for_url(re.compile(rf".*/ballots/{ballot_id}/vote\?opened=1$"))
    tap = Taps(page)
    tap(page.locator(".ballot-option").first)  # choose
    tap(page.locator("form.ballot-form button[type=submit]"))  # 核对
    page.wait_for_url(re.compile(rf".*/ballots/{ballot_id}/review\?card=.*"))
    tap(page.locator(".confirm-form button[name=confirm]"))  # 确认
    receipt = page.locator("#receipt-code")
    expect(receipt).to_be_visible()
    code = receipt.inner_text()
    assert re.search(rf"/ballots/{ballot_id}/done\?card=", page.url)
    # Back from the receipt: a normal page saying the vote is counted, never a browser error.
    page.go_back()
    assert_normal_page(page)
    expect(page.locator("main")).to_contain_text("投票已记录")
    expect(page.locator("#receipt-code")).to_have_text(code)
    page.go_back()
    assert_normal_page(page)
    expect(page.locator("form.ballot-form")).to_have_count(0)  # no way to vote twice
    page.go_forward()
    assert_normal_page(page)
    return tap.count


def test_back_after_receipt_and_tap_count(paths, phone):
    _slug, approval, _knapsack = paths["voting"]
    token, _code = paths["cards"]["approval"][0]
    taps = vote_and_go_back(phone, paths["url"], approval, f"{paths['url']}/v/{token}")
    assert taps <= 4
    screenshot(phone, "vote-back-after-receipt-phone")


def test_back_after_receipt_without_javascript(paths, chromium):
    _slug, approval, _knapsack = paths["voting"]
    token, _code = paths["cards"]["approval"][1]
    context = chromium.new_context(
        viewport=PHONE,
        locale="zh-CN",
        java_script_enabled=False,
        extra_http_headers={"Accept-Language": "zh-CN"},
    )
    page = context.new_page()
    try:
        taps = vote_and_go_back(page, paths["url"], approval, f"{paths['url']}/v/{token}")
        assert taps <= 4
    finally:
        context.close()


def test_back_after_receipt_by_code(paths, phone):
    slug, approval, _knapsack = paths["voting"]
    _token, code = paths["cards"]["approval"][2]
    phone.goto(f"{paths['url']}/vote/code/{approval}")
    phone.locator("input[name=code]").fill(code)
    tap = Taps(phone)
    tap(phone.locator("main form button[type=submit]"))
    phone.wait_for_url(re.compile(rf".*/ballots/{approval}/vote\?opened=1$"))
    tap(phone.locator(".ballot-option").nth(1))
    tap(phone.locator("form.ballot-form button[type=submit]"))
    tap(phone.locator(".confirm-form button[name=confirm]"))
    expect(phone.locator("#receipt-code")).to_be_visible()
    assert tap.count == 4
    for _ in range(3):  # back through the review, the ballot and the code page
        phone.go_back()
        assert_normal_page(phone)
