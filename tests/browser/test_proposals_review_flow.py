"""An organization member drafts and submits a proposal; a reviewer returns it, the member
revises it, and the reviewer approves it. Chromium on a 360×740 phone, screenshots saved."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, log_in, screenshot
from tests.servers import Server, civicvote, run_python, server_env

# Run once against the demo database: the Fengqiao round (collecting needs) gets two accepted
# needs, the demo organization member and reviewer get roles there, and one proposal is
# already submitted for the reviewer's flow.
SETUP = """
from civicvote import create_app
from civicvote.accounts.models import Membership, User
from civicvote.communities.models import Community
from civicvote.extensions import db
from civicvote.intake.models import Need
from civicvote.intake.services import new_tracking_code
from civicvote.proposals.drafts import save_draft
from civicvote.proposals.review import submit

app = create_app()
with app.app_context():
    community = db.session.scalar(db.select(Community).filter_by(slug="fengqiao"))
    funding_round = community.rounds[-1]
    org_user = db.session.scalar(db.select(User).filter_by(username="org"))
    reviewer = db.session.scalar(db.select(User).filter_by(username="reviewer"))
    db.session.add(Membership(user_id=org_user.id, community_id=community.id, role="org_member"))
    db.session.add(Membership(user_id=reviewer.id, community_id=community.id, role="reviewer"))
    needs = []
    for title, category in (("儿童游乐场地面太硬", "children"), ("楼道没有扶手", "elderly")):
        need = Need(community_id=community.id, round_id=funding_round.id, title=title,
                    tracking_code=new_tracking_code(), category_code=category, place="小区",
                    status="accepted", support_count=12)
        db.session.add(need)
        needs.append(need)
    db.session.commit()
    proposal = save_draft(
        funding_round, org_user,
        {"title": "儿童乐园塑胶地面", "summary": "铺设150平方米塑胶地面。",
         "category_code": "children", "beneficiaries_count": 300, "location": "儿童乐园"},
        items=[("塑胶地面", "150", "平方米", "260")], need_ids=[needs[0].id],
    )
    submit(proposal, org_user)
    print(proposal.id)
"""


@pytest.fixture(scope="module")
def review_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("proposals-instance")
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    proposal_id = run_python(env, "-c", SETUP)
    server = Server(env, log_path=instance / "server.log")
    server.proposal_id = proposal_id
    yield server
    server.stop()


def _login(page, url, username):
    page.context.clear_cookies()  # whoever was signed in on this phone before
    log_in(page, url, username, DEMO_PASSWORD)


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_member_drafts_and_submits_a_proposal(review_server, phone):
    phone.on("dialog", lambda dialog: dialog.accept())
    _login(phone, review_server.url, "org")
    phone.goto(review_server.url + "/console/c/fengqiao")
    phone.get_by_role("link", name="项目方案").first.click()
    phone.get_by_role("link", name="新建方案").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("新建方案")
    phone.get_by_label("标题").fill("楼道加装扶手")
    phone.get_by_label("方案简介").fill("为3栋楼的楼道加装不锈钢扶手，方便老人上下楼。")
    phone.get_by_label("类别").select_option(label="为老服务")
    phone.get_by_label("楼道没有扶手").check()
    phone.get_by_label("受益人数").fill("180")
    # A cost with three decimals is refused with a message on the line, nothing saved.
    rows = phone.locator(".row-group")
    rows.nth(0).get_by_label("项目").fill("不锈钢扶手")
    rows.nth(0).get_by_label("数量").fill("60")
    rows.nth(0).get_by_label("单位").fill("米")
    rows.nth(0).get_by_label("单价（元）").fill("180.505")
    phone.get_by_role("button", name="保存草稿").click()
    expect(phone.get_by_text("金额最多两位小数（到分）。")).to_be_visible()
    screenshot(phone, "proposals-draft-error-zh")
    rows = phone.locator(".row-group")
    rows.nth(0).get_by_label("单价（元）").fill("180.50")
    rows.nth(1).get_by_label("项目").fill("安装人工")
    rows.nth(1).get_by_label("数量").fill("6")
    rows.nth(1).get_by_label("单位").fill("单元")
    rows.nth(1).get_by_label("单价（元）").fill("250")
    screenshot(phone, "proposals-draft-form-zh")
    phone.get_by_role("button", name="保存草稿").click()
    expect(phone.get_by_text("草稿已保存，只有本组织可以看到。")).to_be_visible()
    # 60 × ¥180.50 + 6 × ¥250 = ¥12,330.00, computed by the server.
    assert "¥12,330.00" in phone.locator(".costing").inner_text()
    assert _no_horizontal_scroll(phone)
    screenshot(phone, "proposals-draft-saved-zh")
    phone.get_by_role("button", name="提交评审").click()
    expect(phone.get_by_text("方案已提交评审，现已公开。")).to_be_visible()
    expect(phone.locator(".badge").first).to_have_text("已提交审核")
    screenshot(phone, "proposals-submitted-zh")
    phone.get_by_role("link", name="公开页面").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("楼道加装扶手")
    assert "¥12,330.00" in phone.locator("main").inner_text()


def test_reviewer_returns_then_approves(review_server, phone):
    phone.on("dialog", lambda dialog: dialog.accept())
    url = review_server.url
    proposal_path = f"/console/c/fengqiao/proposals/{review_server.proposal_id}"
    _login(phone, url, "reviewer")
    phone.goto(url + "/console/c/fengqiao/proposals")
    phone.get_by_role("link", name="儿童乐园塑胶地面").first.click()
    expect(phone.get_by_role("heading", name="按本轮规则自动检查")).to_be_visible()
    phone.get_by_label("评审意见", exact=True).select_option("return")
    phone.get_by_label("意见（公开；退回或不予通过时必填）").fill("请补充地面下的排水处理费用。")
    screenshot(phone, "proposals-review-return-zh")
    phone.get_by_role("button", name="提交评审意见").click()
    expect(phone.get_by_text("评审意见已记录并公开。")).to_be_visible()

    # The organization revises and resubmits.
    _login(phone, url, "org")
    phone.goto(url + proposal_path)
    expect(phone.get_by_text("请补充地面下的排水处理费用。")).to_be_visible()
    phone.get_by_role("link", name="修改", exact=True).click()
    rows = phone.locator(".row-group")
    rows.nth(1).get_by_label("项目").fill("排水处理")
    rows.nth(1).get_by_label("数量").fill("1")
    rows.nth(1).get_by_label("单位").fill("项")
    rows.nth(1).get_by_label("单价（元）").fill("3500")
    phone.get_by_role("button", name="保存草稿").click()
    phone.get_by_role("button", name="重新提交评审").click()
    expect(phone.locator(".badge").first).to_have_text("已提交审核")

    # The reviewer sees what changed and approves.
    _login(phone, url, "reviewer")
    phone.goto(url + proposal_path)
    changes = phone.locator(".changes").inner_text()
    assert "新增明细：排水处理" in changes
    phone.get_by_label("评审意见", exact=True).select_option("approve")
    phone.get_by_role("button", name="提交评审意见").click()
    expect(phone.get_by_text("评审意见已记录并公开。")).to_be_visible()

    phone.goto(url + f"/c/fengqiao/proposals/{review_server.proposal_id}")
    main = phone.locator("main").inner_text()
    assert "已通过审核，列入投票" in main
    assert "请补充地面下的排水处理费用。" in main
    assert re.search(r"¥42,500\.00", main)  # 150 × ¥260 + ¥3,500
    assert _no_horizontal_scroll(phone)
    screenshot(phone, "proposals-approved-public-zh")
