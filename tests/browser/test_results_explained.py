"""The explanations in Chromium: the results page and the board after the close, in zh and en,
on a 360 px phone and a 1080p screen (screenshots under artifacts/screenshots/), axe clean."""

import pytest

from tests.a11y.conftest import axe_source  # noqa: F401
from tests.a11y.test_accessibility import serious_violations
from tests.browser.conftest import locale_context, publish_provisional, screenshot
from tests.browser.test_results_flow import closed_vote_server  # noqa: F401

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "1080p": {"width": 1920, "height": 1080}}
HEADINGS = {
    "zh-CN": ("结果公平吗？", "为什么是这个结果"),
    "en": ("How fair is the result?", "Why this result"),
}


@pytest.fixture(scope="module")
def published(closed_vote_server, chromium):  # noqa: F811
    """The organizer counts the closed ballot: a provisional result is published."""
    publish_provisional(chromium, closed_vote_server).context.close()
    return closed_vote_server


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_results_page_and_board_explain_the_result(
    published,
    chromium,
    axe_source,  # noqa: F811
    locale,
    size,
):
    context = locale_context(
        chromium,
        locale,
        VIEWPORTS[size],
        java_script_enabled=True,
        bypass_csp=True,  # lets the test inject axe; the app itself runs no inline script
    )
    page = context.new_page()
    fair, why = HEADINGS[locale]
    tag = "zh" if locale == "zh-CN" else "en"

    page.goto(f"{published.url}/c/xingfuli/rounds/{published.round_id}/results")
    assert page.get_by_role("heading", name=fair).is_visible()
    charts = page.locator(".pair-rows [role=img]")
    assert charts.count() >= 3
    for n in range(charts.count()):  # every chart has a text alternative: title, description
        title, desc = charts.nth(n).get_attribute("aria-labelledby").split()
        assert page.locator(f"#{title}").text_content()
        assert page.locator(f"#{desc}").text_content()
        assert charts.nth(n).locator("svg.bar-line").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"results-explained-{tag}-{size}")
    assert serious_violations(page, axe_source) == []

    page.goto(f"{published.url}/c/xingfuli/board")
    assert page.get_by_role("heading", name=why).is_visible()
    screenshot(page, f"board-explained-{tag}-{size}")
    context.close()
