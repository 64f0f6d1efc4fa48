"""An organizer sets up a ballot in the console, opens it, and sees the count."""

import pytest

from tests import factories
from tests.browser.conftest import built_server, log_in, screenshot


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    def build():
        community = factories.community(slug="xingfu", name="幸福社区")
        factories.user("organizer", roles=[(community, "organizer")])
        funding_round = factories.funding_round(community)
        for title, cost in (("楼道加装扶手", 3_000_000), ("老年食堂助餐", 5_000_000)):
            factories.proposal(funding_round, title=title, cost_fen=cost)
        return {"round": funding_round.id}

    yield from built_server(tmp_path_factory, "console-instance", build)


def test_organizer_creates_and_opens_a_ballot(console, desktop):
    base = console["url"]
    log_in(desktop, base, "organizer")
    desktop.goto(f"{base}/console/c/xingfu/rounds/{console['round']}/ballots/new")
    desktop.fill("input[name=title]", "2026年度居民投票")
    desktop.select_option("select[name=method]", "knapsack")
    desktop.fill("input[name=budget_yuan]", "60000")
    for box in desktop.locator("input[name=proposals]").all():
        box.check()
    screenshot(desktop, "ballot-console-new")
    desktop.locator("form.form button[type=submit]").click()
    assert "/console/c/xingfu/ballots/" in desktop.url
    desktop.on("dialog", lambda dialog: dialog.accept())
    desktop.locator("form[data-confirm] button").first.click()
    desktop.wait_for_load_state()
    assert desktop.locator(".flash-success").is_visible()
    screenshot(desktop, "ballot-console-open")
    # The edit form now says the rules are locked.
    desktop.goto(desktop.url.rstrip("/") + "/edit")
    assert desktop.locator("p.flash[role=status]").is_visible()
