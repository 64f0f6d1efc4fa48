"""A resident reads the public log on a phone after the organizer opens the vote; the board
shows the signed head that was published."""

import pytest

from civicvote.extensions import db
from tests.browser.conftest import DEMO_PASSWORD, built_server, log_in, screenshot


@pytest.fixture(scope="module")
def logged_demo(tmp_path_factory):
    """The demo district with 70 public decisions on its needs already in the log."""
    from civicvote.accounts.models import User
    from civicvote.audit.services import record
    from civicvote.intake.models import Need

    def build():
        organizer = db.session.scalar(db.select(User).filter_by(username="organizer"))
        needs = list(db.session.scalars(db.select(Need).order_by(Need.id)))
        for n in range(70):
            need = needs[n % len(needs)]
            record(
                "need.accept",
                "need",
                need.id,
                actor=organizer,
                community_id=need.community_id,
                before={"status": "new"},
                after={"status": "accepted"},
                public=True,
            )
        db.session.commit()
        return {}

    yield from built_server(
        tmp_path_factory, "audit-instance", build, demo=True, share_instance=True
    )


def _lines(page, selector: str) -> list[tuple[float, float]]:
    """(width, lines) of each element: how wide it is and how many lines its text takes."""
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel)].map(el => {
            const box = el.getBoundingClientRect();
            const line = parseFloat(getComputedStyle(el).lineHeight);
            return [box.width, Math.round(box.height / line)];
        })""",
        selector,
    )


def test_a_resident_reads_the_log_on_a_phone(logged_demo, desktop, phone):
    base = logged_demo["url"]
    log_in(desktop, base, "organizer", DEMO_PASSWORD)
    desktop.goto(f"{base}/console/c/xingfuli/ballots")
    desktop.locator("main a[href*='/ballots/']").first.click()
    desktop.on("dialog", lambda dialog: dialog.accept())
    desktop.get_by_role("button", name="开启投票").click()
    desktop.wait_for_load_state()
    assert desktop.locator(".flash-success").is_visible()

    phone.goto(f"{base}/c/xingfuli/log")
    first = phone.locator(".audit-sentence").first
    assert first.inner_text() == "组织者 幸福里社区书记 开启了投票「2026年度居民议事会投票」"
    assert "/c/xingfuli/rounds/" in first.locator("a").get_attribute("href")
    assert phone.locator(".audit-entry").first.get_by_text("此时记录链头已签名公布").is_visible()
    sentences = _lines(phone, ".audit-sentence")
    assert len(sentences) == 50
    # Phone-wide prose, a few lines each: never a column one letter wide.
    assert all(width > 300 and lines <= 4 for width, lines in sentences), sentences
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert "第 1 页，共 2 页" in phone.locator(".pager").inner_text()
    screenshot(phone, "audit-log-zh")

    phone.get_by_role("link", name="较早").click()
    assert "page=2" in phone.url
    assert "第 2 页，共 2 页" in phone.locator(".pager").inner_text()
    assert phone.locator(".audit-sentence").count() > 0
    heads = phone.locator("#heads")
    heads.scroll_into_view_if_needed()
    assert heads.get_by_role("heading", name="最新链头").is_visible()
    assert all(width > 250 for width, _lines_ in _lines(phone, "#heads .chain-head p"))
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "audit-log-heads-zh")

    phone.goto(f"{base}/c/xingfuli/board")
    assert phone.locator(".chain-head").get_by_text("记录链头").is_visible()
