"""Attack 7 (issue 14): one phone passed from resident to resident. Each card opens its own
ballot; a receipt is shown only to the browser session of the card that cast it."""

import re

import pytest

from tests import factories
from tests.browser.conftest import PHONE
from tests.secrecy.attack import browser, vote_web


def _receipt(page: str) -> str | None:
    found = re.search(r'id="receipt-code">([A-Z0-9-]+)<', page)
    return found.group(1) if found else None


def test_one_session_many_cards(app):
    ballot = factories.ballot()
    _, token_a, _ = factories.credential(ballot)
    _, token_b, _ = factories.credential(ballot)
    phone = browser(app)
    vote_web(app, ballot, token_a, [ballot.items[0].proposal_id], client=phone)
    receipt_a = _receipt(phone.get(f"/ballots/{ballot.id}/done").get_data(as_text=True))
    assert receipt_a
    phone.get(f"/v/{token_b}")
    page = phone.get(f"/ballots/{ballot.id}/vote").get_data(as_text=True)
    assert 'name="selection"' in page and receipt_a not in page
    assert receipt_a not in phone.get(f"/ballots/{ballot.id}/done").get_data(as_text=True)
    vote_web(app, ballot, token_b, [ballot.items[1].proposal_id], client=phone)
    receipt_b = _receipt(phone.get(f"/ballots/{ballot.id}/done").get_data(as_text=True))
    assert receipt_b and receipt_b != receipt_a


@pytest.mark.browser
def test_one_browser_resident_b_gets_a_ballot_not_as_receipt(shared_phone_server, chromium):
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    phone = context.new_page()
    url, (token_a, token_b) = shared_phone_server["url"], shared_phone_server["tokens"][:2]
    phone.goto(f"{url}/v/{token_a}")
    phone.locator(".ballot-option").first.click()
    phone.locator("form.ballot-form button[type=submit]").click()
    phone.locator(".confirm-form button[name=confirm]").click()
    receipt_a = phone.locator("#receipt-code").inner_text()
    assert receipt_a
    phone.goto(f"{url}/v/{token_b}")
    assert phone.locator(".ballot-option").count() == 3
    assert receipt_a not in phone.content()
    phone.locator(".ballot-option").nth(1).click()
    phone.locator("form.ballot-form button[type=submit]").click()
    phone.locator(".confirm-form button[name=confirm]").click()
    receipt_b = phone.locator("#receipt-code").inner_text()
    assert receipt_b and receipt_b != receipt_a
    context.close()
