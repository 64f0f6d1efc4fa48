"""The board's counterfactual chart fits its panel and the screen at 1080p (issue 19)."""

import pytest

from tests.browser.conftest import locale_context, screenshot
from tests.browser.test_results_explained import published  # noqa: F401
from tests.browser.test_results_flow import closed_vote_server  # noqa: F401

SCREENS = {"1080p": {"width": 1920, "height": 1080}}


def _inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_counterfactual_chart_is_not_clipped(published, chromium, locale, screen):  # noqa: F811
    size = SCREENS[screen]
    context = locale_context(chromium, locale, size)
    page = context.new_page()
    page.goto(f"{published.url}/c/xingfuli/board")
    chart = page.locator(".panel-explain svg.chart-svg")
    assert chart.count() == 1
    panel = page.locator(".panel-explain")
    svg_box, panel_box = chart.bounding_box(), panel.bounding_box()
    viewport = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
    tag = "zh" if locale == "zh-CN" else "en"
    screenshot(page, f"board-counterfactual-{tag}-{screen}")
    assert svg_box["height"] > 100 and svg_box["width"] > 100, svg_box  # not shrunk to nothing
    assert _inside(panel_box, viewport), (panel_box, viewport)
    assert _inside(svg_box, panel_box), (svg_box, panel_box)
    # The drawing itself (legend, every row's label, bars and amounts), not only the element.
    drawn = page.evaluate(
        """() => {
          const svg = document.querySelector('.panel-explain svg.chart-svg');
          const b = svg.getBBox(), m = svg.getScreenCTM();
          return {x: m.e + b.x * m.a, y: m.f + b.y * m.d, width: b.width * m.a,
                  height: b.height * m.d};
        }"""
    )
    assert _inside(drawn, panel_box), (drawn, panel_box)
    # Every row of the chart is drawn (the panel's overflow: hidden would hide a clipped one).
    rows = page.locator(".panel-explain svg.chart-svg .chart-row")
    for n in range(rows.count()):
        assert _inside(rows.nth(n).bounding_box(), panel_box), n
    context.close()
