"""The home page, login and a public community page in real Chromium on a phone."""

from tests.browser.conftest import screenshot


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_home_in_chinese_on_a_phone(demo_server, phone):
    phone.goto(demo_server.url + "/")
    assert phone.locator("html").get_attribute("lang") == "zh-Hans"
    assert phone.get_by_role("heading", level=1).inner_text() == "社区资金怎么花，居民说了算"
    assert phone.get_by_role("link", name="幸福里社区").is_visible()
    assert _no_horizontal_scroll(phone)
    screenshot(phone, "home-zh")


def test_language_switcher_changes_the_page(demo_server, phone):
    phone.goto(demo_server.url + "/")
    phone.get_by_role("link", name="English").click()
    assert phone.locator("html").get_attribute("lang") == "en"
    assert "Residents decide" in phone.get_by_role("heading", level=1).inner_text()
    screenshot(phone, "home-en")
    phone.get_by_role("link", name="中文").click()
    assert phone.locator("html").get_attribute("lang") == "zh-Hans"


def test_community_page_shows_money_in_yuan(demo_server, phone_en):
    phone_en.goto(demo_server.url + "/c/xingfuli")
    text = phone_en.locator("main").inner_text()
    assert "¥200,000.00" in text
    assert _no_horizontal_scroll(phone_en)
    screenshot(phone_en, "community-en")


def test_organizer_logs_in_and_is_scoped(demo_server, phone):
    phone.goto(demo_server.url + "/console/c/fengqiao")
    assert "/login" in phone.url
    phone.get_by_label("用户名").fill("organizer")
    phone.get_by_label("密码").fill("demo-password-2026")
    phone.get_by_role("button", name="登录").click()
    # Back to the page asked for: another community's console, which this organizer may not see.
    assert phone.get_by_role("heading", name="抱歉").is_visible()
    phone.goto(demo_server.url + "/console/c/xingfuli")
    assert phone.get_by_role("heading", level=1).inner_text() == "组织者工作台"
    screenshot(phone, "console-zh")


def test_wrong_password_shows_a_message(demo_server, phone):
    phone.goto(demo_server.url + "/login")
    phone.get_by_label("用户名").fill("organizer")
    phone.get_by_label("密码").fill("wrong")
    phone.get_by_role("button", name="登录").click()
    assert phone.get_by_role("alert").inner_text() == "用户名或密码错误。"
    screenshot(phone, "login-error-zh")


def test_tap_targets_are_large_enough(demo_server, phone):
    phone.goto(demo_server.url + "/login")
    small = phone.evaluate("""() => [...document.querySelectorAll('a, button, input, select')]
        .filter(el => el.offsetParent !== null && !el.closest('p, li, td, dd'))
        .map(el => [el.outerHTML.slice(0, 60), el.getBoundingClientRect().height])
        .filter(([, h]) => h < 44)""")
    assert small == []
