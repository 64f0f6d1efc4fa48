"""Reflow: every resident and board page at 320 CSS px, and on a 360 px phone with text at 200%.

Two ways a resident meets a narrow page, each in its own browser context:

* **320 CSS px** (WCAG 1.4.10): a 1280 px screen zoomed to 400%, or a 720 px phone screen at
  200% zoom with device_scale_factor 2 ... the layout sees 320 CSS px. Emulated directly as a
  320 x 640 viewport with device_scale_factor 2.
* **360 px phone, text at 200%**: a resident who enlarged the text (Chrome's Settings ->
  Appearance -> Font size, or "Customize fonts"). That setting is the browser's *default font
  size* (16 px out of the box); we set it to 32 px through the DevTools protocol
  (``Page.setFontSizes``), the same preference the settings page writes. It grows every size
  the app states relative to the user's choice (rem, em, %) and leaves the viewport at 360 px.
  Injecting ``html{font-size:200%}`` would overwrite the app's own root size instead of
  scaling it, and page zoom would shrink the viewport: this is the case that only enlarged
  text shows (wide words, long Chinese lines in narrow columns).

On each page: no horizontal scrolling (``scrollWidth <= innerWidth``), no visible element that
sticks out of the viewport or is clipped by an ``overflow`` ancestor, no region that scrolls
sideways, no text squeezed to a character per line, and axe-core clean (serious and critical).
On resident pages, no text drawn at less than three quarters of the page's own size (a chart's
SVG labels would stay small when the resident enlarges the text).
On the ballot, the sticky bar leaves most of the screen to the options and its button is on
screen. One server for the module, one context per mode, one page reused.
"""

import csv
import re
import sqlite3

import pytest

from civicvote import create_app
from civicvote.extensions import db
from tests import factories
from tests.a11y.test_accessibility import SMALL_TARGETS_JS, demo_records, serious_violations
from tests.browser.conftest import DEMO_PASSWORD, log_in, screenshot
from tests.conftest import test_config
from tests.servers import REPO, Server, civicvote, demo_ballot_id, run_python, server_env

pytestmark = [pytest.mark.browser, pytest.mark.a11y]

# Ignored; scripts/handbook_screenshots.py copies the ballot shots into docs/screenshots/.
HANDBOOK_SHOTS = REPO / "artifacts" / "screenshots"
SLUG = "xingfuli"  # the demo community whose ballot is open here
INTAKE_SLUG = "fengqiao"  # the demo community whose round collects needs

MODES = {
    # 320 CSS px: the WCAG reflow width (a 640 px wide screen at 200% zoom is the same page).
    "320": {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 2, "font": None},
    # A 360 x 740 phone whose owner set the browser's text size to 200% (32 px default).
    "360-text200": {
        "viewport": {"width": 360, "height": 740},
        "device_scale_factor": 1,
        "font": {"standard": 32, "fixed": 26},
    },
}

SHOT = {"320": "320", "360-text200": "200"}  # docs/screenshots/reflow-ballot-<name>.png

# Everything that is not where it should be on a page, as readable strings (empty: all well).
REFLOW_JS = """
() => {
  const problems = [];
  const root = document.documentElement;
  const width = window.innerWidth;
  if (root.scrollWidth > width) {
    problems.push(`page scrolls sideways: ${root.scrollWidth} > ${width}`);
  }
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    const classes = typeof el.className === 'string' ? el.className.trim() : '';
    const cls = classes ? '.' + classes.split(/\\s+/).join('.') : '';
    return `${el.tagName.toLowerCase()}${cls} "${text.slice(0, 24)}"`;
  };
  // Hidden on purpose: not shown, or the visually-hidden pattern (1px clip), or moved off screen.
  const hidden = (el, style, box) => {
    if (box.width === 0 && box.height === 0) { return true; }
    if (style.visibility === 'hidden' || style.display === 'contents') { return true; }
    if (el.closest('.visually-hidden, [hidden], .skip-link, noscript')) { return true; }
    // Moved off to the left (the page cannot scroll there): the off-screen text pattern.
    if (box.right <= 0) { return true; }
    return false;
  };
  const clipping = (style) => ['hidden', 'clip'].includes(style.overflowX)
    || ['hidden', 'clip'].includes(style.overflowY);
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (hidden(el, style, box)) { continue; }
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') { continue; }
    const left = box.left + window.scrollX;
    const right = box.right + window.scrollX;
    if (left < -1 || right > width + 1) {
      const span = `${Math.round(left)}..${Math.round(right)}`;
      problems.push(`${name(el)} sticks out: ${span} of ${width}`);
      continue;
    }
    // A region that scrolls sideways hides part of its content behind a gesture.
    if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)} scrolls sideways: ${el.scrollWidth} > ${el.clientWidth}`);
    }
    // Content cut by its own box: ellipsis, a fixed height, overflow hidden. A one-line text
    // field is exempt: a value longer than the field scrolls with the caret, as in any form.
    const field = el.tagName === 'INPUT';
    if (clipping(style) && !field && el !== document.body && (
        (style.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) ||
        (style.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + 1))) {
      problems.push(`${name(el)} cuts off its content: ${el.scrollWidth}x${el.scrollHeight} ` +
                    `in ${el.clientWidth}x${el.clientHeight}`);
    }
    // Text squeezed to about one character per line.
    const own = [...el.childNodes].filter((n) => n.nodeType === 3)
      .map((n) => n.textContent.trim()).join('');
    if (own.length >= 4) {
      const size = parseFloat(style.fontSize);
      const lineHeight = parseFloat(style.lineHeight) || size * 1.3;
      if (box.width < 2.5 * size && box.height > 2.5 * lineHeight) {
        problems.push(`${name(el)} squeezed: ${Math.round(box.width)} px wide, ` +
                      `${Math.round(box.height / lineHeight)} lines`);
      }
    }
  }
  return problems;
}
"""

# Text drawn smaller than the reader's own size: an SVG's text scales with its drawing, not with
# the browser's text size, so a chart's labels stay small however large the resident set it.
SMALL_TEXT_JS = """
() => {
  const body = parseFloat(getComputedStyle(document.body).fontSize);
  const problems = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3)
      .map((n) => n.textContent.trim()).join('');
    if (!own || el.closest('.visually-hidden, [hidden], noscript, title, desc')) { continue; }
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) { continue; }
    const style = getComputedStyle(el);
    // What the eye sees: an SVG text's size times the drawing's scale.
    const svg = el.closest('svg');
    const scale = svg ? svg.getScreenCTM().a : 1;
    const size = parseFloat(style.fontSize) * scale;
    if (size < 0.75 * body) {
      problems.push(`"${own.slice(0, 24)}" is ${size.toFixed(1)} px, the page's text ${body} px`);
    }
  }
  return problems.slice(0, 5);
}
"""

# The ballot's bar (running total and the review button), seen while the options fill the screen:
# sticky at the foot of the screen, or, where it would cover the options (short screen, large
# text), in the flow after them.
BALLOT_BAR_JS = """
() => {
  const bar = document.querySelector('.ballot-bar');
  const options = [...document.querySelectorAll('.ballot-option')];
  options[0].scrollIntoView();  // the resident is choosing: the list fills the screen
  const last = options[options.length - 1].getBoundingClientRect();
  const box = bar.getBoundingClientRect();
  const button = bar.querySelector('button[type=submit]').getBoundingClientRect();
  return {sticky: getComputedStyle(bar).position === 'sticky', bar: box.height, top: box.top,
          lastOption: last.bottom, buttonBottom: button.bottom, height: window.innerHeight};
}
"""


def ballot_bar_problems(page) -> list[str]:
    bar = page.evaluate(BALLOT_BAR_JS)
    if not bar["sticky"]:
        if bar["top"] < bar["lastOption"]:
            return ["the ballot's bar is neither sticky nor after the options"]
        return []
    found = []
    if bar["bar"] > 0.3 * bar["height"]:
        found.append(f"sticky bar takes {bar['bar']:.0f} of {bar['height']} px")
    if bar["buttonBottom"] > bar["height"]:
        found.append(f"the bar's button ends at {bar['buttonBottom']:.0f} px, off screen")
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo district with its ballot open, plus a community whose project was funded (its
    results, report and delivery pages), served by one gunicorn."""
    instance = tmp_path_factory.mktemp("reflow-instance")
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    civicvote(["ballots", "open", str(demo_ballot_id(env))], env)
    seed = run_python(env, "-m", "tests.delivery.seed")
    with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
        tokens = [row["token"] for row in csv.DictReader(handle)]
    yes_no = yes_no_ballot(env, instance)
    server = Server(env, log_path=instance / "server.log")
    yield {
        "url": server.url,
        "tokens": tokens,
        "instance": instance,
        "funded": seed,
        "yes_no": yes_no,
    }
    server.stop()


def yes_no_ballot(env: dict, instance) -> list[str]:
    """An open yes/no ballot of three proposals in a community of its own; its cards' tokens."""
    app = create_app(test_config(env["CIVICVOTE_DATABASE_URL"], instance / "local"))
    with app.app_context():
        place = factories.community(slug="zhuxiang", name="逐项表决社区")
        funding_round = factories.funding_round(place)
        proposals = [
            factories.proposal(funding_round, title=title, cost_fen=cost, summary="为居民服务")
            for title, cost in (("楼道加装扶手", 3_000_000), ("老年食堂助餐", 5_000_000))
        ]
        ballot = factories.ballot(funding_round, proposals=proposals, method="yes_no")
        tokens = [factories.credential(ballot)[1] for _ in range(3)]
        db.session.remove()
        db.engine.dispose()
    return tokens


def pages(site) -> dict[str, str]:
    """Every resident and board page a resident reaches without a voter card (name -> path)."""
    funded = site["funded"]
    need, proposal = demo_records(site["instance"])
    with sqlite3.connect(site["instance"] / "civicvote.db") as connection:
        (round_id,) = connection.execute(
            "SELECT round_id FROM proposals WHERE id = ?", (funded["proposal_id"],)
        ).fetchone()
    done = f"/c/{funded['slug']}"
    return {
        "home": "/",
        "community": f"/c/{SLUG}",
        "needs": f"/c/{SLUG}/needs",
        "need": f"/c/{SLUG}/needs/{need[0]}",
        "need-form": f"/c/{INTAKE_SLUG}/needs/new",
        "need-closed": f"/c/{SLUG}/needs/new",
        "need-track": "/needs/track",
        "need-tracked": f"/needs/track/{need[1]}",
        "proposals": f"/c/{SLUG}/proposals",
        "proposal": f"/c/{SLUG}/proposals/{proposal[0]}",
        "vote-code": "/vote/code",
        "receipts": "/receipts",
        "log": f"/c/{SLUG}/log",
        "results": f"{done}/rounds/{round_id}/results",
        "projects": f"{done}/projects",
        "project": f"{done}/projects/{funded['proposal_id']}",
        "report": f"{done}/rounds/{round_id}/report",
        "board": f"/c/{SLUG}/board",  # a vote under way
        "board-portrait": f"/c/{SLUG}/board?layout=portrait",
        "board-results": f"{done}/board",  # no presenter: the screens rotate by themselves
    }


def open_context(chromium, mode: str):
    """A Chinese-speaking browser context in ``mode``, and its one page."""
    settings = MODES[mode]
    ctx = chromium.new_context(
        viewport=settings["viewport"],
        device_scale_factor=settings["device_scale_factor"],
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN"},
        bypass_csp=True,  # axe is injected; layout is the same
    )
    page = ctx.new_page()
    if settings["font"]:
        # The override lasts as long as the DevTools session: keep it with the context.
        ctx.font_session = ctx.new_cdp_session(page)
        enlarge_text(ctx, mode)
    return ctx, page


def enlarge_text(ctx, mode: str) -> None:
    """Set the default font size of ``mode`` for the context's page."""
    ctx.font_session.send("Page.setFontSizes", {"fontSizes": MODES[mode]["font"]})


def tall_screenshot(page, name: str) -> None:
    """The whole page under artifacts/screenshots/, taken with the viewport stretched to the
    page: Playwright's full-page screenshot drops the enlarged text of a tall page."""
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    screenshot(page, name)
    page.set_viewport_size(size)


# With 32 px default text, 20em in a media query is 640 px: a 360 px page matches it.
TEXT_ENLARGED_JS = "() => matchMedia('(max-width: 20em)').matches"


def check(page, axe_source: str, mode: str) -> list[str]:
    if MODES[mode]["font"]:
        assert page.evaluate(TEXT_ENLARGED_JS), f"text is not enlarged on {page.url}"
    found = page.evaluate(REFLOW_JS)
    return found + serious_violations(page, axe_source)


def ballot_walk(page, site, token: str):
    """A voter with enlarged text or a narrow screen: yields each page of the vote by card."""
    page.goto(f"{site['url']}/v/{token}")
    page.wait_for_url(re.compile(r"/ballots/\d+/vote"))
    yield "ballot-vote"
    page.locator(".ballot-option").first.click()
    with page.expect_navigation():
        page.locator("form.ballot-form button[type=submit]").click()
    yield "ballot-review"
    page.locator(".confirm-form button[name=confirm]").click()
    page.wait_for_url(re.compile(r"/ballots/\d+/done"))
    yield "ballot-done"


@pytest.mark.parametrize("mode", list(MODES))
def test_every_resident_and_board_page_reflows(chromium, axe_source, site, mode):
    ctx, page = open_context(chromium, mode)
    problems = {}
    for name, path in pages(site).items():
        response = page.goto(site["url"] + path)
        assert response.status == 200, (name, response.status)
        found = check(page, axe_source, mode)
        if not name.startswith("board"):  # a TV's layout fits its screen, not a text size
            found += page.evaluate(SMALL_TEXT_JS)
        if found:
            problems[name] = found
        if name in ("results", "project", "board"):  # stacked tables, for people to look at
            tall_screenshot(page, f"reflow-{name}-{mode}")
    token = site["tokens"][10 + list(MODES).index(mode)]
    for name in ballot_walk(page, site, token):
        found = check(page, axe_source, mode)
        if name == "ballot-vote":
            found += ballot_bar_problems(page)
            # For the handbook: the options, the second one chosen (the walk adds the first).
            page.locator(".ballot-option").nth(1).click()
            page.locator(".ballot-option").first.evaluate("(el) => el.scrollIntoView()")
            HANDBOOK_SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(HANDBOOK_SHOTS / f"reflow-ballot-{SHOT[mode]}.png"))
            tall_screenshot(page, f"reflow-ballot-{mode}")
        if found:
            problems[name] = found
    page.goto(f"{site['url']}/v/{site['yes_no'][list(MODES).index(mode)]}")
    page.wait_for_url(re.compile(r"/ballots/\d+/vote"))
    found = check(page, axe_source, mode)
    if found:
        problems["ballot-yes-no"] = found
    ctx.close()
    assert not problems, "\n".join(f"{name}: {found}" for name, found in problems.items())


STAFF = ("organizer", "clerk", "supervisor", "reviewer")
# Pages kept as screenshots (artifacts/screenshots/): each role's workbench, and the stacked
# tables of a ballot's count and the round's fund sources (the registry's 200 cards are too tall).
SHOWN_CONSOLES = {
    f"/console/c/{SLUG}": "workbench",
    f"/console/c/{SLUG}/ballots/1": "ballot",
    f"/console/c/{SLUG}/rounds/1": "round",
}
# Links the crawl does not follow: files to download, and leaving the console.
NOT_A_PAGE = re.compile(r"export|download|\.csv|\.pb|\.pdf|/print|logout")


def console_pages(page, base: str, limit: int = 80):
    """Every console page a staff member reaches by following links from their workbench,
    each kind of page (its path with numbers taken out) at most twice."""
    seen, kinds, queue = set(), {}, ["/console/c/" + SLUG, "/console"]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        kind = re.sub(r"\d+", "N", path)
        if path in seen or kinds.get(kind, 0) >= 2:
            continue
        seen.add(path)
        kinds[kind] = kinds.get(kind, 0) + 1
        response = page.goto(base + path)
        assert response.status == 200, (path, response.status)
        yield path
        for href in page.eval_on_selector_all(
            "main a[href^='/console']", "links => links.map(a => a.getAttribute('href'))"
        ):
            href = href.split("#")[0].split("?")[0]
            if href not in seen and not NOT_A_PAGE.search(href):
                queue.append(href)


@pytest.mark.parametrize("mode", list(MODES))
def test_every_staff_console_page_reflows(chromium, axe_source, site, mode):
    """A clerk at the desk, an organizer or a supervisor on a phone: every page of their
    consoles reflows like the residents' (tables of a few columns stack into cards)."""
    problems, visited = {}, 0
    for username in STAFF:
        ctx, page = open_context(chromium, mode)
        log_in(page, site["url"], username, DEMO_PASSWORD)
        for path in console_pages(page, site["url"]):
            visited += 1
            found = check(page, axe_source, mode)
            if found:
                problems[f"{username} {path}"] = found
            if path in SHOWN_CONSOLES:
                tall_screenshot(page, f"reflow-console-{SHOWN_CONSOLES[path]}-{username}-{mode}")
        ctx.close()
    assert visited >= 40, visited  # the crawl reached the consoles
    assert not problems, "\n".join(f"{name}: {found}" for name, found in problems.items())


BORDER_JS = "(el) => getComputedStyle(el).borderTopColor"
ERROR_RED = "rgb(163, 0, 27)"  # --accent: error messages and the primary button
NEUTRAL = "rgb(200, 200, 200)"


def test_a_choice_is_blue_with_a_tick_and_yes_no_cards_start_neutral(chromium, site):
    ctx = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{site['url']}/v/{site['yes_no'][2]}")
    cards = page.locator(".yes-no")
    assert cards.count() == 2
    assert [cards.nth(i).evaluate(BORDER_JS) for i in range(2)] == [NEUTRAL, NEUTRAL]
    cards.first.get_by_label("赞成").check()
    chosen = cards.first.evaluate(BORDER_JS)
    assert chosen not in (NEUTRAL, ERROR_RED)
    assert cards.nth(1).evaluate(BORDER_JS) == NEUTRAL
    cards.first.get_by_label("不表态").check()
    assert cards.first.evaluate(BORDER_JS) == NEUTRAL

    page.goto(f"{site['url']}/v/{site['tokens'][12]}")
    option = page.locator(".ballot-option").first
    tick = "(el) => getComputedStyle(el.querySelector('.option-title'), '::before').content"
    assert option.evaluate(tick) in ("none", "normal")
    option.click()
    assert option.evaluate(BORDER_JS) == chosen  # the same blue on every kind of ballot
    assert "✔" in option.evaluate(tick)  # not colour alone
    ctx.close()


def test_report_and_board_links_are_44px_on_a_phone(chromium, site):
    """The report's links (and the board read on a phone) are big enough to tap."""
    ctx = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = ctx.new_page()
    problems = {}
    for name in ("report", "results", "project"):
        page.goto(site["url"] + pages(site)[name])
        small = page.evaluate(SMALL_TARGETS_JS)
        if small:
            problems[name] = small
    ctx.close()
    assert not problems, problems


BACK_LINKS_JS = """
() => Array.from(document.querySelectorAll('main a'))
  .filter(a => a.closest('p.link-line') || a.textContent.trim().startsWith('←'))
  .map(a => [a.textContent.trim().slice(0, 30), a.getBoundingClientRect().height])
"""


def test_back_links_and_link_lines_are_44px_on_a_phone(chromium, site):
    """Back links ("← 社区") and the lines that are one link are tap targets on every resident
    page: each is at least 44 px high on a 360 px phone (the ``link-line`` class)."""
    ctx = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = ctx.new_page()
    seen, problems = 0, {}
    for name, path in pages(site).items():
        if name.startswith("board"):
            continue
        page.goto(site["url"] + path)
        links = page.evaluate(BACK_LINKS_JS)
        seen += sum(text.startswith("←") for text, _height in links)
        small = [(text, round(height)) for text, height in links if height < 43.5]
        if small:
            problems[name] = small
    ctx.close()
    assert seen >= 2, "no back link found: the pages changed, this test checks nothing"
    assert not problems, problems
