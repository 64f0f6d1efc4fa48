"""The assembly board fits every screen it is shown on: two landscape TVs (1920×1080,
1280×720) and a portrait screen (1080×1920), while a ballot is open and votes come in, and
after the close (explanations, counterfactual chart, fairness). A TV cannot scroll: nothing may
be clipped by its panel, lie outside the screen, or overlap another panel; every rotation step
is checked (board.js shows result pages and the funded panel in turns)."""

import urllib.request

import pytest

from tests.browser.conftest import demo_vote_server, locale_context, publish_provisional, screenshot
from tests.servers import civicvote, vote_by_api

SIZES = {
    "1920x1080": ({"width": 1920, "height": 1080}, "landscape"),
    "1280x720": ({"width": 1280, "height": 720}, "landscape"),
    "1080x1920": ({"width": 1080, "height": 1920}, "portrait"),
}
LOCALES = ("zh-CN", "en")

# Every region of the screen (header, each panel, the stale banner, the audit chain head) lies
# inside the viewport and overlaps no other; every visible element of a region lies inside it
# (and inside its SVG, for drawn text and bars); no element hides content behind overflow
# (text cut off by an ellipsis, a panel taller than its box); the page itself does not scroll.
FIT_PROBLEMS = """() => {
  const slack = 1, problems = [];
  const view = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const shown = el => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden";
  const box = el => el.getBoundingClientRect();
  const inside = (a, b) => a.left >= b.left - slack && a.top >= b.top - slack
    && a.right <= b.right + slack && a.bottom <= b.bottom + slack;
  const name = el => {
    const cls = typeof el.className === "string" ? el.className : el.getAttribute("class") || "";
    return el.tagName.toLowerCase() + (cls ? "." + cls.trim().split(/\\s+/).join(".") : "")
      + " '" + (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40) + "'";
  };
  const regions = [
    document.querySelector(".board-header"), ...document.querySelectorAll("#board-panels > .panel"),
    document.querySelector("#board-stale"), document.querySelector(".chain-head"),
  ].filter(el => el && shown(el));
  const root = document.scrollingElement;
  if (root.scrollWidth > innerWidth || root.scrollHeight > innerHeight) {
    problems.push(`page scrolls: ${root.scrollWidth}x${root.scrollHeight}`);
  }
  regions.forEach((region, i) => {
    const r = box(region);
    if (!inside(r, view)) {
      problems.push(`${name(region)} outside the screen: ${JSON.stringify(r)}`);
    }
    regions.slice(i + 1).forEach(other => {
      const o = box(other);
      const w = Math.min(r.right, o.right) - Math.max(r.left, o.left);
      const h = Math.min(r.bottom, o.bottom) - Math.max(r.top, o.top);
      if (w > slack && h > slack) { problems.push(`${name(region)} overlaps ${name(other)}`); }
    });
    [region, ...region.querySelectorAll("*")].filter(shown).forEach(el => {
      const e = box(el);
      if (e.width === 0 && e.height === 0) { return; }
      if (el !== region && !inside(e, r)) { problems.push(`${name(el)} outside ${name(region)}`); }
      const svg = el.ownerSVGElement;
      if (svg && !inside(e, box(svg))) { problems.push(`${name(el)} outside its chart`); }
      if (el instanceof HTMLElement && getComputedStyle(el).overflow !== "visible"
          && (el.scrollWidth > el.clientWidth + slack
              || el.scrollHeight > el.clientHeight + slack)) {
        problems.push(`${name(el)} cuts off content: ${el.scrollWidth}x${el.scrollHeight}`
          + ` in ${el.clientWidth}x${el.clientHeight}`);
      }
    });
  });
  return problems;
}"""


@pytest.fixture(scope="module")
def board_server(tmp_path_factory):
    """The demo district with its ballot open and 20 ballots in (the board shows the first
    batch of 10); ``close()`` then closes it and publishes the counted result."""

    def long_titles(database, ballot_id):
        # Two long titles (proposals allow 100 characters): the board shows them on two lines.
        database.execute(
            "UPDATE proposals SET title = title || ?"
            " WHERE id IN (SELECT proposal_id FROM ballot_items WHERE ballot_id = ? LIMIT 2)",
            ("：含设计、施工、验收与两年维护，由居委会和业委会共同监督实施", ballot_id),
        )

    # 20 voters meet the quorum of 12, so the close publishes a funded result and explanation.
    server = demo_vote_server(tmp_path_factory, "board-fit", prepare=long_titles)
    ballot_id, proposals = server.ballot_id, server.proposals
    for n, card in enumerate(server.cards[:20]):
        vote_by_api(server.url, ballot_id, card["token"], proposals[n % 3 : n % 3 + 2], f"fit{n}")
        # Readers take the live batches (ballots/live.py): read after each ballot, as a board would.
        urllib.request.urlopen(f"{server.url}/api/v1/ballots/{ballot_id}").close()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def closed_board(board_server, chromium):
    """The same ballot closed, counted and the provisional result published."""
    civicvote(["ballots", "close", str(board_server.ballot_id)], board_server.env)
    publish_provisional(chromium, board_server).context.close()
    return board_server


def _check_board(chromium, server, size: str, phase: str, expect_panels: set) -> None:
    viewport, layout = SIZES[size]
    for locale in LOCALES:
        context = locale_context(chromium, locale, viewport)
        page = context.new_page()
        page.goto(f"{server.url}/c/xingfuli/board?layout={layout}")
        page.evaluate("document.fonts.ready")
        names = set(
            page.eval_on_selector_all("#board-panels > .panel", "s => s.map(p => p.dataset.name)")
        )
        assert expect_panels <= names, names
        steps = page.evaluate("window.civicvoteBoard.steps()")
        tag = "" if locale == "zh-CN" else "-en"
        for step in range(steps):
            problems = page.evaluate(FIT_PROBLEMS)
            screenshot(page, f"board-{size}-{phase}{tag}" + (f"-{step + 1}" if step else ""))
            assert problems == [], f"{size} {phase} {locale} step {step + 1}: {problems}"
            page.evaluate("window.civicvoteBoard.rotate()")
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_live_board_fits(board_server, chromium, size):
    _check_board(chromium, board_server, size, "live", {"attendance", "results"})


@pytest.mark.parametrize("size", list(SIZES))
def test_closed_board_fits(closed_board, chromium, size):
    _check_board(chromium, closed_board, size, "closed", {"attendance", "explain"})


@pytest.mark.parametrize("size", ["1920x1080", "1080x1920"])
def test_a_board_without_javascript_shows_its_panels_in_turn(closed_board, chromium, size):
    """A screen without JavaScript cannot run board.js. The server shows one of the panels
    that take turns beside attendance, and the page reloads to the next one every 10 s, round
    and round: every panel comes up, one at a time, and each fits the screen."""
    viewport, layout = SIZES[size]
    context = locale_context(chromium, "zh-CN", viewport, java_script_enabled=False)
    page = context.new_page()
    url = f"/c/xingfuli/board?layout={layout}"
    seen = []
    for step in range(8):
        page.goto(closed_board.url + url)
        shown = page.eval_on_selector_all(
            "#board-panels > .panel:not(.rotated-out), .result-page:not([hidden])",
            "s => s.map(p => p.dataset.name || 'page-' + p.dataset.page)",
        )
        turn = [name for name in shown if name != "attendance"]
        # One panel in turn (a page of results comes in its panel), attendance beside it.
        one = turn in (["explain"], ["funded"])
        assert "attendance" in shown and (one or turn[:1] == ["results"] and len(turn) == 2), shown
        assert page.evaluate(FIT_PROBLEMS) == [], (step, shown)
        screenshot(page, f"board-{size}-closed-nojs-{step + 1}")
        seen.append(turn[-1])
        refresh = page.get_attribute("noscript meta[http-equiv=refresh]", "content")
        delay, _, url = refresh.partition(";url=")
        assert delay == "10" and url, refresh
        if seen.count(seen[0]) == 2:
            break
    # Round and round: back at the first, having shown the explanation and the funded projects.
    assert seen[-1] == seen[0] and len(set(seen)) == len(seen) - 1, seen
    assert {"explain", "funded", "page-1"} <= set(seen), seen
    context.close()
