"""Delivery in Chromium: a supervisor signs off a milestone; a resident rates from a phone."""

from datetime import date

import pytest

from tests.browser.conftest import log_in, screenshot, seeded_server


@pytest.fixture(scope="module")
def project_server(tmp_path_factory):
    yield from seeded_server(tmp_path_factory, "delivery-instance", "tests.delivery.seed")


def _login(page, server, role):
    log_in(page, server, server.seed["users"][role], server.seed["password"])


def test_supervisor_signs_off_a_milestone(project_server, chromium):
    seed = project_server.seed
    console = f"{project_server.url}/console/c/{seed['slug']}/projects/{seed['proposal_id']}"
    context = chromium.new_context(viewport={"width": 1024, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _login(page, project_server, "member")
    page.goto(console)
    page.get_by_label("节点").fill("树苗种植完成")
    page.get_by_label("计划日期").fill("2026-03-01")
    page.get_by_role("button", name="添加节点").click()
    assert page.get_by_role("status").inner_text() == "节点已添加。"
    page.get_by_label("完成日期").fill(date.today().isoformat())
    page.get_by_role("button", name="标记为已完成").click()
    page.get_by_role("button", name="退出登录").click()

    _login(page, project_server, "supervisor")
    page.goto(console)
    page.get_by_label("意见（公开）").first.fill("已到现场查看，树苗成活。")
    screenshot(page, "delivery-supervisor-before-signoff")
    page.get_by_role("button", name="验收该节点").click()
    assert page.get_by_role("status").inner_text() == "节点已验收。"
    page.goto(f"{project_server.url}/c/{seed['slug']}/projects/{seed['proposal_id']}")
    assert "已到现场查看，树苗成活。" in page.locator("main").inner_text()
    screenshot(page, "delivery-project-public")
    context.close()


def test_resident_rates_a_project_from_a_phone(project_server, chromium, phone):
    seed = project_server.seed
    # The implementer reports completion first.
    context = chromium.new_context(viewport={"width": 1024, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _login(page, project_server, "member")
    page.goto(f"{project_server.url}/console/c/{seed['slug']}/projects/{seed['proposal_id']}")
    page.get_by_label("结项报告").fill("全部完成：种树10棵，座椅2组。")
    page.get_by_role("button", name="提交结项报告").click()
    context.close()

    phone.goto(f"{project_server.url}/c/{seed['slug']}/projects/{seed['proposal_id']}")
    phone.get_by_role("link", name="为这个项目打分").click()
    phone.get_by_label("您的投票卡代码").fill(seed["short"])
    phone.get_by_label("4 · 满意").check()
    phone.get_by_label("意见（选填）").fill("树荫多了，谢谢！")
    screenshot(phone, "delivery-rate-phone")
    phone.get_by_role("button", name="保存我的评分").click()
    assert "您的评分已保存" in phone.get_by_role("status").inner_text()
    assert "1 位居民评分" in phone.locator("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
