"""An organizer picks each voting method in Chromium, sees only that method's settings, and
creates the ballot; the same works with JavaScript turned off (the method is a GET step).
A resident's yes/no and points ballots show each proposal's summary and its full budget."""

import pytest
from flask import current_app

from civicvote.ballots.forms import ALL_METHOD_FIELDS, METHOD_FIELDS
from civicvote.ballots.models import Ballot
from civicvote.extensions import db
from tests import factories
from tests.browser.conftest import built_server, screenshot

# What the organizer types in each method's own fields.
TYPED = {"budget_yuan": "6万", "points_total": "5", "min_choices": "1", "max_choices": "2"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    def build():
        community = factories.community(slug="xingfu", name="幸福社区")
        factories.user("organizer", roles=[(community, "organizer")])
        funding_round = factories.funding_round(community)
        proposals = [
            factories.proposal(funding_round, title=title, cost_fen=cost, summary=summary)
            for title, cost, summary in (
                ("楼道加装扶手", 3_000_000, "在3栋和5栋楼道两侧加装不锈钢扶手，方便老人上下楼。"),
                ("老年食堂助餐", 5_000_000, "为80岁以上独居老人每周送餐五次。"),
            )
        ]
        data = {"round": funding_round.id, "app": current_app._get_current_object(), "tokens": {}}
        for method, extra in (("yes_no", {}), ("cumulative", {"points_total": 5})):
            ballot = factories.ballot(
                funding_round, proposals=proposals, method=method, title=method, **extra
            )
            data["tokens"][method] = factories.credential(ballot)[1]
        return data

    yield from built_server(tmp_path_factory, "ballot-methods", build)


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def organizer(chromium, site, request):
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN"},
        java_script_enabled=request.param,
    )
    page = context.new_page()
    page.goto(f"{site['url']}/login")
    page.fill("input[name=username]", "organizer")
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    yield page, request.param
    context.close()


def _stored(site, title: str) -> Ballot:
    with site["app"].app_context():
        ballot = db.session.scalar(db.select(Ballot).filter_by(title=title))
        db.session.expunge_all()
        db.session.remove()
        return ballot


@pytest.mark.parametrize("method", list(METHOD_FIELDS))
def test_each_method_shows_only_its_fields_and_creates_the_ballot(site, organizer, method):
    page, js = organizer
    page.goto(f"{site['url']}/console/c/xingfu/rounds/{site['round']}/ballots/new")
    # Step 1: the method alone.
    for name in ("title", *ALL_METHOD_FIELDS):
        assert page.locator(f"[name={name}]").count() == 0
    page.get_by_role("radio").nth(list(METHOD_FIELDS).index(method)).check()
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    # Step 2: only this method's settings, each with its label.
    shown = {name for name in ALL_METHOD_FIELDS if page.locator(f"[name={name}]").count()}
    assert shown == set(METHOD_FIELDS[method])
    for name in shown:
        label = page.locator(f"label[for={name}]")
        assert label.is_visible() and label.inner_text().strip()
    title = f"{method} {'js' if js else 'no-js'}"
    page.fill("input[name=title]", title)
    for name in shown:
        page.fill(f"input[name={name}]", TYPED[name])
    for box in page.locator("input[name=proposals]").all():
        box.check()
    screenshot(page, f"ballot-form-{method}-{'js' if js else 'nojs'}")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/console/c/xingfu/ballots/" in page.url, page.content()[:2000]
    ballot = _stored(site, title)
    assert ballot.method == method
    assert (ballot.budget_fen == 6_000_000) is ("budget_yuan" in shown)
    assert (ballot.points_total == 5) is ("points_total" in shown)
    assert (ballot.max_choices == 2) is ("max_choices" in shown)


@pytest.mark.parametrize("method", ["yes_no", "cumulative"])
def test_a_residents_ballot_shows_summaries_and_links_to_the_full_budget(site, phone, method):
    phone.goto(f"{site['url']}/v/{site['tokens'][method]}")
    options = phone.locator(".ballot-option")
    assert options.count() == 2
    assert "不锈钢扶手" in options.first.inner_text()  # the summary
    link = phone.locator("a.option-more").first
    assert link.is_visible() and link.bounding_box()["height"] >= 44
    screenshot(phone, f"ballot-items-{method}")
    if method == "yes_no":
        # Everything left at "不表态": the refusal speaks of taking a stand, not of choosing.
        phone.locator("form.ballot-form button[type=submit]").click()
        phone.wait_for_load_state()
        error = phone.locator("#ballot-error").inner_text()
        assert "表态" in error and "选择一个项目" not in error
    link.click()
    phone.wait_for_load_state()
    assert "/proposals/" in phone.url and phone.locator("#budget table").is_visible()
