"""Accessibility of every resident-facing and board page, in Chinese and English.

* axe-core (from the npm registry, ``npm ci`` at the repository root; injected by the test, never
  from a CDN) finds no serious or critical violation on any page;
* tap targets are at least 44 px on a 360 x 740 phone;
* pages reflow at 200% zoom (a 1280 x 720 screen at 200% is 640 x 360 CSS pixels): no horizontal
  scrolling, and the page's primary button is visible and clickable;
* the resident ballot page (HTML + CSS + JS + fonts) weighs under 150 KB transferred.

axe is injected into contexts that bypass the CSP (the app allows only its own scripts); the
other checks run in normal contexts, as residents' browsers see the pages.
"""

import csv
import re

import pytest

from tests.browser.conftest import screenshot
from tests.servers import Server, civicvote, server_env

pytestmark = [pytest.mark.browser, pytest.mark.a11y]

PHONE = {"width": 360, "height": 740}
ZOOMED = {"width": 640, "height": 360}  # 1280 x 720 at 200%
LOCALES = ("zh-CN", "en")
SLUG = "xingfuli"  # the demo community whose ballot is opened here
INTAKE_SLUG = "fengqiao"  # the demo community whose round collects needs
MAX_BALLOT_PAGE_BYTES = 150 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo district with its ballot open, served by gunicorn; the voter cards' tokens."""
    instance = tmp_path_factory.mktemp("a11y-instance")
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    civicvote(["ballots", "open", "1"], env)
    with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
        tokens = [row["token"] for row in csv.DictReader(handle)]
    server = Server(env, log_path=instance / "server.log")
    yield {"url": server.url, "tokens": tokens, "instance": instance}
    server.stop()


def context(chromium, locale: str, viewport: dict, **options):
    return chromium.new_context(
        viewport=viewport,
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
        **options,
    )


def demo_records(instance) -> tuple[tuple, tuple]:
    """An accepted need (id, tracking code) and an approved proposal (id,) of the demo's SLUG."""
    import sqlite3

    with sqlite3.connect(instance / "civicvote.db") as connection:
        need = connection.execute(
            "SELECT n.id, n.tracking_code FROM needs n JOIN communities c "
            "ON c.id = n.community_id WHERE c.slug = ? AND n.status = 'accepted' LIMIT 1",
            (SLUG,),
        ).fetchone()
        proposal = connection.execute(
            "SELECT p.id FROM proposals p JOIN funding_rounds r ON r.id = p.round_id "
            "JOIN communities c ON c.id = r.community_id WHERE c.slug = ? "
            "AND p.status = 'approved' LIMIT 1",
            (SLUG,),
        ).fetchone()
    return need, proposal


def public_pages(site) -> dict[str, str]:
    """Resident-facing pages reachable without a voter card (name -> path)."""
    need, proposal = demo_records(site["instance"])
    return {
        "home": "/",
        "community": f"/c/{SLUG}",
        "needs": f"/c/{SLUG}/needs",
        "need-new": f"/c/{SLUG}/needs/new",  # this round is past intake: the closed notice
        "need-form": f"/c/{INTAKE_SLUG}/needs/new",  # a round collecting needs: the form
        "need": f"/c/{SLUG}/needs/{need[0]}",
        "need-track": "/needs/track",
        "need-tracked": f"/needs/track/{need[1]}",
        "proposals": f"/c/{SLUG}/proposals",
        "proposal": f"/c/{SLUG}/proposals/{proposal[0]}",
        "vote-code": "/vote/code",
        "receipts": "/receipts",
        "projects": f"/c/{SLUG}/projects",
        "public-record": f"/c/{SLUG}/log",
        "login": "/login",
    }


def serious_violations(page, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert results["passes"], "axe checked nothing"
    found = []
    for violation in results["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [", ".join(node["target"]) for node in violation["nodes"][:4]]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def ballot_pages(page, site, token: str):
    """Walk a voter through the ballot: yields (name, page) at the vote, review and done pages."""
    page.goto(f"{site['url']}/v/{token}")
    page.wait_for_url(re.compile(r"/ballots/\d+/vote"))
    yield "ballot-vote"
    page.locator(".ballot-option").first.click()
    page.locator("form.ballot-form button[type=submit]").click()
    page.wait_for_load_state()
    yield "ballot-review"
    page.locator(".confirm-form button[name=confirm]").click()
    page.wait_for_url(re.compile(r"/ballots/\d+/done"))
    yield "ballot-done"


@pytest.mark.parametrize("locale", LOCALES)
def test_axe_finds_no_serious_violation(chromium, axe_source, site, locale):
    problems = {}
    ctx = context(chromium, locale, PHONE, bypass_csp=True)
    page = ctx.new_page()
    for name, path in public_pages(site).items():
        response = page.goto(site["url"] + path)
        assert response.status == 200, (name, response.status)
        found = serious_violations(page, axe_source)
        if found:
            problems[name] = found
    token = site["tokens"][LOCALES.index(locale)]
    for name in ballot_pages(page, site, token):
        found = serious_violations(page, axe_source)
        if found:
            problems[name] = found
    ctx.close()

    board = context(chromium, locale, {"width": 1280, "height": 720}, bypass_csp=True)
    page = board.new_page()
    page.goto(f"{site['url']}/c/{SLUG}/board")
    found = serious_violations(page, axe_source)
    if found:
        problems["board"] = found
    board.close()
    assert not problems, "\n".join(f"{name}: {found}" for name, found in problems.items())


SMALL_TARGETS_JS = """
() => {
  const small = [];
  const seen = new Set();
  const controls = document.querySelectorAll(
    'main a, header a, nav a, button, input:not([type=hidden]), select, textarea, summary,' +
    ' [role=button]'
  );
  for (const element of controls) {
    let target = element;
    // A checkbox or radio is tapped through its label; a link inside running text is exempt.
    if (element.matches('input[type=checkbox], input[type=radio]')) {
      target = element.closest('label') || document.querySelector(`label[for="${element.id}"]`);
      if (!target) { target = element; }
    } else if (element.matches('a') && element.closest('p, li, td, dd') &&
               !element.matches('.button, nav a, header a')) {
      const block = element.closest('p, li, td, dd');
      if (block.textContent.trim().length > element.textContent.trim().length + 2) { continue; }
    }
    if (seen.has(target)) { continue; }
    seen.add(target);
    const box = target.getBoundingClientRect();
    const style = getComputedStyle(target);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') { continue; }
    if (box.height < 43.5 || box.width < 43.5) {
      small.push(`${target.tagName.toLowerCase()}.${target.className || ''} ` +
                 `"${(target.textContent || target.value || '').trim().slice(0, 30)}" ` +
                 `${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}
"""


@pytest.mark.parametrize("locale", LOCALES)
def test_tap_targets_are_at_least_44px_on_a_phone(chromium, site, locale):
    ctx = context(chromium, locale, PHONE)
    page = ctx.new_page()
    problems = {}
    pages = {k: v for k, v in public_pages(site).items() if k != "login"}
    for name, path in pages.items():
        page.goto(site["url"] + path)
        small = page.evaluate(SMALL_TARGETS_JS)
        if small:
            problems[name] = small
    token = site["tokens"][2 + LOCALES.index(locale)]
    for name in ballot_pages(page, site, token):
        small = page.evaluate(SMALL_TARGETS_JS)
        if small:
            problems[name] = small
    ctx.close()
    assert not problems, "\n".join(f"{name}: {small}" for name, small in problems.items())


NO_HORIZONTAL_SCROLL_JS = """
() => {
  const main = document.querySelector('main') || document.body;
  return {
    page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    main: main.scrollWidth - main.clientWidth,
  };
}
"""


@pytest.mark.parametrize("locale", LOCALES)
def test_pages_reflow_at_200_percent_zoom(chromium, site, locale):
    ctx = context(chromium, locale, ZOOMED, device_scale_factor=2)
    page = ctx.new_page()
    problems = {}

    def check(name: str, primary: str | None = None) -> None:
        overflow = page.evaluate(NO_HORIZONTAL_SCROLL_JS)
        if overflow["page"] > 0 or overflow["main"] > 0:
            problems[name] = f"scrolls sideways by {overflow}"
        if primary and page.locator(primary).count():
            button = page.locator(primary).first
            button.scroll_into_view_if_needed()
            if not button.is_visible():
                problems[name] = f"primary button {primary} not visible"
            else:
                button.click(trial=True)  # fails if covered or out of reach

    for name, path in public_pages(site).items():
        page.goto(site["url"] + path)
        check(name, "main .button.primary, main button[type=submit]")
    token = site["tokens"][4 + LOCALES.index(locale)]
    for name in ballot_pages(page, site, token):
        primary = {
            "ballot-vote": "form.ballot-form button[type=submit]",
            "ballot-review": ".confirm-form button[name=confirm]",
        }.get(name)
        if primary:
            assert page.locator(primary).count(), f"{name}: no {primary}"
        check(name, primary)
        if name == "ballot-vote":
            screenshot(page, f"a11y-ballot-zoom200-{locale}")
    ctx.close()
    assert not problems, "\n".join(f"{name}: {what}" for name, what in problems.items())


def test_ballot_page_weighs_under_150_kb(chromium, site):
    ctx = context(chromium, "zh-CN", PHONE)
    page = ctx.new_page()
    page.goto(f"{site['url']}/v/{site['tokens'][6]}")  # sets the voter's session
    page.wait_for_url(re.compile(r"/ballots/\d+/vote"))
    ballot_url = page.url

    # A new page of the same session, with the cache off, so everything is transferred again;
    # CDP reports the bytes on the wire (headers included) of each response.
    fresh = ctx.new_page()
    cdp = ctx.new_cdp_session(fresh)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    kinds, sizes = {}, {}
    cdp.on(
        "Network.responseReceived",
        lambda event: kinds.__setitem__(
            event["requestId"], (event["type"], event["response"]["url"])
        ),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda event: sizes.__setitem__(event["requestId"], event["encodedDataLength"]),
    )
    fresh.goto(ballot_url, wait_until="networkidle")
    ctx.close()

    counted = {
        kinds[rid][1]: size
        for rid, size in sizes.items()
        if rid in kinds and kinds[rid][0] in ("Document", "Stylesheet", "Script", "Font")
    }
    types = {kinds[rid][0] for rid in sizes if rid in kinds}
    assert {"Document", "Stylesheet"} <= types, kinds
    total = sum(counted.values())
    print(f"ballot page: {total} bytes transferred: {counted}")
    assert total < MAX_BALLOT_PAGE_BYTES, f"{total} bytes: {counted}"
