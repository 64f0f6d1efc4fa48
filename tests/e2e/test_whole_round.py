"""A whole participatory-budgeting round, end to end, in Chromium against a real gunicorn server.

The database starts empty: ``civicvote db upgrade``, an administrator from ``create-admin`` and
the demo district from ``seed-demo`` for its staff, organizations and registry (setting up a
community and its round through the screens is tests/e2e/test_round_setup.py). The
round used is the demo's Fengqiao round, which is still collecting needs, so every later phase is
driven through the product's own screens: residents' phones (360x740), staff laptops and the
public board (1920x1080). One step is not a screen: the seven-day public notice is made to have
ended by moving ``allocation_runs.notice_ends_at`` into the past in the database.

Screenshots of every step go to artifacts/screenshots/e2e-NN-*.png;
``python scripts/handbook_screenshots.py`` copies them into docs/screenshots/ for the handbook.
"""

import io
import json
import re
import sqlite3
import urllib.request
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from civicvote.allocation.pabulib import parse_pb
from tests.browser.conftest import locale_context, screenshot
from tests.e2e.staff import ADMIN, PASSWORD, Staff, flash
from tests.servers import Server, civicvote, server_env

pytestmark = pytest.mark.browser

SLUG = "fengqiao"
PHONE = {"width": 360, "height": 740}
TV = {"width": 1920, "height": 1080}
NEEDS = [
    ("儿童游乐场地面太硬", "滑梯下面是水泥地，孩子摔倒容易受伤。", "儿童乐园", "儿童友好"),
    ("楼道没有扶手", "老人上下楼很吃力，希望楼道加装扶手。", "1-3栋楼道", "为老服务"),
]
PROPOSALS = [
    # title, summary, category, need, beneficiaries, [(item, quantity, unit, yuan)]
    (
        "儿童乐园塑胶地面",
        "在儿童乐园铺设150平方米塑胶地面。",
        "儿童友好",
        "儿童游乐场地面太硬",
        "300",
        [("塑胶地面", "150", "平方米", "260"), ("排水处理", "1", "项", "3500")],
    ),
    (
        "楼道加装扶手",
        "为1-3栋的楼道加装不锈钢扶手，方便老人上下楼。",
        "为老服务",
        "楼道没有扶手",
        "180",
        [("不锈钢扶手", "60", "米", "180.50"), ("安装人工", "6", "单元", "250")],
    ),
]


@pytest.fixture(scope="module")
def round_server(tmp_path_factory):
    """An empty database made the way an administrator would, served by gunicorn."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    # Staff take turns on one laptop: more logins a minute than the default limit allows.
    env = server_env(instance, CIVICVOTE_RATELIMIT_LOGIN="100 per minute")
    civicvote(["db", "upgrade"], env)
    civicvote(
        ["create-admin", "--username", ADMIN[0], "--password", ADMIN[1]]
        + ["--display-name", "区管理员"],
        env,
    )
    civicvote(["seed-demo"], env)
    server = Server(env, log_path=instance / "server.log")
    server.db_path = instance / "civicvote.db"
    yield server
    server.stop()


def _phone(chromium):
    page = locale_context(chromium, "zh-CN", PHONE).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def _close(page):
    page.context.close()


def _decode(element) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(element.screenshot())))
    assert len(results) == 1
    return results[0].text


def _cast(chromium, link: str, picks: list[int], shots=None) -> None:
    """A resident opens a personal link on a phone, chooses, reviews and confirms."""
    phone = _phone(chromium)
    phone.goto(link)
    assert link.rsplit("/", 1)[1] not in phone.url  # the token leaves the address bar
    options = phone.locator(".ballot-option")
    expect(options).to_have_count(2)
    for i in picks:
        options.nth(i).click()
    if shots:
        screenshot(phone, shots[0])
    phone.locator("form.ballot-form button[type=submit]").click()
    if shots:
        screenshot(phone, shots[1])
    phone.locator(".confirm-form button[name=confirm]").click()
    expect(phone.locator("#receipt-code")).to_be_visible()
    if shots:
        screenshot(phone, shots[2])
    _close(phone)


def _advance(staff, round_path: str, to_label: str):
    page = staff.go(round_path)
    page.get_by_role("button", name=re.compile("进入下一阶段")).click()
    flash(page, to_label)


def test_whole_round(round_server, chromium, tmp_path):  # noqa: C901 (one story, told in order)
    base = round_server.url
    staff = Staff(chromium, base)

    # 1. The administrator gives the demo's staff their roles in Fengqiao.
    page = staff.login(*ADMIN)
    staff.go("/admin/users")
    grants = (
        ("org", "org_member"),
        ("reviewer", "reviewer"),
        ("supervisor", "supervisor"),
        ("clerk", "clerk"),
    )
    for username, role in grants:
        form = page.locator("form").filter(has=page.locator("button[name=role-submit]"))
        form.get_by_label("用户名").fill(username)
        form.get_by_label("社区").select_option(label="枫桥社区")
        form.get_by_label("角色").select_option(role)
        form.get_by_role("button", name="授予角色").click()
        flash(page, "角色已授予。")
    expect(page.locator("tbody")).to_contain_text("枫桥社区: 居民监督委员会")
    screenshot(page, "e2e-01-admin-roles")

    # 2. The organizer checks the round's rules and prints the needs poster.
    page = staff.login("organizer-b")
    staff.go(f"/console/c/{SLUG}")
    href = page.get_by_role("link", name="轮次规则与阶段").get_attribute("href")
    round_id = int(re.search(r"/rounds/(\d+)$", href).group(1))
    round_path = f"/console/c/{SLUG}/rounds/{round_id}"
    staff.go(round_path)
    expect(page.get_by_label("总预算（元）")).to_have_value(re.compile(r"200,?000"))
    screenshot(page, "e2e-02-round-settings")
    staff.go(f"/c/{SLUG}/poster")
    expect(page.locator("svg.qr")).to_be_visible()
    assert _decode(page.locator("svg.qr")) == f"{base}/c/{SLUG}/needs/new"
    screenshot(page, "e2e-03-needs-poster")

    # 3. Residents scan the poster and submit needs from their phones.
    codes = []
    for n, (title, description, place, category) in enumerate(NEEDS):
        phone = _phone(chromium)
        phone.goto(f"{base}/c/{SLUG}/needs/new")
        phone.get_by_label("需要什么？").fill(title)
        phone.get_by_label("具体说明").fill(description)
        phone.get_by_label("在哪里？").fill(place)
        phone.get_by_label("类别").select_option(label=category)
        if n == 0:
            screenshot(phone, "e2e-04-resident-need-form")
        phone.get_by_role("button", name="提交需求").click()
        expect(phone.get_by_role("heading", name="谢谢，您的需求已收到")).to_be_visible()
        codes.append(phone.locator(".code").inner_text())
        if n == 0:
            screenshot(phone, "e2e-05-resident-need-received")
        _close(phone)

    # 4. The organizer accepts both needs, then opens the costing phase.
    staff.go(f"/console/c/{SLUG}/needs?status=new")
    screenshot(page, "e2e-06-organizer-needs")
    for title, *_ in NEEDS:
        staff.go(f"/console/c/{SLUG}/needs?status=new")
        page.get_by_role("link", name=re.compile(title)).first.click()
        page.get_by_role("button", name="采纳", exact=True).click()
        flash(page, "采纳")
    staff.go(f"/console/c/{SLUG}/needs?status=accepted")
    for title, *_ in NEEDS:
        expect(page.locator("main")).to_contain_text(title)
    phone = _phone(chromium)
    phone.goto(f"{base}/needs/track/{codes[0].replace(' ', '')}")
    expect(phone.locator(".badge").first).to_have_text("已采纳")
    screenshot(phone, "e2e-07-resident-need-accepted")
    _close(phone)
    _advance(staff, round_path, "项目方案编制")

    # 5. The organization member costs two proposals from the accepted needs and submits them.
    page = staff.login("org")
    proposal_ids = []
    for n, (title, summary, category, need, beneficiaries, items) in enumerate(PROPOSALS):
        staff.go(f"/console/c/{SLUG}/proposals/new")
        page.get_by_label("标题").fill(title)
        page.get_by_label("方案简介").fill(summary)
        page.get_by_label("类别").select_option(label=category)
        page.get_by_label(need).check()
        page.get_by_label("受益人数").fill(beneficiaries)
        rows = page.locator(".row-group")
        for i, (item, quantity, unit, yuan) in enumerate(items):
            rows.nth(i).get_by_label("项目").fill(item)
            rows.nth(i).get_by_label("数量").fill(quantity)
            rows.nth(i).get_by_label("单位").fill(unit)
            rows.nth(i).get_by_label("单价（元）").fill(yuan)
        if n == 0:
            screenshot(page, "e2e-08-proposal-costing")
        page.get_by_role("button", name="保存草稿").click()
        expect(page.get_by_text("草稿已保存，只有本组织可以看到。")).to_be_visible()
        page.get_by_role("button", name="提交评审").click()
        expect(page.get_by_text("方案已提交评审，现已公开。")).to_be_visible()
        proposal_ids.append(int(re.search(r"/proposals/(\d+)", page.url).group(1)))
    expect(page.locator(".costing")).to_contain_text("¥12,330.00")  # 60 × 180.50 + 6 × 250
    screenshot(page, "e2e-09-proposal-submitted")

    # 6. Review: the organizer opens the review phase and a reviewer approves both.
    staff.login("organizer-b")
    _advance(staff, round_path, "方案审核")
    page = staff.login("reviewer")
    for n, proposal_id in enumerate(proposal_ids):
        staff.go(f"/console/c/{SLUG}/proposals/{proposal_id}")
        expect(page.get_by_role("heading", name="按本轮规则自动检查")).to_be_visible()
        page.get_by_label("评审意见", exact=True).select_option("approve")
        page.get_by_label("意见（公开；退回或不予通过时必填）").fill("预算合理，符合本轮规则。")
        if n == 0:
            screenshot(page, "e2e-10-reviewer-approves")
        page.get_by_role("button", name="提交评审意见").click()
        expect(page.get_by_text("评审意见已记录并公开。")).to_be_visible()
    phone = _phone(chromium)
    phone.goto(f"{base}/c/{SLUG}/proposals/{proposal_ids[0]}")
    expect(phone.locator("main")).to_contain_text("已通过审核，列入投票")
    screenshot(phone, "e2e-11-proposal-approved-public")
    _close(phone)

    # 7. The organizer moves to voting and creates the ballot with the two proposals.
    page = staff.login("organizer-b")
    _advance(staff, round_path, "投票")
    staff.go(f"/console/c/{SLUG}/rounds/{round_id}/ballots/new")
    page.locator("input[name=method][value=approval]").check()  # step 1: the method
    page.get_by_role("button", name="继续").click()
    page.get_by_label("标题").fill("2026年度枫桥社区居民议事会投票")
    page.get_by_label("投票形式").select_option("assembly")
    page.get_by_label("法定人数规则").select_option("minimum")
    page.get_by_label("法定人数（百分比或票数）").fill("3")
    # Live results in batches of 2 ballots (the smallest batch: five people vote here).
    page.get_by_label("实时结果每增加多少票更新一次（2 至 1000）").fill("2")
    for title, *_ in PROPOSALS:
        page.get_by_label(re.compile(re.escape(title))).check()
    screenshot(page, "e2e-12-ballot-console-new")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/ballots/\d+$"))
    ballot_id = int(page.url.rsplit("/", 1)[1])

    # 8. Voter cards for building 1 are issued and printed; the test reads them from the sheet.
    staff.go(f"/console/c/{SLUG}/ballots/{ballot_id}/cards")
    page.get_by_label("楼栋").select_option("1栋")
    page.get_by_label("最多发放张数").fill("4")
    page.get_by_role("button", name="发放选民卡并显示打印页").click()
    cards = page.locator("article.voter-card")
    expect(cards).to_have_count(4)
    screenshot(page, "e2e-13-voter-cards")
    voters = []
    for i in range(4):
        card = cards.nth(i)
        link = _decode(card.locator("svg.qr"))
        assert re.fullmatch(re.escape(base) + r"/v/[A-Za-z0-9_-]{22,}", link)
        short = card.locator(".short-code").inner_text().replace(" ", "")
        who = card.locator(".voter-card-voter").inner_text()
        voters.append({"link": link, "short": short, "who": who})

    # 9. The assembly is scheduled, the ballot opened, and the board is on the TV.
    staff.go(f"/console/c/{SLUG}/assemblies/new")
    page.get_by_label("投票").select_option(str(ballot_id))
    page.get_by_label("标题").fill("2026年度枫桥社区居民议事会")
    page.get_by_label("地点").fill("社区服务中心一楼")
    page.get_by_label("日期和时间").fill(
        (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(minutes=30))
        .replace(second=0, microsecond=0)
        .isoformat()[:16]
    )
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/assemblies(/\d+)?$"))
    staff.go(f"/console/c/{SLUG}/ballots/{ballot_id}")
    page.get_by_role("button", name="开启投票").click()
    expect(page.locator(".flash-success")).to_be_visible()
    screenshot(page, "e2e-14-ballot-open")

    tv_context = locale_context(chromium, "zh-CN", TV)
    tv = tv_context.new_page()
    tv.goto(f"{base}/c/{SLUG}/board")
    turnout = tv.locator(".turnout")
    expect(turnout).to_contain_text("已投票：0")
    screenshot(tv, "e2e-15-board-before")

    # 10. Residents check in at the desk: the scanner types their card link and Enter.
    staff.go(f"/console/c/{SLUG}/assemblies")
    screenshot(page, "e2e-16-assemblies")
    page.locator("li.card").filter(has_text="2026年度枫桥社区居民议事会").get_by_role(
        "link", name="打开签到台"
    ).click()
    scan = page.locator("input[name=code]")
    result = page.locator("#desk-result")
    attendance = page.locator("[data-live=attendance]")
    for n, voter in enumerate(voters[:3]):
        scan.fill(voter["link"])
        scan.press("Enter")
        expect(result).to_contain_text(voter["who"].split(" · ")[0])
        expect(attendance).to_have_text(str(n + 1))
        expect(scan).to_have_value("")
    screenshot(page, "e2e-17-checkin-desk")

    # 11. They vote on their phones through their personal links; the board follows live.
    choices = [[0, 1], [0], [1]]
    for n, voter in enumerate(voters[:3]):
        shots = ("e2e-18-resident-ballot", "e2e-19-resident-review", "e2e-20-resident-receipt")
        _cast(chromium, voter["link"], choices[n], shots if n == 0 else None)
        # Whoever reads the figures takes the batches (ballots/live.py). The board polls
        # between votes at a real assembly; here votes can come faster than its polls, so
        # read once after each, as it would.
        urllib.request.urlopen(f"{base}/api/v1/ballots/{ballot_id}").close()
    # The board moves in batches of 2, a batch behind: the first two are taken, not yet shown.
    expect(tv.locator(".live-batch").first).to_contain_text("再有 4 票后更新", timeout=15_000)
    expect(turnout).to_contain_text("已投票：0")

    # A neighbour came without her card: the desk finds her in the registry, checks her in,
    # and with a second staff member (the clerk) confirming, shows a one-time QR code that
    # opens her ballot on her own phone; her card stops working.
    page.locator("a[href$='/walk-in']").click()
    page.locator("input[name=q]").fill("1栋-2单元")
    page.locator("main form[role=search] button").click()
    rows = page.locator("table.walk-in-results tbody tr").filter(has=page.locator("button"))
    expect(rows.first).to_be_visible()
    rows.first.locator("button.primary").click()
    page.locator("table.walk-in-results a.button.primary").first.click()
    page.get_by_label("忘带选民卡").check()
    page.get_by_label("第二名工作人员：账号").fill("clerk")
    page.get_by_label("第二名工作人员：密码").fill(PASSWORD)
    page.locator("form.walk-in-confirm button[type=submit]").click()
    qr = page.locator(".walk-in-qr svg.qr")
    expect(qr).to_be_visible()
    screenshot(page, "e2e-21-walk-in-qr")
    _cast(chromium, _decode(qr), [0])
    expect(turnout).to_contain_text("已投票：2", timeout=15_000)  # the first batch
    screenshot(tv, "e2e-22-board-live")

    # A fourth card was never checked in: an assembly-only ballot refuses it online. Its holder
    # votes on paper: sheets are printed from the console, the desk finds the household on the
    # registry by its address and hands one over, and two clerks enter that sheet independently.
    phone = _phone(chromium)
    phone.goto(voters[3]["link"])
    expect(phone.locator(".ballot-option")).to_have_count(0)
    _close(phone)
    staff.go(f"/console/c/{SLUG}/ballots/{ballot_id}/paper/sheets")
    page.get_by_label("张数").fill("2")
    page.get_by_role("button", name="生成选票并打印").click()
    sheet = page.locator(".sheet-number").first.inner_text()
    screenshot(page, "e2e-23-paper-sheets")
    staff.go(f"/console/c/{SLUG}/ballots/{ballot_id}/paper/hand-over")
    page.get_by_label("名册编号、姓名或地址").fill(voters[3]["who"].split(" · ")[0])
    page.locator("main form[role=search] button").click()
    page.get_by_role("button", name="发放纸质选票").first.click()
    flash(page, "请把一张纸质选票交给")
    for n in range(2):  # the organizer at the desk, then the clerk
        if n == 1:
            page = staff.login("clerk")
        staff.go(f"/console/c/{SLUG}/ballots/{ballot_id}/paper")
        page.locator("input[name=sheet]").fill(sheet)
        page.locator(".ballot-option").nth(1).click()
        if n == 1:
            screenshot(page, "e2e-23-paper-ballot-second-entry")
        page.get_by_role("button", name="保存本次录入").click()
        flash(page, ("已保存。现在需要第二名录入员", "两次录入一致：纸质选票已计入。")[n])
    expect(turnout).to_contain_text("已投票：2")  # the fifth alone moves nothing
    page = staff.login("organizer-b")

    # 12. The organizer closes the ballot; the board shows it ended.
    staff.go(f"/console/c/{SLUG}/ballots/{ballot_id}")
    page.get_by_role("button", name=re.compile("结束投票")).click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(tv.locator(".badge-line")).to_contain_text("已结束", timeout=15_000)
    screenshot(tv, "e2e-24-board-closed")

    # 13. The allocation runs in the results console and is published for the notice.
    allocation = f"/console/c/{SLUG}/rounds/{round_id}/allocation"
    staff.go(allocation)
    page.get_by_role("button", name="计票并公示初步结果").click()
    expect(page.get_by_role("status")).to_have_text("初步结果已公示。")
    screenshot(page, "e2e-25-allocation-console")

    # The presenter puts the funded projects on the screens; the TV follows without reload.
    staff.go(f"/console/c/{SLUG}/board")
    page.get_by_role("button", name="获资助项目").click()
    flash(page, "获资助项目")
    screenshot(page, "e2e-26-presenter-control")
    funded = tv.locator(".panel-funded")
    expect(funded).to_have_class(re.compile("solo"), timeout=15_000)
    expect(funded).to_contain_text("楼道加装扶手")
    screenshot(tv, "e2e-27-board-funded")
    tv_context.close()

    # 14. A resident objects from a phone with the card code; the organizer answers.
    phone = _phone(chromium)
    phone.goto(f"{base}/c/{SLUG}")
    phone.get_by_role("link", name="结果与异议").click()
    expect(phone.locator("table.results")).to_contain_text("获得资助")
    phone.get_by_label("您的异议").fill("请说明扶手的单价是怎么定的。")
    phone.get_by_label("您的投票卡代码（或在下面留下联系方式）").fill(voters[1]["short"])
    phone.get_by_role("button", name="提交异议").click()
    expect(phone.get_by_role("status")).to_contain_text("您的异议已登记")
    screenshot(phone, "e2e-28-resident-objection")
    staff.go(allocation)
    page.get_by_label("公开答复").fill("单价参考了区里三家供应商的报价，取最低价。")
    page.get_by_role("button", name="发布答复").click()
    expect(page.get_by_role("status")).to_have_text("答复已发布。")
    phone.reload()
    expect(phone.locator("main")).to_contain_text("取最低价")
    screenshot(phone, "e2e-29-objection-answered")
    _close(phone)

    # 15. The notice period is over. There is no screen for time: move the end of the notice
    # into the past directly in the database, then the organizer makes the result final.
    with sqlite3.connect(round_server.db_path) as connection:
        connection.execute(
            "UPDATE allocation_runs SET notice_ends_at = ? WHERE status = 'provisional'",
            ((datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)).isoformat(sep=" "),),
        )
    connection.close()
    staff.go(allocation)
    page.get_by_role("button", name="确定最终结果").click()
    expect(page.get_by_role("status")).to_contain_text("结果已确定")
    screenshot(page, "e2e-30-result-final")

    # 15b. Anyone recounts: from the final results page a resident downloads the anonymised
    # ballots, and civicvote counts the file again: it funds what the page says.
    phone = _phone(chromium)
    phone.goto(f"{base}/c/{SLUG}")
    phone.get_by_role("link", name="结果与异议").click()
    expect(phone.locator("main")).to_contain_text("civicvote allocate")
    with phone.expect_download() as download:
        phone.get_by_role("link", name="自己重新计票：下载匿名选票（Pabulib 格式）").click()
    ballots_file = tmp_path / download.value.suggested_filename
    download.value.save_as(ballots_file)
    funded_on_page = set(phone.locator("table.results tr.funded .title-cell").all_inner_texts())
    _close(phone)
    counted = civicvote(["allocate", str(ballots_file), "--json"], round_server.env)
    recount = json.loads(counted.stdout)
    election = parse_pb(ballots_file.read_text(encoding="utf-8"))
    names = {p.id: p.columns["name"] for p in election.projects}
    assert funded_on_page and {names[pid] for pid in recount["selected"]} == funded_on_page

    # 16. Delivery: the organization member plans and reaches a milestone, reports progress
    # with a photo, and records a payment.
    project = proposal_ids[1]
    console = f"/console/c/{SLUG}/projects/{project}"
    page = staff.login("org")
    staff.go(console)
    page.get_by_label("节点").fill("扶手安装完成")
    page.get_by_label("计划日期").fill(date.today().isoformat())
    page.get_by_role("button", name="添加节点").click()
    expect(page.get_by_role("status")).to_have_text("节点已添加。")
    page.get_by_label("完成日期").fill(date.today().isoformat())
    page.get_by_role("button", name="标记为已完成").click()
    photo = tmp_path / "扶手.png"
    Image.new("RGB", (320, 240), (90, 140, 90)).save(photo)
    progress = page.locator("form").filter(has=page.locator("input[name=action][value=progress]"))
    progress.locator("textarea").fill("1-3栋楼道扶手已全部安装。")
    progress.locator("input[inputmode=numeric]").fill("100")
    progress.locator("input[type=file]").set_input_files(str(photo))
    progress.locator("button[type=submit]").click()
    expect(page.get_by_role("status")).to_have_text("进展已发布。")
    spending = page.locator("form").filter(has=page.locator("input[name=action][value=spending]"))
    spending.locator("input[type=date]").fill(date.today().isoformat())
    spending.locator("input[name$=item]").fill("不锈钢扶手采购")
    spending.locator("input[inputmode=decimal]").fill("10830")
    spending.locator("input[name$=payee]").fill("苏州某五金公司")
    spending.locator("select[name$=line_item]").select_option(label="不锈钢扶手")
    fund = spending.locator("select[name$=fund_source] option", has_text="为民服务专项资金")
    spending.locator("select[name$=fund_source]").select_option(fund.get_attribute("value"))
    spending.locator("button[type=submit]").click()
    expect(page.get_by_role("status")).to_have_text("支出已登记。")
    page.get_by_label("结项报告").fill("全部完成：扶手60米，6个单元。")
    page.get_by_role("button", name="提交结项报告").click()
    expect(page.get_by_role("status")).to_have_text("结项报告已提交。")
    screenshot(page, "e2e-31-delivery-console")

    # 17. The supervisory committee signs off the milestone and the completion report.
    page = staff.login("supervisor")
    staff.go(console)
    page.get_by_label("意见（公开）").first.fill("已到现场查看，扶手牢固。")
    page.get_by_role("button", name="验收该节点").click()
    expect(page.get_by_role("status")).to_have_text("节点已验收。")
    page.get_by_label("意见（公开）").first.fill("结项材料齐全，同意验收。")
    page.locator("form").filter(
        has=page.locator("input[name=action][value=signoff_completion]")
    ).locator("button[type=submit]").click()
    expect(page.get_by_role("status")).to_have_text("结项报告已验收。")
    screenshot(page, "e2e-32-supervisor-signoff")

    # 18. Residents rate the project with their card codes, on their phones.
    for n, (voter, stars) in enumerate(zip(voters[:2], ("5 · 非常满意", "4 · 满意"), strict=True)):
        phone = _phone(chromium)
        phone.goto(f"{base}/c/{SLUG}/projects/{project}")
        if n == 0:
            screenshot(phone, "e2e-33-project-public")
        phone.get_by_role("link", name="为这个项目打分").click()
        phone.get_by_label("您的投票卡代码").fill(voter["short"])
        phone.get_by_label(stars).check()
        phone.get_by_label("意见（选填）").fill("上下楼方便多了，谢谢！")
        if n == 0:
            screenshot(phone, "e2e-34-resident-rates")
        phone.get_by_role("button", name="保存我的评分").click()
        expect(phone.get_by_role("status")).to_contain_text("您的评分已保存")
        expect(phone.locator("main")).to_contain_text(f"{n + 1} 位居民评分")
        _close(phone)

    # 19. The round report gathers it all.
    staff.go(f"/c/{SLUG}/rounds/{round_id}/report")
    expect(page.locator("main")).to_contain_text("楼道加装扶手")
    screenshot(page, "e2e-35-round-report")
    staff.context.close()
