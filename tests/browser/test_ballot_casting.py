"""A resident votes on a phone: personal link -> ballot -> review -> confirm -> receipt."""

import pytest
from flask import current_app
from playwright.sync_api import expect

from civicvote.extensions import db
from tests import factories
from tests.browser.conftest import PHONE, built_server, screenshot


@pytest.fixture(scope="module")
def voting(tmp_path_factory):
    """A server over a fresh database with an approval and a knapsack ballot, and voter cards."""

    def build():
        community = factories.community(name="幸福社区")
        funding_round = factories.funding_round(community)
        _proposals, approval, knapsack = factories.approval_and_knapsack(funding_round)
        tokens = {
            "approval": [factories.credential(approval)[1] for _ in range(6)],
            "knapsack": [factories.credential(knapsack)[1] for _ in range(3)],
        }
        app = current_app._get_current_object()  # the tests read the database through it
        return {"approval": approval.id, "knapsack": knapsack.id, "tokens": tokens, "app": app}

    yield from built_server(tmp_path_factory, "ballot-instance", build)


def tall_screenshot(page, name: str) -> None:
    """A full-page screenshot taken with the viewport stretched to the page, so the sticky
    running-total bar sits where a voter scrolling to the end would see it."""
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    screenshot(page, name)
    page.set_viewport_size(size)


def stored_ballots(voting, ballot_id: int) -> int:
    with voting["app"].app_context():
        count = factories.stored_count(ballot_id)  # sealed while the ballot is open
        db.engine.dispose()
        return count


def test_link_to_receipt_in_three_taps(voting, phone):
    token = voting["tokens"]["approval"][0]
    phone.goto(f"{voting['url']}/v/{token}")
    assert token not in phone.url
    assert phone.url.endswith(f"/ballots/{voting['approval']}/vote?opened=1")
    tall_screenshot(phone, "ballot-approval-phone")
    phone.locator(".ballot-option").first.click()  # tap 1: choose
    assert "1" in phone.locator("#ballot-total").inner_text()
    phone.locator("form.ballot-form button[type=submit]").click()  # tap 2: review
    screenshot(phone, "ballot-review-phone")
    phone.locator(".confirm-form button[name=confirm]").click()  # tap 3: confirm
    receipt = phone.locator("#receipt-code").inner_text()
    assert len(receipt.replace("-", "")) == 12
    screenshot(phone, "ballot-receipt-phone")
    assert stored_ballots(voting, voting["approval"]) >= 1
    # The token never reached the server's log.
    log = voting["log"].read_text()
    assert token not in log and "/v/…" in log
    # The public lookup says "counted".
    phone.goto(f"{voting['url']}/receipts?code={receipt}")
    assert phone.locator(".flash-success").is_visible()


def test_knapsack_over_budget_is_refused_with_the_message(voting, phone):
    phone.goto(f"{voting['url']}/v/{voting['tokens']['knapsack'][0]}")
    options = phone.locator(".ballot-option")
    for i in range(3):
        options.nth(i).click()
    total = phone.locator("#ballot-total")
    assert "over" in (total.get_attribute("class") or "")
    assert "¥120,000.00" in total.inner_text()
    phone.locator("form.ballot-form button[type=submit]").click()
    error = phone.locator("#ballot-error")
    assert error.is_visible()
    assert "¥80,000.00" in error.inner_text()
    tall_screenshot(phone, "ballot-knapsack-over-budget-phone")
    # Removing one proposal brings it within the budget, and the vote goes through.
    options.nth(1).click()
    assert "over" not in (phone.locator("#ballot-total").get_attribute("class") or "")
    phone.locator("form.ballot-form button[type=submit]").click()
    phone.locator(".confirm-form button[name=confirm]").click()
    expect(phone.locator("#receipt-code")).to_be_visible()  # waits for the page under load


def test_ballot_works_without_javascript(voting, chromium):
    context = chromium.new_context(
        viewport=PHONE,
        locale="en",
        java_script_enabled=False,
        extra_http_headers={"Accept-Language": "en"},
    )
    page = context.new_page()
    try:
        before = stored_ballots(voting, voting["approval"])
        page.goto(f"{voting['url']}/v/{voting['tokens']['approval'][1]}")
        page.locator(".ballot-option").nth(2).click()
        page.get_by_role("button", name="Review my vote").click()
        expect(page.get_by_text("Your vote is not recorded yet")).to_be_visible()
        page.get_by_role("button", name="Confirm my vote").click()
        expect(page.locator("#receipt-code")).to_be_visible()
        screenshot(page, "ballot-receipt-no-js-en")
        assert stored_ballots(voting, voting["approval"]) == before + 1
    finally:
        context.close()


def test_leaving_an_unconfirmed_selection_warns(voting, phone):
    phone.goto(f"{voting['url']}/v/{voting['tokens']['approval'][2]}")
    phone.locator(".ballot-option").first.click()
    with phone.expect_event("dialog") as caught:
        phone.close(run_before_unload=True)
    assert caught.value.type == "beforeunload"
    caught.value.accept()
