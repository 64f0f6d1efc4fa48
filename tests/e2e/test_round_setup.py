"""Setting up from an empty database, in Chromium against a real gunicorn server.

The administrator adds a community and its organizer; the organizer starts the year's round,
chooses how votes are counted and adds a foundation's restricted money and a matching donor;
residents then see the round and its money on the community's public page (phone size).
Screenshots: artifacts/screenshots/e2e-00*.png (the handbook's first section).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import locale_context, screenshot
from tests.e2e.staff import ADMIN, Staff, flash
from tests.servers import Server, civicvote, server_env

pytestmark = pytest.mark.browser

ORGANIZER = ("xinhe-organizer", "xinhe-password-2026")


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    """A migrated, empty database with only the first administrator."""
    instance = tmp_path_factory.mktemp("setup-instance")
    env = server_env(instance, CIVICVOTE_RATELIMIT_LOGIN="100 per minute")
    civicvote(["db", "upgrade"], env)
    civicvote(["create-admin", "--username", ADMIN[0], "--password", ADMIN[1]], env)
    server = Server(env, log_path=instance / "server.log")
    yield server
    server.stop()


def _form(page, button: str):
    return page.locator("form").filter(has=page.get_by_role("button", name=button))


def test_a_community_and_its_round_are_set_up_through_the_screens(empty_server, chromium):
    staff = Staff(chromium, empty_server.url)

    # The administrator adds the community, an organizer account and the organizer's role.
    page = staff.login(*ADMIN)
    staff.go("/admin/communities")
    expect(page.get_by_text("还没有社区。")).to_be_visible()
    page.get_by_label("社区名称").fill("新河社区")
    page.get_by_label("网址和海报用的简称").fill("Xin He")
    page.get_by_label("所属区、街道").fill("姑苏区 沧浪街道")
    page.get_by_role("button", name="新增社区").click()
    flash(page, "简称只能使用小写字母")
    page.get_by_label("网址和海报用的简称").fill("xinhe")
    page.get_by_role("button", name="新增社区").click()
    flash(page, "已新增社区：新河社区。")
    screenshot(page, "e2e-00a-admin-communities")
    staff.go("/admin/users")
    account = _form(page, "创建账号")
    account.get_by_label("用户名").fill(ORGANIZER[0])
    account.get_by_label("显示名称").fill("王书记")
    account.get_by_label("密码").fill(ORGANIZER[1])
    account.get_by_role("button", name="创建账号").click()
    flash(page, "账号已创建。")
    grant = _form(page, "授予角色")
    grant.get_by_label("用户名").fill(ORGANIZER[0])
    grant.get_by_label("社区").select_option(label="新河社区")
    grant.get_by_label("角色").select_option("organizer")
    grant.get_by_role("button", name="授予角色").click()
    flash(page, "角色已授予。")

    # The organizer starts the round.
    page = staff.login(*ORGANIZER)
    staff.go("/console/c/xinhe")
    page.get_by_role("link", name="开始新的年度").click()
    page.get_by_label("年度名称").fill("2027年度社区微基金")
    page.get_by_label("总预算（元）").fill("200000")
    page.get_by_label("出资的社区资金名称").fill("为民服务专项资金")
    page.get_by_label("类别，每行一个").fill("elderly = 为老服务\ngreening = 环境绿化")
    screenshot(page, "e2e-00b-new-round")
    page.get_by_role("button", name="开始这个年度").click()
    flash(page, "新年度已开始")
    expect(page).to_have_url(re.compile(r"/console/c/xinhe/rounds/\d+$"))

    # How votes are counted: the Method of Equal Shares, ten days of notice.
    counting = _form(page, "保存计票与分配方式")
    counting.get_by_label("分配规则").select_option("mes")
    counting.get_by_label("公示天数（可提出异议）").fill("10")
    counting.get_by_role("button", name="保存计票与分配方式").click()
    flash(page, "计票与分配方式已保存。")
    expect(_form(page, "保存计票与分配方式").get_by_label("分配规则")).to_have_value("mes")

    # The foundation's money for elderly care, then a matching donor. The spoken shorthand
    # 三万五 (35,000, literally 30,005) is refused rather than guessed.
    add = _form(page, "添加资金来源")
    add.get_by_label("资金名称").fill("幸福里社区基金会")
    add.get_by_label("类型").select_option("restricted")
    add.get_by_label("金额（元）", exact=True).fill("三万五")
    add.get_by_label("为老服务").check()
    add.get_by_role("button", name="添加资金来源").click()
    # Refused at the field, which says how to write an amount.
    expect(page.locator(".field-error").filter(has_text="1200").first).to_be_visible()
    add = _form(page, "添加资金来源")
    add.get_by_label("金额（元）", exact=True).fill("三万")  # as people say it
    add.get_by_label("为老服务").check()
    add.get_by_role("button", name="添加资金来源").click()
    flash(page, "资金来源已添加。")
    add = _form(page, "添加资金来源")
    add.get_by_label("资金名称").fill("共建单位配捐")
    add.get_by_label("类型").select_option("matching")
    add.get_by_label("金额（元）", exact=True).fill("50000")
    add.get_by_label("配捐：居民资金每 100 元追加的金额（元）").fill("100")
    add.get_by_label("出资方（公开显示）").fill("苏州某银行")
    add.get_by_role("button", name="添加资金来源").click()
    flash(page, "资金来源已添加。")
    table = page.locator("#sources + .table-scroll table")
    expect(table).to_contain_text("合计 ¥280,000.00")
    expect(table).to_contain_text("按居民资金的 100% 配捐")
    page.locator("#sources").scroll_into_view_if_needed()
    screenshot(page, "e2e-00c-fund-sources")

    # Residents see the round and its money.
    phone = locale_context(chromium, "zh-CN", {"width": 360, "height": 740}).new_page()
    phone.goto(empty_server.url + "/c/xinhe")
    expect(phone.locator("main")).to_contain_text("2027年度社区微基金")
    expect(phone.locator("main")).to_contain_text("幸福里社区基金会")
    screenshot(phone, "e2e-00d-community-public")
    phone.context.close()
    staff.context.close()
