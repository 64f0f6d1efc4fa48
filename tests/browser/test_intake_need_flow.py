"""A resident submits a need on a phone and follows it; organizers triage it (Chromium, 360×740)."""

import io
import re

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, log_in, screenshot


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_resident_submits_a_need_and_checks_its_status(demo_server, phone):
    phone.goto(demo_server.url + "/c/fengqiao")
    phone.get_by_role("link", name="提交需求").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("提交需求")
    assert _no_horizontal_scroll(phone)
    # An empty title is refused with a message, and nothing is lost.
    phone.get_by_label("在哪里？").fill("2号楼门口")
    phone.get_by_role("button", name="提交需求").click()
    expect(phone.locator(".field-error").first).to_be_visible()
    assert phone.get_by_label("在哪里？").input_value() == "2号楼门口"
    screenshot(phone, "intake-need-error-zh")
    phone.get_by_label("需要什么？").fill("2号楼门口装一盏路灯")
    phone.get_by_label("具体说明").fill("晚上回家太黑，老人容易摔倒。")
    phone.get_by_label("类别").select_option(label="安全设施")
    phone.get_by_label("您的电话或姓名").fill("13800001234")
    screenshot(phone, "intake-need-form-zh")
    phone.get_by_role("button", name="提交需求").click()
    expect(phone.get_by_role("heading", name="谢谢，您的需求已收到")).to_be_visible()
    code = phone.locator(".code").inner_text()
    assert re.fullmatch(r"[2-9A-Z]{5} [2-9A-Z]{5}", code)
    assert "13800001234" not in phone.content()
    assert _no_horizontal_scroll(phone)
    screenshot(phone, "intake-need-received-zh")

    # Later, from another browser: look the code up, typed in small letters without the space.
    phone.context.clear_cookies()
    phone.goto(demo_server.url + "/needs/track")
    phone.get_by_label("查询码").fill(code.replace(" ", "").lower())
    phone.get_by_role("button", name="查看进展").click()
    expect(phone.get_by_role("heading", name="需求进展")).to_be_visible()
    expect(phone.locator(".badge").first).to_have_text("已收到，待处理")
    assert "2号楼门口装一盏路灯" in phone.locator("main").inner_text()
    screenshot(phone, "intake-need-status-zh")

    # A neighbour says "me too" on the public list.
    phone.goto(demo_server.url + "/c/fengqiao/needs")
    phone.get_by_role("link", name="2号楼门口装一盏路灯").click()
    phone.get_by_role("button", name="我也需要").click()
    expect(phone.get_by_text("谢谢，您的支持已计入。")).to_be_visible()
    expect(phone.get_by_text("1位邻居支持")).to_be_visible()
    screenshot(phone, "intake-need-supported-zh")

    # The organizer declines it with a reason; the tracking page shows the reason.
    log_in(phone, demo_server, "organizer-b", DEMO_PASSWORD)
    phone.goto(demo_server.url + "/console/c/fengqiao/needs")
    screenshot(phone, "intake-triage-zh")
    phone.get_by_role("link", name=re.compile("2号楼门口装一盏路灯")).click()
    assert "13800001234" in phone.locator("main").inner_text()  # staff see the contact
    phone.get_by_label("理由（居民可见）").fill("路灯属于物业维修范围，已转交物业公司处理。")
    phone.get_by_role("button", name="不予采纳", exact=True).click()
    expect(phone.get_by_text("需求未予采纳，居民可以看到理由。")).to_be_visible()
    phone.goto(demo_server.url + "/needs/track/" + code.replace(" ", ""))
    expect(phone.get_by_text("路灯属于物业维修范围，已转交物业公司处理。")).to_be_visible()
    screenshot(phone, "intake-need-declined-zh")


def test_poster_and_english_list(demo_server, phone_en):
    phone_en.goto(demo_server.url + "/c/xingfuli/poster")
    expect(phone_en.locator("svg.qr")).to_be_visible()
    # The QR code, as printed, leads to the community's need form.
    image = Image.open(io.BytesIO(phone_en.locator("svg.qr").screenshot()))
    decoded = [result.text for result in zxingcpp.read_barcodes(image)]
    assert decoded == [demo_server.url + "/c/xingfuli/needs/new"]
    assert phone_en.locator("[style]").count() == 0
    screenshot(phone_en, "intake-poster-en")
    phone_en.goto(demo_server.url + "/c/xingfuli/needs?status=accepted")
    assert phone_en.get_by_role("heading", level=1).inner_text().startswith("Needs of")
    assert _no_horizontal_scroll(phone_en)
    screenshot(phone_en, "intake-needs-list-en")
    phone_en.goto(demo_server.url + "/c/xingfuli/proposals/1")
    costing = phone_en.locator(".costing").inner_text()
    assert "¥21,600.00" in costing and "120 米 × ¥180.00" in costing and "CN¥" not in costing
    screenshot(phone_en, "proposals-public-en")


SMALL_TARGETS = """() => [...document.querySelectorAll('a, button, input, select, summary')]
    .filter(el => el.offsetParent !== null && !el.closest('p, li, td, dd'))
    .map(el => [el.outerHTML.slice(0, 60), el.getBoundingClientRect().height])
    .filter(([, h]) => h < 44)"""


def test_tap_targets_on_resident_pages(demo_server, phone):
    for path in (
        "/c/xingfuli",
        "/c/fengqiao/needs/new",
        "/c/xingfuli/needs",
        "/needs/track",
        "/c/xingfuli/needs/1",
        "/c/xingfuli/proposals",
        "/c/xingfuli/proposals/1",
    ):
        phone.goto(demo_server.url + path)
        assert phone.evaluate(SMALL_TARGETS) == [], path
        assert _no_horizontal_scroll(phone), path
    screenshot(phone, "proposals-public-zh")
