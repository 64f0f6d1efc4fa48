"""Each role's console in Chromium (issue 17): sign in by the login form, then reach every task
by clicking only (no typed address after the login page), and photograph the console for the
handbook (artifacts/screenshots/console-<role>.png, a laptop's 1280x800, copied into
docs/screenshots/ by scripts/handbook_screenshots.py)."""

import re

import pytest
from playwright.sync_api import expect

from tests.a11y.conftest import AXE
from tests.a11y.test_accessibility import serious_violations
from tests.browser.conftest import PHONE, seeded_server
from tests.servers import REPO

# Ignored; scripts/handbook_screenshots.py copies them into docs/screenshots/ for the handbook.
HANDBOOK_SHOTS = REPO / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    yield from seeded_server(
        tmp_path_factory, "consoles-instance", "tests.communities.seed_consoles"
    )


@pytest.fixture
def laptop(chromium):
    context = chromium.new_context(
        viewport={"width": 1280, "height": 800},
        locale="zh-CN",
        device_scale_factor=1,
        extra_http_headers={"Accept-Language": "zh-CN"},
        bypass_csp=True,  # axe-core is added to the page as a script
    )
    page = context.new_page()
    yield page
    context.close()


def open_console(page, server, who: str, title: str):
    """The one typed address: the login page. Then the console is reached by clicking."""
    seed = server.seed
    page.goto(server.url + "/login")
    page.get_by_label("用户名").fill(seed["users"][who])
    page.get_by_label("密码").fill(seed["password"])
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name=seed["name"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def task(page, key: str):
    return page.locator(f'[data-task="{key}"]')


def count_of(page, key: str) -> str:
    return task(page, key).locator(".badge").inner_text()


def reach(page, key: str, link: str | re.Pattern, heading: str | re.Pattern, *, back=True):
    """Click ``link`` in the console's ``key`` task; the task page's heading must show."""
    task(page, key).get_by_role("link", name=link, exact=isinstance(link, str)).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert "抱歉" not in page.title()
    if back:
        back_to_console(page)


def back_to_console(page):
    """The browser's Back button, as a person would press it."""
    page.go_back()


def photograph(page, role: str) -> None:
    """The console for the handbook; axe-core finds nothing serious on it first."""
    HANDBOOK_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(HANDBOOK_SHOTS / f"console-{role}.png"))
    if AXE.exists():
        assert serious_violations(page, AXE.read_text()) == []


def test_organizer_reaches_every_task(busy_server, laptop):
    page = laptop
    open_console(page, busy_server, "organizer", "组织者工作台")
    assert count_of(page, "triage") == "待办 3"
    assert count_of(page, "proposals") == "待办 2"
    assert count_of(page, "objections") == "待办 2"
    photograph(page, "organizer")
    reach(page, "triage", "打开新需求列表", "处理需求")
    reach(page, "proposals", "待评审0", "待评审0")
    reach(page, "proposals", "全部项目方案", "项目方案")
    reach(page, "ballots", "2026年投票", "2026年投票")
    reach(page, "ballots", "全部投票", "投票")
    reach(page, "objections", "2025年度", "资金分配")
    reach(page, "rounds", "轮次规则与阶段", "2026年度")
    reach(page, "registry", "选民名册与选民卡", "选民名册")
    reach(page, "assemblies", "2026年议事会", "签到台")
    reach(page, "assemblies", "全部议事会", "居民议事会")
    reach(page, "paper_entry", "2026年投票", "录入纸质选票")
    reach(page, "paper_disputes", re.compile("^选票 "), re.compile("两次录入不一致"))
    reach(page, "presenter", "主持人：选择大屏显示内容", "主持人控制")
    reach(page, "delivery", "中心花园补绿", "中心花园补绿")


def test_reviewer_reaches_the_proposals_to_review(busy_server, laptop):
    page = laptop
    open_console(page, busy_server, "reviewer", "评审员工作台")
    assert count_of(page, "review") == "待办 2"
    photograph(page, "reviewer")
    reach(page, "review", "待评审1", "待评审1", back=False)
    expect(page.get_by_role("button", name=re.compile("提交评审|评审"))).not_to_have_count(0)
    page.go_back()
    reach(page, "review", "全部待评审的方案", "项目方案")
    reach(page, "proposals", "全部项目方案", "项目方案")


def test_clerk_reaches_the_desk_walk_ins_and_paper_entry(busy_server, laptop):
    page = laptop
    open_console(page, busy_server, "clerk", "计票员工作台")
    assert count_of(page, "paper_entry") == "待办 1"
    assert page.get_by_text("处理需求").count() == 0  # triage is the organizer's
    photograph(page, "clerk")
    reach(page, "assemblies", "2026年议事会", "签到台", back=False)
    page.get_by_role("link", name="没带卡？查找居民（现场登记）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("现场登记：查找居民")
    page.go_back()
    page.go_back()
    reach(page, "assemblies", "全部议事会", "居民议事会")
    reach(page, "paper_entry", "2026年投票", "录入纸质选票")
    reach(page, "ballots", "2026年投票", "2026年投票")


def test_supervisor_reaches_disputes_approvals_and_sign_offs(busy_server, laptop):
    page = laptop
    open_console(page, busy_server, "supervisor", "监督委员会工作台")
    assert count_of(page, "paper_disputes") == "待办 1"
    assert count_of(page, "approvals") == "待办 1"
    assert count_of(page, "sign_offs") == "待办 2"
    photograph(page, "supervisor")
    reach(page, "paper_disputes", re.compile("^选票 "), re.compile("两次录入不一致"), back=False)
    expect(page.locator("main form")).not_to_have_count(0)  # the supervisor decides here
    page.go_back()
    reach(page, "approvals", "中心花园补绿", "中心花园补绿", back=False)
    expect(page.get_by_role("button", name=re.compile("批准"))).not_to_have_count(0)
    page.go_back()
    reach(page, "sign_offs", "中心花园补绿", "中心花园补绿", back=False)
    expect(page.get_by_role("button", name="验收该节点")).to_have_count(1)
    page.go_back()
    reach(page, "delivery", "中心花园补绿", "中心花园补绿")
    reach(page, "ballots", "2026年投票", "2026年投票")


def test_organization_member_reaches_its_proposals_and_delivery(busy_server, laptop):
    page = laptop
    open_console(page, busy_server, "member", "社会组织工作台")
    assert count_of(page, "own_proposals") == "待办 2"
    photograph(page, "member")
    reach(page, "own_proposals", "草稿", "草稿")
    reach(page, "own_proposals", "退回修改", "退回修改")
    reach(page, "own_proposals", "本组织的方案", "项目方案")
    reach(page, "delivery", "中心花园补绿", "中心花园补绿", back=False)
    # The project's proposal page and its delivery page link to each other.
    page.get_by_role("link", name="方案与预算").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("中心花园补绿")
    page.get_by_role("link", name="项目实施：节点、支出和结项").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("中心花园补绿")
    expect(page.get_by_role("button", name="提交结项报告")).not_to_have_count(0)


def test_several_roles_see_each_section_titled(busy_server, laptop):
    page = laptop
    open_console(page, busy_server, "several", "忙碌社区")
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert headings == ["组织者工作台", "监督委员会工作台"]


def test_a_console_fits_a_phone(busy_server, chromium):
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    open_console(page, busy_server, "supervisor", "监督委员会工作台")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    small = page.evaluate(
        """[...document.querySelectorAll('main a, main button')]
             .filter(e => { const r = e.getBoundingClientRect();
                            return r.width > 0 && r.height < 44; })
             .map(e => e.textContent.trim())"""
    )
    assert small == []
    context.close()
