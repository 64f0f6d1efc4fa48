"""Staff at a laptop in the end-to-end tests: one browser they take turns on."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import locale_context

PASSWORD = "demo-password-2026"  # the demo staff's password
ADMIN = ("chief", "chief-password-2026")
LAPTOP = {"width": 1280, "height": 900}


class Staff:
    """One laptop browser that staff take turns on (log out, log in)."""

    def __init__(self, chromium, base: str):
        self.context = locale_context(chromium, "zh-CN", LAPTOP)
        self.page = self.context.new_page()
        self.page.on("dialog", lambda dialog: dialog.accept())  # "Are you sure?" confirmations
        self.base = base

    def login(self, username: str, password: str = PASSWORD):
        page = self.page
        self.context.clear_cookies()
        page.goto(self.base + "/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(re.compile(r".*/console.*|.*/admin.*"))
        return page

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page


def flash(page, text: str):
    """Wait for the flashed message holding ``text``."""
    flashes = page.locator(".flashes, [role=status], .flash")
    expect(flashes.filter(has_text=text).first).to_be_visible()
